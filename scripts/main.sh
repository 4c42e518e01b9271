#!/usr/bin/env bash
# The main job: set up, synthesize the example app with the pinned CDK CLI into cdk.out, then
# summarize every state machine and run each example offline with its mock file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
rm -rf cdk.out
# --no-notices: the notices check can hang behind a silent network.
cdk synth --no-notices --quiet --output cdk.out
lambdaless inspect cdk.out
if [ -d examples/mocks ] && lambdaless run --help >/dev/null 2>&1; then
  lambdaless run cdk.out --all --mocks examples/mocks
fi
