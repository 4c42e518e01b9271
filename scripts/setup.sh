#!/usr/bin/env bash
# Install everything the project needs into .venv and node_modules (idempotent, offline-safe
# after the first run). Needs only Python 3.11+, Node 20+ and npm.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

[ -x .venv/bin/python ] || python3 -m venv .venv
[ -x .venv/bin/uv ] || .venv/bin/python -m pip install --quiet uv==0.13.8
.venv/bin/uv pip install --quiet --python .venv/bin/python -e '.[dev]'
if [ ! -d node_modules/aws-cdk ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
