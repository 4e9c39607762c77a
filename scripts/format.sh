#!/usr/bin/env bash
# Formats the Swift sources with the toolchain's swift-format and the repository's .swift-format
# (generated code under */Generated/ is left alone).
#   scripts/format.sh          rewrite the files in place
#   scripts/format.sh --check  change nothing; list the files the formatter would change and
#                              fail if there are any (CI runs this)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
files() {
  find Package.swift Services Shared Tools Tests Benchmarks -name '*.swift' \
    -not -path '*/Generated/*' -not -path '*/.build/*' | sort
}
if [ "${1:-}" != "--check" ]; then
  files | xargs swift format --configuration .swift-format -i
  exit 0
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
files | while read -r f; do mkdir -p "$scratch/$(dirname "$f")"; cp "$f" "$scratch/$f"; done
(cd "$scratch" && find . -name '*.swift' | xargs swift format --configuration "$root/.swift-format" -i)
changed=$(files | while read -r f; do cmp -s "$f" "$scratch/$f" || echo "$f"; done)
if [ -n "$changed" ]; then
  echo "These files are not formatted (run scripts/format.sh):" >&2
  echo "$changed" >&2
  exit 1
fi
echo "every Swift file is formatted"
