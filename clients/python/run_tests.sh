#!/usr/bin/env bash
# Runs the Python client's tests against real Retain servers, in a throwaway virtualenv:
#   clients/python/run_tests.sh [pytest arguments...]
# Environment:
#   RETAIN_BIN_DIR  where the built executables are (default: <repo>/.build/debug)
#   PYTHON          the interpreter to test with (default: python3; 3.9 or newer)
# Needs network access to PyPI (protobuf, pytest, flit_core to build, zstandard if it installs).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export RETAIN_BIN_DIR="${RETAIN_BIN_DIR:-$repo/.build/debug}"
python="${PYTHON:-python3}"

if [ ! -x "$RETAIN_BIN_DIR/retain-echo" ]; then
  echo "run_tests.sh: no retain-echo in $RETAIN_BIN_DIR (run 'swift build' or set RETAIN_BIN_DIR)" >&2
  exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/retain-python-client.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# Debian ships ensurepip separately (python3-venv); without it, bootstrap pip into a bare venv.
if ! "$python" -m venv "$work/venv" >/dev/null 2>&1; then
  echo "run_tests.sh: '$python -m venv' failed (python3-venv missing?); bootstrapping pip" >&2
  rm -rf "$work/venv"
  "$python" -m venv --without-pip "$work/venv"
  "$python" -c 'import sys, urllib.request; urllib.request.urlretrieve("https://bootstrap.pypa.io/get-pip.py", sys.argv[1])' \
    "$work/get-pip.py"
  "$work/venv/bin/python" "$work/get-pip.py" --quiet
fi
venv_python="$work/venv/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1

"$venv_python" -m pip install --quiet "$here" pytest
# Optional: zstd compression (its tests are skipped when it cannot be installed).
"$venv_python" -m pip install --quiet zstandard \
  || echo "run_tests.sh: zstandard not installed; compression tests will be skipped" >&2

# Run from outside the source tree, so that the tests import the installed package.
cd "$work"
# Not exec: the EXIT trap removes the work directory (its venv) once pytest is done.
"$venv_python" -m pytest -p no:cacheprovider -q "$here/tests" "$@"
