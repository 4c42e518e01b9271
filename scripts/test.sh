#!/usr/bin/env bash
# The test suite: set up, lint, check formatting and types, then run every test in one pytest
# process.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
ruff check src tests examples benchmarks
ruff format --check src tests examples benchmarks
mypy src
pytest "$@"
