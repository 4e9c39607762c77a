#!/usr/bin/env bash
# Calls every service through the gateway's gRPC front door with Google's gRPC for Python
# (grpcio), stubs generated from proto/ by grpcio-tools at test time, in a throwaway virtualenv:
#   Tests/GRPCFrontDoor/run_tests.sh [pytest arguments...]
# Environment:
#   RETAIN_BIN_DIR  where the built executables are (default: <repo>/.build/debug)
#   PYTHON          the interpreter to test with (default: python3)
# Needs network access to PyPI (grpcio, grpcio-tools, grpcio-reflection, protobuf, pytest).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export RETAIN_BIN_DIR="${RETAIN_BIN_DIR:-$repo/.build/debug}"
python="${PYTHON:-python3}"

if [ ! -x "$RETAIN_BIN_DIR/retain-gateway" ]; then
  echo "run_tests.sh: no retain-gateway in $RETAIN_BIN_DIR (run 'swift build' or set RETAIN_BIN_DIR)" >&2
  exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/retain-grpc-front-door.XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$python" -m venv "$work/venv"
venv_python="$work/venv/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1
"$venv_python" -m pip install --quiet grpcio grpcio-tools grpcio-reflection protobuf pytest

cd "$work"
# Not exec: the EXIT trap removes the work directory (its venv) once pytest is done.
"$venv_python" -m pytest -p no:cacheprovider -q "$here" "$@"
