#!/usr/bin/env bash
# Print the install figures of the README and docs/deployment.md, from a clean clone of this checkout's
# HEAD in fresh virtualenvs under a temporary folder (removed at the end). Not a test: it only prints.
#   lean: `pip install .` (time, size, no torch) -> `claimsift prepare` (fetch + build) -> `claimsift serve`
#         to /readyz -> the example article and a custom label set -> `claimsift eval` on CheckThat dev
#   full: CPU torch, then `pip install ".[torch]"` (time, size), the same `claimsift eval`, and again on
#         the PyTorch runtime
# Usage: scripts/measure-install.sh [--lean-only]
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${CLAIMSIFT_SHARED_DIR:-$REPO/../shared}
WORK=$(mktemp -d)
server=""
cleanup() {
  [[ -n $server ]] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
export PIP_DISABLE_PIP_VERSION_CHECK=1
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }
size_mb() { du -sb "$1" | awk '{printf "%.0f MB", $1 / 1e6}'; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

git clone -q "$REPO" "$WORK/claimsift"
cd "$WORK/claimsift"
echo "clone of $(git log --oneline -1)"

python3 -m venv "$WORK/lean"
t=$(now)
"$WORK/lean/bin/pip" install -q . 2> >(grep -v "is ignored: it is neither" >&2)
echo "lean: pip install . in $(since "$t") s, venv $(size_mb "$WORK/lean")"
"$WORK/lean/bin/python" -c "import importlib.util as u; print('lean: torch, transformers, sentence_transformers importable:', \
[m for m in ('torch', 'transformers', 'sentence_transformers') if u.find_spec(m)])"

t=$(now)
"$WORK/lean/bin/claimsift" prepare
echo "lean: claimsift prepare in $(since "$t") s, models/cache $(size_mb models/cache)"
port=$(free_port)
CLAIMSIFT_LOG_LEVEL=warning "$WORK/lean/bin/claimsift" serve --port "$port" &
server=$!
until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.1; done
echo "lean: fresh install to ready (prepare + serve to /readyz 200) in $(since "$t") s"
python3 - "$port" "$SHARED/data/example_article.txt" <<'PY'
import json, sys, urllib.request

port, article = sys.argv[1], sys.argv[2]


def extract(body):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/extract", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    return json.load(urllib.request.urlopen(request, timeout=120))


answer = extract({"text": open(article, encoding="utf-8").read()})
print(f"lean: example article: {len(answer['sentences'])} sentences, counts {answer['counts']}")
labels = [{"name": "question", "description": "a question asked to the reader"},
          {"name": "statement", "description": "a plain statement of something"}]
answer = extract({"text": "Who will pay for it? The council voted 7-2 on Monday.", "labels": labels})
print("lean: custom labels:", [(s["label"], s["confidence"]) for s in answer["sentences"]])
PY
kill "$server"; wait "$server" 2>/dev/null || true; server=""
"$WORK/lean/bin/claimsift" eval "$SHARED/data/checkthat_dev.jsonl" | sed -n '2p;5p' | sed 's/^/lean: eval: /'
[[ ${1:-} == --lean-only ]] && exit 0

python3 -m venv "$WORK/full"
t=$(now)
# the CPU build first, as scripts/install.sh does: torch==2.13.0+cpu as pip is configured (here: a local
# wheel folder), else from the PyTorch CPU index
"$WORK/full/bin/pip" install -q torch==2.13.0+cpu 2>/dev/null \
  || "$WORK/full/bin/pip" install -q --index-url https://download.pytorch.org/whl/cpu torch==2.13.0+cpu
"$WORK/full/bin/pip" install -q ".[torch]" 2> >(grep -v "is ignored: it is neither" >&2)
echo "full: CPU torch + pip install .[torch] in $(since "$t") s, venv $(size_mb "$WORK/full")"
"$WORK/full/bin/claimsift" eval "$SHARED/data/checkthat_dev.jsonl" | sed -n '2p;5p' | sed 's/^/full: eval: /'
CLAIMSIFT_RUNTIME=torch "$WORK/full/bin/claimsift" eval "$SHARED/data/checkthat_dev.jsonl" | sed -n '5p' |
  sed 's/^/full: eval with CLAIMSIFT_RUNTIME=torch: /'
