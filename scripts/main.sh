#!/usr/bin/env bash
# The main job: set up, synthesize the example app with the pinned CDK CLI into cdk.out, then
# summarize every state machine and run each example offline with its mock file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
source scripts/env.sh
rm -rf cdk.out
# --no-notices: the notices check can hang behind a silent network. The CLI's own chatter (where
# it wrote, how to print a template, the feature-flag notice) is dropped; everything else it says,
# the limits lint's findings included, is printed, and all of it when synth fails.
synth_log="$(mktemp)"
if ! cdk synth --no-notices --quiet --output cdk.out >"$synth_log" 2>&1; then
  cat "$synth_log"
  exit 1
fi
grep -v -E '^(Successfully synthesized to |Supply a stack id |[0-9]+ feature flags are not configured)' \
  "$synth_log" || true
rm -f "$synth_log"
lambdaless inspect cdk.out
if [ -d examples/mocks ] && lambdaless run --help >/dev/null 2>&1; then
  lambdaless run cdk.out --all --mocks examples/mocks
fi
