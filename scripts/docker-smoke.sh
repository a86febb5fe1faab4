#!/usr/bin/env bash
# CI smoke test of the Docker image and docker-compose.yml, as a user meets them:
#   Docker engine up (../shared/ci/docker-setup.sh when none runs) -> `docker compose up -d --build --wait`
#   exactly as the README says (packages from PyPI, no PyTorch, no variables but a free port) -> POST the
#   example article and a custom label set to /v1/extract on the published port -> check the labelled
#   responses and the image (size, no torch, non-root, offline start) -> always `docker compose down -v`,
#   and stop the dockerd this script started, whatever failed.
# Usage: scripts/docker-smoke.sh [--scale]   (--scale also runs the "scale" profile: replicas + nginx, and
#   loses a replica under load: scripts/lost_replica.py, 16 clients for 60 s, one replica killed and started)
# CS_SMOKE_PROJECT (default claimsift-smoke) and CS_IMAGE (default claimsift) name the compose project and
# the images, so two people can run it on one engine at once.
# Skips (exit 0, with a message) only where no Docker engine can be had: none running and no setup script.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${CLAIMSIFT_SHARED_DIR:-../shared}
SETUP=$SHARED/ci/docker-setup.sh
ARTICLE=$SHARED/data/example_article.txt
PROJECT=${CS_SMOKE_PROJECT:-claimsift-smoke}
# The README's promise for the default image. Builds here measure 394 MB (the 404 MB seen once held
# Swagger UI's source maps and unused builds, which the image leaves out); every build prints its size.
MAX_IMAGE_BYTES=400000000
OFFLINE_CONTAINER=$PROJECT-offline
export CS_IMAGE=${CS_IMAGE:-claimsift}
IMAGE=$CS_IMAGE:runtime
SCALE=$([[ ${1:-} == --scale ]] && echo 1 || echo 0)
started_at=$(date +%s)
dockerd_pid=""
log() { echo "[docker-smoke $(date +%T)] $*"; }
elapsed() { echo $(( $(date +%s) - $1 )); }

compose() { docker compose -p "$PROJECT" "$@"; }

cleanup() {
  local status=$?
  trap - EXIT
  if [[ $status -ne 0 ]] && docker info >/dev/null 2>&1; then
    log "FAILED (exit $status); last container logs:"
    compose --profile scale logs --no-color --tail 40 2>&1 || true
  fi
  if docker info >/dev/null 2>&1; then
    compose --profile scale down -v --remove-orphans >/dev/null 2>&1 || log "compose down failed"
    docker rm -f "$OFFLINE_CONTAINER" >/dev/null 2>&1 || true
  fi
  if [[ -n $dockerd_pid && $(cat "/proc/$dockerd_pid/comm" 2>/dev/null) == dockerd ]]; then
    log "stopping the dockerd this script started (pid $dockerd_pid)"
    kill "$dockerd_pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 0.5; done
  fi
  log "done in $(elapsed "$started_at") s, exit $status"
  exit "$status"
}
trap cleanup EXIT

start_engine() {
  if docker info >/dev/null 2>&1; then
    log "using the Docker engine that is already running"
    return
  fi
  if [[ ! -f $SETUP ]]; then
    log "SKIP: no Docker engine running and no $SETUP to start one"
    exit 0
  fi
  log "starting a Docker engine with $SETUP"
  local status=0
  bash "$SETUP" || status=$?
  # even when the setup failed later on, the dockerd it started is ours to stop
  dockerd_pid=$(cat /var/run/dockerd-ci.pid 2>/dev/null || true)
  return "$status"
}

# A free host port, so the smoke test never collides with a service someone runs on 8000.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

check_extract() {  # $1 = base URL
  python3 - "$1" "$ARTICLE" <<'PY'
import json, pathlib, sys, urllib.request

url, article_path = sys.argv[1], pathlib.Path(sys.argv[2])
if article_path.is_file():
    text = article_path.read_text(encoding="utf-8")
else:  # a clone without ../shared/data still smoke-tests the image
    print(f"note: {article_path} is absent; using a short built-in article")
    text = ("The council voted 7-2 on Monday to close the library. The decision was a mistake. "
            "The city should reopen it before the winter.")
request = urllib.request.Request(
    f"{url}/v1/extract", data=json.dumps({"text": text}).encode(), headers={"Content-Type": "application/json"}
)
with urllib.request.urlopen(request, timeout=60) as response:
    assert response.status == 200, response.status
    body = json.load(response)
labels = body["labels"]
sentences = body["sentences"]
assert set(labels) == {"fact", "assessment", "prescription"}, labels
assert len(sentences) >= 3, f"only {len(sentences)} sentences"
for s in sentences:
    assert text[s["start"]:s["end"]] == s["text"], s
    assert s["label"] in labels or s["uncertain"], s
    assert abs(sum(s["scores"].values()) - 1) < 1e-3 and set(s["scores"]) == set(labels), s
assert sum(body["counts"].values()) == len(sentences), body["counts"]
used = {s["label"] for s in sentences}
assert len(used) >= 2, f"every sentence got the same label {used}: the model is not discriminating"
print(f"extract ok: {len(sentences)} sentences, counts {body['counts']}, model {body['model']['name']} "
      f"({body['model']['backend']}), {body['elapsed_ms']:.0f} ms in the service")
PY
}

