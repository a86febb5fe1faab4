#!/usr/bin/env bash
# Fresh machine to running service: install, then serve the embedded default model on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
exec claimsift serve "$@"
