#!/usr/bin/env bash
# The WordPress plugin inside a real WordPress (issue 13). Installs what is missing (apt, pip), then brings
# up, all on free loopback ports under one temp folder: MariaDB (its own datadir), WordPress 6.8 (Debian
# trixie's package, unpacked with dpkg -x), PHP's built-in server (router, 4 workers) and `claimsift serve`
# (API keys on). Installs WordPress with its installer, copies and activates the plugin, points it at the
# service, and runs integrations/wordpress/tests (the block editor in Debian's Chromium through Playwright,
# the bulk check through WP-Cron, the permission checks, uninstall). Everything is stopped and removed on
# exit, failure included; the exit status is non-zero on any failure.
#
#   bash scripts/wordpress-e2e.sh              run the tests (extra arguments go to pytest, e.g. -k bulk)
#   bash scripts/wordpress-e2e.sh --up         bring it all up, print the addresses, wait for Ctrl-C
#
# Leaves tests/artifacts/wordpress-editor.png and tests/artifacts/wordpress-e2e.json (git-ignored).
# The WordPress packages are cached in $CLAIMSIFT_WP_CACHE (default ~/.cache/claimsift-wordpress) and
# fetched again when older than a week (Debian ships security fixes as new package versions).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
PYTHON=${PYTHON:-python}
CACHE=${CLAIMSIFT_WP_CACHE:-$HOME/.cache/claimsift-wordpress}
ARTIFACTS=$REPO/tests/artifacts
SUITE=trixie # Debian 13: WordPress 6.8.x
APT_PACKAGES=(php-cli php-mysql php-xml php-mbstring php-curl mariadb-server chromium curl
  libjs-lodash libjs-underscore libjs-cropper)
WP_PACKAGES=(wordpress wordpress-theme-twentytwentyfive php-getid3)
STARTED=$SECONDS

MODE=test
if [ "${1:-}" = "--up" ]; then
  MODE=up
  shift
fi

log() { printf 'wordpress-e2e [%3ds] %s\n' "$((SECONDS - STARTED))" "$*"; }
fail() {
  printf 'wordpress-e2e: %s\n' "$*" >&2
  exit 1
}

# --- what this needs, installed when missing -----------------------------------------------------------

missing_apt_packages() {
  command -v php >/dev/null || echo php-cli
  if command -v php >/dev/null; then
    local modules
    modules=$(php -m) # not piped into grep -q: with pipefail, php's SIGPIPE would read as "missing"
    grep -qx mysqli <<<"$modules" || echo php-mysql
    grep -qx dom <<<"$modules" || echo php-xml
    grep -qx mbstring <<<"$modules" || echo php-mbstring
    grep -qx curl <<<"$modules" || echo php-curl
  fi
  command -v mariadbd >/dev/null || echo mariadb-server
  [ -x /usr/bin/chromium ] || echo chromium
  command -v curl >/dev/null || echo curl
  # WordPress's package links these libraries instead of shipping them.
  [ -e /usr/share/javascript/lodash/lodash.min.js ] || echo libjs-lodash
  [ -e /usr/share/javascript/underscore/underscore.min.js ] || echo libjs-underscore
  [ -e /usr/share/javascript/cropper/cropper.js ] || echo libjs-cropper
}

install_missing() {
  local missing
  mapfile -t missing < <(missing_apt_packages | sort -u)
  if [ "${#missing[@]}" -gt 0 ]; then
    [ "$(id -u)" -eq 0 ] || fail "missing ${missing[*]}: run as root or install them with apt-get"
    log "apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if ! "$PYTHON" -c "import playwright, pytest" 2>/dev/null; then
    log "pip install playwright pytest (versions from constraints.txt)"
    "$PYTHON" -m pip install -q -c constraints.txt playwright pytest pytest-asyncio httpx
  fi
}

# --- WordPress from Debian trixie, through a private apt state (the system's sources stay untouched) ---

debian_mirror() {
  # The mirror this machine already uses (deb822 .sources or one-line .list files).
  cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
    grep -v '^\s*#' | grep -m1 -oE 'https?://[^ ]+/debian/?(\s|$)' | tr -d '[:space:]' || true
}

