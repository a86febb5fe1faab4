#!/usr/bin/env bash
# Install claimsift and what its tests need into the current Python (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
# The CPU build of torch must come first, or a dependency pulls a multi-GB CUDA build.
python -m pip install -q torch==2.13.0
python -m pip install -q -c constraints.txt -e ".[dev,ray]"
