#!/usr/bin/env bash
# Installs the system packages and Python modules Retain builds and tests with, when missing.
# With --bench, also the anchors the benchmarks compare against (Redis, PostgreSQL 15).
# chromium, chromium-driver and fonts-noto-cjk: the console's browser tests (Tests/Console) and
# their screenshots of the Chinese pages.
set -euo pipefail
packages=(libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libzstd-dev pkg-config openssl python3-venv etcd-server
  chromium chromium-driver fonts-noto-cjk)
if [ "${1:-}" = "--bench" ]; then packages+=(redis-server redis-tools postgresql-15); fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! python3 -c 'import google.protobuf' 2>/dev/null; then
  echo "installing the protobuf Python package"
  python3 -m pip install --quiet protobuf 2>/dev/null || python3 -m pip install --quiet --break-system-packages protobuf
fi
