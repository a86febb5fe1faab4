#!/usr/bin/env bash
# The test command of the README: lint, type-check, then the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
ruff check app tests clients
ruff format --check app tests clients
mypy app clients/python/src
set +e
python -m pytest -q -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: failing" >&2
  exit 1
fi
exit "$status"
