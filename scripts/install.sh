#!/usr/bin/env bash
# Install claimsift with the [torch] extra and what its tests need into the current Python (idempotent).
# The service alone needs none of this: `pip install .` (scripts/run.sh) serves without PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
TORCH=torch==2.13.0+cpu
# The CPU build of torch must come first, or `.[torch]` pulls PyPI's multi-GB CUDA build on Linux. The
# `+cpu` version exists only as the CPU build: a wheel pip finds as it is configured (a local wheel
# folder, say; PyPI has none, so this fails fast there), else the PyTorch CPU index.
if ! python -c "import torch, sys; sys.exit(torch.__version__ != '${TORCH#torch==}')" 2>/dev/null; then
  python -m pip install -q "$TORCH" 2>/dev/null \
    || python -m pip install -q --index-url https://download.pytorch.org/whl/cpu "$TORCH"
fi
python -c "import torch; assert not torch.version.cuda, f'a CUDA build of torch: {torch.__version__}'"
python -m pip install -q -c constraints.txt -e ".[torch,dev,ray]"
