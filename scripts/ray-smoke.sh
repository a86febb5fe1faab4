#!/usr/bin/env bash
# CI smoke test of `claimsift backfill` on a real Ray cluster: docker-compose.yml's profile "ray"
# (a head and 2 worker containers from the runtime-ray image) labels a small synthetic archive, and
#   - every article is labelled, and both worker containers labelled some (their host names in the
#     parts' commit records), none on the head;
#   - the output equals an embedded run of the same archive on this machine, row for row.
# Always `docker compose down -v` and stop the dockerd this script started, whatever failed.
# Usage: scripts/ray-smoke.sh [ARTICLES]   (default 120)
# Skips (exit 0, with a message) only where no Docker engine can be had, or without the ray extra.
set -euo pipefail
cd "$(dirname "$0")/.."
SHARED=${CLAIMSIFT_SHARED_DIR:-../shared}
SETUP=$SHARED/ci/docker-setup.sh
PROJECT=claimsift-ray-smoke
ARTICLES=${1:-120}
started_at=$(date +%s)
dockerd_pid=""
data=""
log() { echo "[ray-smoke $(date +%T)] $*"; }
compose() { docker compose -p "$PROJECT" --profile ray "$@"; }

cleanup() {
  local status=$?
  trap - EXIT
  if docker info >/dev/null 2>&1; then
    if [[ $status -ne 0 ]]; then
      log "FAILED (exit $status); last container logs:"
      compose logs --no-color --tail 30 2>&1 || true
    fi
    compose down -v --remove-orphans >/dev/null 2>&1 || log "compose down failed"
  fi
  if [[ -n $dockerd_pid && $(cat "/proc/$dockerd_pid/comm" 2>/dev/null) == dockerd ]]; then
    log "stopping the dockerd this script started (pid $dockerd_pid)"
    kill "$dockerd_pid" 2>/dev/null || true
  fi
  [[ -n $data ]] && rm -rf "$data"
  log "done in $(( $(date +%s) - started_at )) s, exit $status"
  exit "$status"
}
trap cleanup EXIT

if ! python -c 'import ray, pyarrow' 2>/dev/null; then
  log 'SKIP: the ray extra is not installed here (pip install -e ".[ray]")'
  exit 0
fi
if ! docker info >/dev/null 2>&1; then
  if [[ ! -f $SETUP ]]; then
    log "SKIP: no Docker engine running and no $SETUP to start one"
    exit 0
  fi
  log "starting a Docker engine with $SETUP"
  status=0
  bash "$SETUP" || status=$?
  dockerd_pid=$(cat /var/run/dockerd-ci.pid 2>/dev/null || true)
  [[ $status -eq 0 ]] || exit "$status"
fi

# One folder at the same path on every node (/data) and readable here: the archive and both outputs.
data=$(mktemp -d /tmp/claimsift-ray-smoke.XXXXXX)
chmod 0777 "$data"  # the containers run as uid 10001
python -m bench.archive --articles "$ARTICLES" --out "$data/archive.jsonl"
export CS_RAY_DATA=$data CS_RAY_AUTH_TOKEN
CS_RAY_AUTH_TOKEN=$(python -c 'import secrets; print(secrets.token_hex(32))')

t=$(date +%s)
CS_WHEELS= compose build ray-head  # from PyPI, as scripts/docker-smoke.sh builds the runtime image
log "image claimsift:runtime-ray built in $(( $(date +%s) - t )) s," \
  "$(docker image inspect --format '{{.Size}}' claimsift:runtime-ray | awk '{printf "%.0f MB", $1/1e6}'), torch installed:" \
  "$(docker run --rm claimsift:runtime-ray python -c 'import importlib.util as u; print(u.find_spec("torch") is not None)')"
t=$(date +%s)
compose up -d --wait ray-head ray-worker
log "cluster up (head + 2 workers) in $(( $(date +%s) - t )) s"

log "embedded run on this machine"
(export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH} && cd "$data" &&
  timeout 900 python -m app backfill archive.jsonl --out out-local --workers 2 --no-progress)
log "the same archive on the cluster (driver on the head, --address auto)"
t=$(date +%s)
compose exec -T ray-head timeout 900 claimsift backfill archive.jsonl --out out-cluster \
  --address auto --workers 2 --no-progress
log "cluster run took $(( $(date +%s) - t )) s"
docker stats --no-stream --format 'container {{.Name}}: RSS {{.MemUsage}}' $(compose ps -q) || true

python - "$data" "$ARTICLES" <<'PY'
import json, sys
from pathlib import Path

from app.backfill.store import TABLES, OutputDir

data, articles = Path(sys.argv[1]), int(sys.argv[2])

def rows(out: Path) -> dict[str, list[dict]]:
    tables = {}
    for name in TABLES:  # sentences, skipped (furniture), documents, errors
        table = OutputDir(out).read(name)
        listed = [] if table is None else [{k: v for k, v in r.items() if k != "part"} for r in table.to_pylist()]
        tables[name] = sorted(listed, key=lambda r: (r["doc_id"], r.get("index", 0), r.get("start", 0)))
    return tables

local, cluster = rows(data / "out-local"), rows(data / "out-cluster")
assert len(cluster["documents"]) == articles, f"{len(cluster['documents'])} of {articles} articles labelled"
assert cluster == local, "the cluster's output differs from the embedded run's"
hosts: dict[str, int] = {}
for record in (data / "out-cluster" / "_commits").glob("*.json"):
    for host, count in json.loads(record.read_text())["nodes"].items():
        hosts[host] = hosts.get(host, 0) + count
assert "ray-head" not in hosts, f"the head labelled articles: {hosts}"
assert len(hosts) == 2 and all(hosts.values()), f"expected both workers to label articles: {hosts}"
print(f"ray-smoke ok: {articles} articles, {len(cluster['sentences'])} sentences, identical to the embedded "
      f"run; articles labelled per worker container: {hosts}")
PY
