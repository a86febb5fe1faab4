#!/usr/bin/env bash
# Fresh machine to running service: install (no PyTorch), fetch and build the default model once, then
# serve it on 127.0.0.1:8000. Arguments go to `claimsift serve` (e.g. --port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
python -m pip install -q -c constraints.txt -e .
claimsift prepare
exec claimsift serve "$@"
