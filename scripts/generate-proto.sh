#!/usr/bin/env bash
# Regenerates the code derived from proto/: protoc-c's C sources, the C descriptor registry and
# the Swift message types. With --check, regenerates into a scratch copy and fails when the
# committed code differs (CI runs this).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
check=false
[ "${1:-}" = "--check" ] && check=true

out=$root
if $check; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
  mkdir -p "$out/Shared"
  cp -r "$root/Shared/CRetainProto" "$root/Shared/RetainProto" "$out/Shared/"
fi

protos=$(cd "$root/proto" && find retain -name '*.proto' | sort)
gen=$(mktemp -d)
trap 'rm -rf "$gen"; $check && rm -rf "$out"' EXIT

(cd "$root/proto" && protoc-c --c_out="$gen" $protos)
(cd "$root/proto" && protoc --include_source_info --descriptor_set_out="$gen/retain.fds" $protos)

c_dir=$out/Shared/CRetainProto
rm -rf "$c_dir/include/retain" "$c_dir/retain" "$out/Shared/RetainProto/Generated"
mkdir -p "$c_dir/include" "$out/Shared/RetainProto/Generated"
(cd "$gen" && find retain -name '*.pb-c.h' | while read -r h; do mkdir -p "$c_dir/include/$(dirname "$h")"; cp "$h" "$c_dir/include/$h"; done)
(cd "$gen" && find retain -name '*.pb-c.c' | while read -r c; do mkdir -p "$c_dir/$(dirname "$c")"; cp "$c" "$c_dir/$c"; done)
python3 "$root/scripts/protogen.py" "$gen/retain.fds" "$out"

if $check; then
  if ! diff -r "$root/Shared/CRetainProto" "$out/Shared/CRetainProto" >/dev/null \
     || ! diff -r "$root/Shared/RetainProto/Generated" "$out/Shared/RetainProto/Generated" >/dev/null; then
    echo "generated code is out of date: run scripts/generate-proto.sh and commit the result" >&2
    diff -r "$root/Shared/CRetainProto" "$out/Shared/CRetainProto" | head -40 >&2 || true
    diff -r "$root/Shared/RetainProto/Generated" "$out/Shared/RetainProto/Generated" | head -40 >&2 || true
    exit 1
  fi
  echo "generated code is up to date"
fi