check_image() {  # $1 = image
  local user size torch
  user=$(docker image inspect --format '{{.Config.User}}' "$1")
  [[ -n $user && $user != root && $user != 0* ]] || { echo "image runs as root ('$user')" >&2; return 1; }
  docker image inspect --format '{{json .Config.Healthcheck.Test}}' "$1" | grep -q readyz
  size=$(docker image inspect --format '{{.Size}}' "$1")
  torch=$(docker run --rm --entrypoint python "$1" -c \
    'import importlib.util as u; print([m for m in ("torch", "transformers", "onnx") if u.find_spec(m)])')
  log "image $1: user $user, size $(awk -v s="$size" 'BEGIN {printf "%.0f MB", s / 1e6}'), torch/transformers/onnx: $torch"
  [[ $torch == "[]" ]] || { echo "the default image holds $torch" >&2; return 1; }
  (( size <= MAX_IMAGE_BYTES )) || { echo "image is $size bytes, over $MAX_IMAGE_BYTES" >&2; return 1; }
}

check_docs() {  # $1 = base URL: /docs and every asset it names (the image drops the files it does not serve)
  python3 - "$1" <<'PY'
import re, sys, urllib.request

base = sys.argv[1]
page = urllib.request.urlopen(f"{base}/docs", timeout=30).read().decode()
assets = re.findall(r'(?:src|href)="(/[^"]+)"', page)
assert any(a.endswith("swagger-ui-bundle.js") for a in assets), assets
for asset in assets:
    with urllib.request.urlopen(f"{base}{asset}", timeout=30) as response:
        assert response.status == 200 and response.read(), asset
print(f"docs ok: /docs and {len(assets)} assets")
PY
}

check_custom_labels() {  # $1 = base URL: a label set of the request's own, zero-shot on the base encoder
  python3 - "$1" <<'PY'
import json, sys, urllib.request

labels = [{"name": "question", "description": "a question asked to the reader"},
          {"name": "statement", "description": "a plain statement of something"}]
body = {"text": "Who will pay for the new bridge? The council voted on Monday.", "labels": labels}
request = urllib.request.Request(
    f"{sys.argv[1]}/v1/extract", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
)
with urllib.request.urlopen(request, timeout=60) as response:
    answer = json.load(response)
assert answer["labels"] == ["question", "statement"], answer["labels"]
assert len(answer["sentences"]) == 2, answer["sentences"]
for s in answer["sentences"]:  # zero-shot quality is the model card's business; here: the path runs
    assert set(s["scores"]) == {"question", "statement"} and abs(sum(s["scores"].values()) - 1) < 1e-3, s
print("custom labels ok:", [(s["label"], s["confidence"]) for s in answer["sentences"]])
PY
}

# The image starts with no network at all (no hub, no index) and reports ready; prints the seconds it took.
check_offline_start() {  # $1 = image
  local name=$OFFLINE_CONTAINER t
  docker rm -f "$name" >/dev/null 2>&1 || true
  t=$(date +%s.%N)
  docker run -d --rm --name "$name" --network none --read-only --tmpfs /tmp "$1" >/dev/null
  for _ in $(seq 1 120); do
    if docker exec "$name" python -c \
      'import urllib.request; urllib.request.urlopen("http://127.0.0.1:8000/readyz", timeout=2)' 2>/dev/null; then
      log "offline container (--network none, read-only) ready $(python3 -c "import time; print(f'{time.time() - $t:.1f}')") s after docker run"
      docker rm -f "$name" >/dev/null
      return
    fi
    sleep 0.5
  done
  docker logs --tail 20 "$name"; docker rm -f "$name" >/dev/null
  echo "the image did not get ready without network within 60 s" >&2
  return 1
}

smoke_single() {
  local port t
  port=$(free_port)
  t=$(date +%s)
  # the README's command; CS_PORT only so that a service someone runs on 8000 is left alone
  CS_PORT=$port compose up -d --build --wait
  log "compose up -d --build --wait: built and healthy after $(elapsed "$t") s (the health check runs every 5 s)"
  docker stats --no-stream --format 'container {{.Name}}: RSS {{.MemUsage}}, CPU {{.CPUPerc}}' \
    "$(compose ps -q claimsift)"
  check_extract "http://127.0.0.1:$port"
  check_custom_labels "http://127.0.0.1:$port"
  check_docs "http://127.0.0.1:$port"
  check_image "$IMAGE"
  check_offline_start "$IMAGE"
}

smoke_scale() {
  local port t
  port=$(free_port)
  t=$(date +%s)
  CS_LB_PORT=$port CS_REPLICAS=2 compose --profile scale up -d --build --wait lb
  log "scale profile up (2 replicas + nginx): $(elapsed "$t") s"
  check_extract "http://127.0.0.1:$port"
  # nginx spread the requests over both replicas
  for _ in 1 2 3 4; do check_extract "http://127.0.0.1:$port" >/dev/null; done
  local upstreams
  upstreams=$(compose logs --no-color lb | grep 'POST /v1/extract' | grep -oE 'upstream=[0-9.:]+' | sort | uniq -c)
  log "extract requests per replica:"$'\n'"$upstreams"
  [[ $(wc -l <<< "$upstreams") -ge 2 ]] || { echo "nginx sent every request to one replica" >&2; return 1; }
  # A replica lost under load: clients see no error, nothing is lost or answered twice, it rejoins.
  t=$(date +%s)
  timeout 300 python scripts/lost_replica.py --url "http://127.0.0.1:$port" --project "$PROJECT"
  log "lost replica under load: passed in $(elapsed "$t") s"
}

start_engine
# whatever a local .env or the shell says: the smoke test checks the default image, built from PyPI
export CS_TARGET=runtime CS_WHEELS=
smoke_single
[[ $SCALE == 1 ]] && smoke_scale
log "PASSED"
