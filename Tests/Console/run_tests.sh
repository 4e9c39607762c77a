#!/usr/bin/env bash
# The console in a real browser: a whole suite of real executables (the four services, the
# gateway and retain-console), seeded by `retain demo`, driven by headless Chromium from Debian
# (chromium, chromium-driver; fonts-noto-cjk for the Chinese pages) through selenium, in a
# throwaway virtualenv:
#   Tests/Console/run_tests.sh [pytest arguments...]
# Environment:
#   RETAIN_BIN_DIR          where the built executables are (default: <repo>/.build/debug)
#   CONSOLE_SCREENSHOT_DIR  where the page screenshots go (default: <repo>/docs/console)
#   PYTHON                  the interpreter to test with (default: python3)
# Needs network access to PyPI (selenium, pytest).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export RETAIN_BIN_DIR="${RETAIN_BIN_DIR:-$repo/.build/debug}"
export CONSOLE_SCREENSHOT_DIR="${CONSOLE_SCREENSHOT_DIR:-$repo/docs/console}"
python="${PYTHON:-python3}"

for executable in retain-console retain-gateway retain; do
  if [ ! -x "$RETAIN_BIN_DIR/$executable" ]; then
    echo "run_tests.sh: no $executable in $RETAIN_BIN_DIR (run 'swift build' or set RETAIN_BIN_DIR)" >&2
    exit 2
  fi
done
for tool in chromium chromedriver; do
  if ! command -v "$tool" >/dev/null; then
    echo "run_tests.sh: no $tool (scripts/install-deps.sh installs chromium and chromium-driver)" >&2
    exit 2
  fi
done

work="$(mktemp -d "${TMPDIR:-/tmp}/retain-console-tests.XXXXXX")"
trap 'rm -rf "$work"' EXIT
"$python" -m venv "$work/venv"
venv_python="$work/venv/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PYTHONDONTWRITEBYTECODE=1
"$venv_python" -m pip install --quiet selenium pytest

cd "$work"
# Not exec: the EXIT trap removes the work directory (its venv) once pytest is done.
"$venv_python" -m pytest -p no:cacheprovider -q "$here" "$@"
