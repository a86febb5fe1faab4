#!/usr/bin/env bash
# Install claimsift with the [torch] extra and what its tests need into the current Python (idempotent).
# The service alone needs none of this: `pip install .` (scripts/run.sh) serves without PyTorch.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1
TORCH_VERSION=2.13.0
# The CPU build of torch must come first, or `.[torch]` pulls PyPI's multi-GB CUDA build on Linux:
# a CPU wheel pip finds without an index (a local wheel folder) if there is one, else the CPU index.
if ! python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  python -m pip install -q --no-index "torch==$TORCH_VERSION" 2>/dev/null \
    || python -m pip install -q --index-url https://download.pytorch.org/whl/cpu "torch==$TORCH_VERSION"
fi
python -c "import torch; assert not torch.version.cuda, f'a CUDA build of torch: {torch.__version__}'"
python -m pip install -q -c constraints.txt -e ".[torch,dev,ray]"
