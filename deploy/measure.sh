#!/usr/bin/env bash
# Print the deployment figures of docs/deployment.md for the image docker compose built (a Docker
# engine must run; build first: CS_WHEELS=wheels docker compose build). Not a test: it only prints.
#   image size · `docker compose up -d` to /readyz 200 · RSS when ready · RSS and sentences/s after 64
#   extracts of the example article, 8 at a time, sentence cache off, with the compose limits (2 CPUs, 1 GiB)
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE=claimsift:${CS_TARGET:-runtime}
ARTICLE=${CLAIMSIFT_SHARED_DIR:-../shared}/data/example_article.txt
PROJECT=claimsift-measure
CONTAINER=claimsift-measure-load
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
cleanup() {
  docker compose -p "$PROJECT" down -v >/dev/null 2>&1 || true
  docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
}
trap cleanup EXIT
wait_ready() { until curl -sf "http://127.0.0.1:$1/readyz" >/dev/null; do sleep 0.1; done; }
rss() { docker stats --no-stream --format '{{.MemUsage}}' "$1" | cut -d/ -f1; }

echo "image $IMAGE: $(docker image inspect --format '{{.Size}}' "$IMAGE" | awk '{printf "%.0f MB", $1/1e6}')"

port=$(free_port)
started=$(date +%s.%N)
CS_PORT=$port docker compose -p "$PROJECT" up -d --no-build >/dev/null 2>&1
wait_ready "$port"
echo "docker compose up -d -> /readyz 200: $(python3 -c "import time; print(f'{time.time() - $started:.1f}')") s"
echo "RSS when ready: $(rss "$(docker compose -p "$PROJECT" ps -q claimsift)")"
docker compose -p "$PROJECT" down -v >/dev/null 2>&1

port=$(free_port)
docker run -d --name "$CONTAINER" -p "$port:8000" --cpus 2 --memory 1g --read-only --tmpfs /tmp \
  -e CLAIMSIFT_CACHE_MB=0 -e CLAIMSIFT_ONNX_THREADS=2 "$IMAGE" >/dev/null
wait_ready "$port"
python3 - "$port" "$ARTICLE" <<'PY'
import json, sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor

port, article = sys.argv[1], sys.argv[2]
text = open(article, encoding="utf-8").read()
body = json.dumps({"text": text}).encode()


def extract(_: int) -> tuple[float, int]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/extract", data=body, headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        sentences = len(json.load(response)["sentences"])
    return time.perf_counter() - started, sentences


started = time.perf_counter()
with ThreadPoolExecutor(8) as pool:
    results = list(pool.map(extract, range(64)))
wall = time.perf_counter() - started
latencies = sorted(seconds for seconds, _ in results)
sentences = sum(n for _, n in results)
print(f"64 extracts ({results[0][1]} sentences each), 8 concurrent, cache off: "
      f"{sentences / wall:.0f} sentences/s, median latency {latencies[32] * 1000:.0f} ms")
PY
echo "RSS after that load: $(rss "$CONTAINER")"
