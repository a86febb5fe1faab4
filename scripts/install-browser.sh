#!/usr/bin/env bash
# Installs what the browser and integration checks need, from Debian's apt (idempotent: a no-op once present):
#   chromium  - tests/api/test_web.py drives /usr/bin/chromium (Playwright's own browser download is blocked here)
#   nodejs    - `node --check` on the JavaScript of app/web/ and integrations/
#   php-cli   - `php -l` on the WordPress plugin
# Never fails CI on its own: a check whose tool is missing skips and says why.
set -uo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v php >/dev/null 2>&1 || missing+=(php-cli)
if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-browser: chromium, node and php already present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-browser: cannot install ${missing[*]} (not root or no apt-get); those checks will skip" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq || echo "install-browser: apt-get update failed" >&2
for package in "${missing[@]}"; do
  if apt-get install -y -qq --no-install-recommends "$package" >/dev/null; then
    echo "install-browser: installed $package"
  else
    echo "install-browser: could not install $package; the checks that need it will skip" >&2
  fi
done
exit 0
