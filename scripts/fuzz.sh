#!/usr/bin/env bash
# Builds the libFuzzer target (frame decoder, REQUEST decoding, every message type) with
# -sanitize=fuzzer,address and runs it for a bounded time on the corpus in Tests/Fuzz/corpus,
# which it grows. Usage: scripts/fuzz.sh [seconds] (default 60).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
cd "$root"
swift build --product retain-fuzz --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -parse-as-library >/dev/null
mkdir -p Tests/Fuzz/corpus
.build-fuzz/debug/retain-fuzz Tests/Fuzz/corpus -max_total_time="$seconds" -max_len=4096 -timeout=10 \
  -print_final_stats=1 2>&1 | tail -15
