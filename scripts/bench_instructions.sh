#!/usr/bin/env bash
# Instructions per call of each service's hot path, counted by callgrind (not wall clock, so other
# work on the machine does not move it), client and server side apart:
#   Profile GetProfile and RecordActivity, Growth AwardGrowth, Ledger CreateTransfers with one
#   transfer and with a batch of 1000 (compact answer), Feedback SubmitFeedback.
# The server runs under callgrind (durability always, no periodic or exit snapshots); the client
# is `retain-bench fixed-calls --call CASE` (RPCClient) under callgrind, after a fixed set-up
# (users registered, accounts funded). Each case runs twice (a low and a high call count); the
# set-up and start-up cancel out in the difference, so
#   per call = (instructions at the high count - at the low count) / (high - low calls).
#   scripts/bench_instructions.sh [CASE...]      (default: every case below)
# With KEEP=DIR the callgrind files are kept in DIR (for callgrind_annotate). CONCURRENCY=N
# overrides each case's calls in flight (1: every call its own read burst and answer write, as
# on a connection of the Profile read benchmark).
# Needs a release build (swift build -c release), valgrind and a C compiler. The echo beside the
# bare NIO echo is scripts/bench_echo_instructions.sh (same method and workarounds).
# The valgrind workarounds for Swift 6 binaries are in scripts/callgrind_common.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=callgrind_common.sh
source "$root/scripts/callgrind_common.sh"
bin=${RETAIN_BIN_DIR:-$root/.build/release}
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(get-profile record-activity award-growth transfer transfer-batch submit-feedback)
work=$(mktemp -d "${TMPDIR:-/tmp}/retain-instructions.XXXXXX")
server=""
cleanup() {
  [ -n "$server" ] && kill -9 "$server" 2>/dev/null
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$work"/*.out "$KEEP"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# case -> "executable|calls low|calls high|concurrency|extra server flags"
declare -A spec=(
  [get-profile]="retain-profile|6400|25600|64|--no-snapshot-on-exit"
  [record-activity]="retain-profile|6400|25600|64|--no-snapshot-on-exit"
  [award-growth]="retain-growth|6400|25600|64|"
  [transfer]="retain-ledger|6400|25600|64|"
  [transfer-batch]="retain-ledger|16|64|4|"
  [submit-feedback]="retain-feedback|6400|25600|64|"
)

callgrind_prepare "$work" "$bin" retain-bench retain-profile retain-growth retain-ledger retain-feedback


# One run of `case` with `calls` calls: the server under callgrind, the client under callgrind,
# then the server stopped with SIGTERM (a graceful stop; SIGINT does not reach it under valgrind)
# so that callgrind writes its counts. Prints "server client".
run() {
  local name=$1 calls=$2 executable concurrency flags port
  IFS='|' read -r executable _ _ concurrency flags <<<"${spec[$name]}"
  concurrency=${CONCURRENCY:-$concurrency}
  port=$(free_port)
  local data="$work/data.$name.$calls"
  mkdir -p "$data"
  # exec: the background job is valgrind itself, so the signal below reaches it.
  # shellcheck disable=SC2086
  (
    export RETAIN_INSECURE_NO_AUTH=1 LD_PRELOAD="$work/sigsuspend.so"
    exec valgrind --tool=callgrind --callgrind-out-file="$work/server.$name.$calls.out" "$work/$executable" serve \
      --port "$port" --ops-port=-1 --data-dir "$data" --log-level warning --durability always \
      --snapshot-every-records 1000000000 --snapshot-every-seconds 1000000 $flags
  ) >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 600); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  if ! LD_PRELOAD="$work/sigsuspend.so" valgrind --tool=callgrind --callgrind-out-file="$work/client.$name.$calls.out" \
    "$work/retain-bench" fixed-calls --call "$name" --port "$port" --calls "$calls" --concurrency "$concurrency" \
    >"$work/client.log" 2>&1; then
    echo "the $name client failed ($calls calls):" >&2
    grep -v '^==' "$work/client.log" | tail -5 >&2
    exit 1
  fi
  kill -TERM "$server"
  wait "$server" 2>/dev/null || true
  server=""
  rm -rf "$data"
  local serverCount clientCount
  serverCount=$(instructions "$work/server.$name.$calls.out")
  clientCount=$(instructions "$work/client.$name.$calls.out")
  if [ -z "$serverCount" ] || [ -z "$clientCount" ]; then
    echo "callgrind wrote no totals for $name ($calls calls); see $work/server.log" >&2
    exit 1
  fi
  echo "$serverCount $clientCount"
}

echo "instructions per call (callgrind, release build, durability always): client + server = total"
for name in "${cases[@]}"; do
  [ -n "${spec[$name]:-}" ] || { echo "unknown case $name (known: ${!spec[*]})" >&2; exit 2; }
  IFS='|' read -r executable low high concurrency _ <<<"${spec[$name]}"
  concurrency=${CONCURRENCY:-$concurrency}
  # The calls the client really makes: a multiple of the concurrency.
  low=$((low / concurrency * concurrency))
  high=$((high / concurrency * concurrency))
  read -r server_low client_low < <(run "$name" "$low")
  read -r server_high client_high < <(run "$name" "$high")
  server_call=$(((server_high - server_low) / (high - low)))
  client_call=$(((client_high - client_low) / (high - low)))
  total=$((server_call + client_call))
  line=$(printf '  %-16s %-16s %3d in flight: %11d + %11d = %11d' "$name" "($executable)" "$concurrency" \
    "$client_call" "$server_call" "$total")
  if [ "$name" = transfer-batch ]; then
    line="$line  (per transfer: $((client_call / 1000)) + $((server_call / 1000)) = $((total / 1000)))"
  fi
  echo "$line"
done
