# Sourced by the scripts: quiet, offline-safe settings for jsii, the CDK CLI and uv.
export UV_COMPILE_BYTECODE=1                        # this machine sets PYTHONDONTWRITEBYTECODE
export CDK_DISABLE_CLI_TELEMETRY=1                  # no telemetry calls from the CDK CLI
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export JSII_DEPRECATED=quiet
export PATH="$PWD/.venv/bin:$PWD/node_modules/.bin:$PATH"
