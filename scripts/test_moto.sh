#!/usr/bin/env bash
# Run the local runner's tests against another moto, by default the newest on PyPI, in a
# scratch virtualenv: reports whether the runner still works there; it gates nothing.
#   bash scripts/test_moto.sh            # newest moto
#   bash scripts/test_moto.sh 5.1.10     # one version
# MOTO_VENV picks the scratch virtualenv (default /tmp/venv-moto). See CONTRIBUTING.md,
# "Moving to a new moto version".
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
version="${1:-}"
venv="${MOTO_VENV:-/tmp/venv-moto}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
uv=".venv/bin/uv"
"$uv" pip install --quiet --python "$venv/bin/python" -e '.[dev]' || exit 2
spec="moto[stepfunctions]"
[ -n "$version" ] && spec="moto[stepfunctions]==$version"
"$uv" pip install --quiet --python "$venv/bin/python" --upgrade "$spec" || exit 2
"$venv/bin/python" -c 'import moto; print("moto", moto.__version__)'
if "$venv/bin/python" -c 'from lambdaless.testing._moto_hooks import check_moto_internals as c; c()'; then
  echo "drift check: passed"
else
  echo "drift check: FAILED (the runner refuses this moto; see the message above)"
fi
"$venv/bin/python" -m pytest -q -p no:cacheprovider tests/testing tests/test_examples_local.py
status=$?
echo "runner tests on $("$venv/bin/python" -c 'import moto; print("moto", moto.__version__)'): exit $status"
exit $status