fetch_wordpress_packages() {
  local debs=$CACHE/debs
  if [ -n "$(find "$debs" -name 'wordpress_*.deb' -mtime -7 2>/dev/null)" ]; then
    return
  fi
  local mirror
  mirror=$(debian_mirror)
  mirror=${mirror:-http://deb.debian.org/debian}
  log "fetching ${WP_PACKAGES[*]} from $mirror $SUITE"
  local apt_opts=(-o "Dir::Etc::SourceList=$CACHE/apt/$SUITE.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$CACHE/apt/lists" -o "Dir::Cache=$CACHE/apt/cache" -o APT::Sandbox::User=root)
  mkdir -p "$CACHE/apt/lists/partial" "$CACHE/apt/cache/archives/partial"
  echo "deb $mirror $SUITE main" >"$CACHE/apt/$SUITE.list"
  apt-get "${apt_opts[@]}" update -qq
  rm -rf "$debs.new" && mkdir -p "$debs.new"
  (cd "$debs.new" && apt-get "${apt_opts[@]}" download -qq "${WP_PACKAGES[@]}")
  rm -rf "$debs" && mv "$debs.new" "$debs"
}

unpack_wordpress() {
  local deb
  for deb in "$CACHE"/debs/*.deb; do
    dpkg -x "$deb" "$WORK/tree"
  done
  # lodash, underscore and cropper are relative links into /usr/share/javascript.
  ln -sfn /usr/share/javascript "$WORK/tree/usr/share/javascript"
  WP=$WORK/tree/usr/share/wordpress
  # Debian's wp-config.php is a loader for /etc/wordpress; this site gets its own.
  cat >"$WP/wp-config.php" <<EOF
<?php
define( 'DB_NAME', 'wp' ); define( 'DB_USER', 'wp' ); define( 'DB_PASSWORD', 'wp' );
define( 'DB_HOST', '127.0.0.1:$DB_PORT' ); define( 'DB_CHARSET', 'utf8mb4' ); define( 'DB_COLLATE', '' );
\$table_prefix = 'wp_';
foreach ( array( 'AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT' ) as \$k ) {
	define( \$k, '$(head -c 24 /dev/urandom | base64)' . \$k );
}
define( 'WP_HOME', '$WP_URL' ); define( 'WP_SITEURL', '$WP_URL' );
define( 'WP_ENVIRONMENT_TYPE', 'local' ); // application passwords over plain http
define( 'AUTOMATIC_UPDATER_DISABLED', true ); define( 'WP_HTTP_BLOCK_EXTERNAL', true ); // offline
define( 'WP_DEBUG', true ); define( 'WP_DEBUG_LOG', '$WORK/wp-debug.log' ); define( 'WP_DEBUG_DISPLAY', false );
define( 'CLAIMSIFT_BATCH_SIZE', 3 ); // several WP-Cron runs for the bulk test's posts
// The resume test waits seconds for the retries, not minutes: every PHP request may start WP-Cron, so
// failures come quickly there.
define( 'CLAIMSIFT_RETRY_DELAY', 1 ); define( 'CLAIMSIFT_RETRY_MAX_DELAY', 4 );
if ( ! defined( 'ABSPATH' ) ) { define( 'ABSPATH', __DIR__ . '/' ); }
require_once ABSPATH . 'wp-settings.php';
EOF
  # Every path that is not a file goes to index.php (the built-in server 404s paths with a dot otherwise).
  cat >"$WORK/router.php" <<'EOF'
<?php
$path = rawurldecode( parse_url( $_SERVER['REQUEST_URI'], PHP_URL_PATH ) );
if ( '/' !== $path && file_exists( $_SERVER['DOCUMENT_ROOT'] . $path ) ) {
	return false;
}
$_SERVER['SCRIPT_NAME']     = '/index.php';
$_SERVER['PHP_SELF']        = '/index.php';
$_SERVER['SCRIPT_FILENAME'] = $_SERVER['DOCUMENT_ROOT'] . '/index.php';
require $_SERVER['DOCUMENT_ROOT'] . '/index.php';
EOF
}

# --- the processes: each PID is kept and stopped on exit ----------------------------------------------

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() { # wait_for SECONDS PID WHAT COMMAND...: until COMMAND succeeds, while PID lives
  local limit=$1 pid=$2 what=$3
  local deadline=$((SECONDS + limit))
  shift 3
  until "$@" >/dev/null 2>&1; do
    kill -0 "$pid" 2>/dev/null || fail "$what exited before it was ready"
    [ "$SECONDS" -lt "$deadline" ] || fail "$what was not ready after $limit s"
    sleep 0.2
  done
}

start_claimsift() {
  SERVICE_PORT=$(free_port)
  SERVICE_URL=http://127.0.0.1:$SERVICE_PORT
  SERVICE_KEY=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  # The console script, as users start it; `python -m app` (this checkout's code) where the installed
  # script does not run, e.g. an editable install made before the CLI moved to app/commands.
  local serve=(claimsift serve)
  claimsift serve --help >/dev/null 2>&1 || serve=("$PYTHON" -m app serve)
  log "starting ${serve[*]}"
  CLAIMSIFT_API_KEYS=$SERVICE_KEY CLAIMSIFT_LOG_LEVEL=warning \
    "${serve[@]}" --host 127.0.0.1 --port "$SERVICE_PORT" >"$WORK/claimsift.log" 2>&1 &
  CLAIMSIFT_PID=$!
}

start_mariadb() {
  mariadb-install-db --no-defaults --datadir="$WORK/db" --user=root --auth-root-authentication-method=normal \
    --skip-test-db >"$WORK/db-install.log" 2>&1
  mariadbd --no-defaults --datadir="$WORK/db" --socket="$WORK/db.sock" --port="$DB_PORT" \
    --bind-address=127.0.0.1 --user=root --pid-file="$WORK/db.pid" --log-error="$WORK/db.err" \
    --skip-log-bin --innodb-buffer-pool-size=64M --innodb-log-file-size=16M >/dev/null 2>&1 &
  MARIADB_PID=$!
  wait_for 60 "$MARIADB_PID" MariaDB mariadb-admin --no-defaults --socket="$WORK/db.sock" -uroot ping
  mariadb --no-defaults --socket="$WORK/db.sock" -uroot -e "CREATE DATABASE wp;
    CREATE USER 'wp'@'127.0.0.1' IDENTIFIED BY 'wp'; GRANT ALL ON wp.* TO 'wp'@'127.0.0.1';"
}

start_php() {
  # Several workers: WordPress calls itself over HTTP (WP-Cron, the installer's permalink probe), which
  # a single-process server would deadlock on.
  PHP_CLI_SERVER_WORKERS=4 php -S "127.0.0.1:$WP_PORT" -t "$WP" "$WORK/router.php" >"$WORK/php-server.log" 2>&1 &
  PHP_PID=$!
  wait_for 30 "$PHP_PID" "php -S" curl -sf -o /dev/null "$WP_URL/wp-login.php"
}

wp_php() { # runs PHP code with WordPress loaded, as the CLI
  php -d display_errors=stderr -r "require '$WP/wp-load.php'; $1"
}

install_site() {
  ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
  curl -sf -o "$WORK/install.html" --data-urlencode weblog_title=Claimsift-E2E --data-urlencode user_name=admin \
    --data-urlencode "admin_password=$ADMIN_PASSWORD" --data-urlencode "admin_password2=$ADMIN_PASSWORD" \
    --data-urlencode pw_weak=1 --data-urlencode admin_email=admin@example.invalid --data-urlencode blog_public=0 \
    "$WP_URL/wp-admin/install.php?step=2"
  grep -q '<h1>Success!</h1>' "$WORK/install.html" || fail "the WordPress installer did not succeed ($WORK/install.html)"
  cp -r "$REPO/integrations/wordpress/claimsift" "$WP/wp-content/plugins/claimsift"
  # The editor's welcome guide off for the admin; the plugin active and pointed at the service.
  wp_php "
    update_user_meta( 1, \$wpdb->get_blog_prefix() . 'persisted_preferences', array( 'core/edit-post' => array( 'welcomeGuide' => false ), '_modified' => gmdate( 'c' ) ) );
    \$activated = activate_plugin( 'claimsift/claimsift.php' );
    if ( is_wp_error( \$activated ) ) { fwrite( STDERR, \$activated->get_error_message() ); exit( 1 ); }
    update_option( 'claimsift_settings', array( 'url' => '$SERVICE_URL', 'api_key' => '$SERVICE_KEY', 'timeout' => 20 ) );
    echo 'WordPress ', get_bloginfo( 'version' ), ', plugin ', CLAIMSIFT_VERSION, PHP_EOL;"
}

stop() { # stop PID [more PIDs]: TERM, then KILL after 10 s
  local pid
  for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    # "return 0", not "return": in an EXIT trap a bare return gives the script's exit status, and set -e
    # would end the cleanup there.
    [ "$alive" -eq 0 ] && return 0
    sleep 0.2
  done
  for pid in "$@"; do kill -9 "$pid" 2>/dev/null || true; done
}

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ "$status" -ne 0 ] && [ -n "${WORK:-}" ]; then
    local file
    for file in claimsift.log php-server.log wp-debug.log db.err; do
      [ -s "$WORK/$file" ] && { echo "--- last lines of $file"; tail -n 25 "$WORK/$file"; } >&2
    done
  fi
  if [ -n "${PHP_PID:-}" ]; then
    # The workers are the master's children; killing only the master leaves them serving.
    stop $(pgrep -P "$PHP_PID" || true) "$PHP_PID"
    log "php -S stopped"
  fi
  [ -n "${CLAIMSIFT_PID:-}" ] && stop "$CLAIMSIFT_PID" && log "claimsift serve stopped"
  [ -n "${MARIADB_PID:-}" ] && stop "$MARIADB_PID" && log "MariaDB stopped"
  [ -n "${WORK:-}" ] && rm -rf "$WORK"
  log "stopped and removed everything (exit $status)"
  exit "$status"
}

# --- main ----------------------------------------------------------------------------------------------

install_missing
fetch_wordpress_packages
WORK=$(mktemp -d /tmp/claimsift-wordpress.XXXXXX)
trap cleanup EXIT
trap 'exit 130' INT TERM
start_claimsift # loads the model while WordPress comes up
DB_PORT=$(free_port)
WP_PORT=$(free_port)
WP_URL=http://127.0.0.1:$WP_PORT
unpack_wordpress
start_mariadb
start_php
log "MariaDB on $DB_PORT, WordPress on $WP_URL"
install_site
wait_for 300 "$CLAIMSIFT_PID" "claimsift serve" curl -sf -o /dev/null "$SERVICE_URL/readyz"
log "claimsift serve ready on $SERVICE_URL"

export CLAIMSIFT_WP_URL=$WP_URL CLAIMSIFT_WP_ROOT=$WP CLAIMSIFT_WP_ADMIN_PASSWORD=$ADMIN_PASSWORD \
  CLAIMSIFT_WP_SERVICE_URL=$SERVICE_URL CLAIMSIFT_WP_SERVICE_KEY=$SERVICE_KEY CLAIMSIFT_WP_ARTIFACTS=$ARTIFACTS
if [ "$MODE" = up ]; then
  log "up: log in at $WP_URL/wp-login.php as admin / $ADMIN_PASSWORD; Ctrl-C stops everything"
  wait "$PHP_PID"
  exit 0
fi
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS/wordpress-editor.png" "$ARTIFACTS/wordpress-e2e.json"
log "running integrations/wordpress/tests"
"$PYTHON" -m pytest -q -p no:cacheprovider integrations/wordpress/tests "$@"
[ -s "$ARTIFACTS/wordpress-e2e.json" ] || fail "no $ARTIFACTS/wordpress-e2e.json"
[ -s "$ARTIFACTS/wordpress-editor.png" ] || fail "no $ARTIFACTS/wordpress-editor.png"
cat "$ARTIFACTS/wordpress-e2e.json"
log "passed"
