#!/usr/bin/env bash
# Instructions per echo call, counted by callgrind (not wall clock, so other work on the machine
# does not move it): retain-echo called by RPCClient beside the bare SwiftNIO echo called by the
# bare async client, 64 concurrent calls on one connection, as `retain-bench echo` runs them.
# Each side is run twice (CALLS1 and CALLS2 calls); start-up cancels out in the difference, so
#   per call = (server + client instructions at CALLS2 - the same at CALLS1) / (CALLS2 - CALLS1).
#   scripts/bench_echo_instructions.sh [CALLS1] [CALLS2]
# With KEEP=DIR the callgrind files are kept in DIR (for callgrind_annotate).
# Needs a release build (swift build -c release), valgrind and a C compiler.
# The valgrind workarounds for Swift 6 binaries are in scripts/callgrind_common.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=callgrind_common.sh
source "$root/scripts/callgrind_common.sh"
bin=${RETAIN_BIN_DIR:-$root/.build/release}
calls1=${1:-6400}
calls2=${2:-25600}
work=$(mktemp -d "${TMPDIR:-/tmp}/retain-echo-instructions.XXXXXX")
server=""
cleanup() {
  [ -n "$server" ] && kill -9 "$server" 2>/dev/null
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$work"/server.* "$work"/client.* "$KEEP"/; fi
  rm -rf "$work"
}
trap cleanup EXIT

callgrind_prepare "$work" "$bin" retain-bench retain-echo

callgrind() {
  local out=$1
  shift
  LD_PRELOAD="$work/sigsuspend.so" valgrind --tool=callgrind --callgrind-out-file="$out" "$@"
}

# One run: the server under callgrind, the client under callgrind making `calls` calls, then the
# server stopped with SIGTERM (a graceful stop; SIGINT does not reach it under valgrind) so that callgrind writes its counts. Prints server + client.
run() {
  local side=$1 calls=$2 port
  port=$(free_port)
  local command=("$work/retain-bench" bare-echo-server --port "$port")
  [ "$side" = bare ] || command=("$work/retain-echo" --port "$port" --ops-port=-1)
  # exec: the background job is valgrind itself, so the signal below reaches it.
  (
    export RETAIN_INSECURE_NO_AUTH=1 LD_PRELOAD="$work/sigsuspend.so"
    exec valgrind --tool=callgrind --callgrind-out-file="$work/server.$side.$calls" "${command[@]}"
  ) >"$work/server.log" 2>&1 &
  server=$!
  for _ in $(seq 300); do (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  local flags=()
  [ "$side" = bare ] && flags=(--bare)
  callgrind "$work/client.$side.$calls" "$work/retain-bench" fixed-calls --port "$port" --calls "$calls" --concurrency 64 \
    "${flags[@]}" >"$work/client.log" 2>&1
  kill -TERM "$server"
  wait "$server" 2>/dev/null || true
  server=""
  local serverCount clientCount
  serverCount=$(instructions "$work/server.$side.$calls")
  clientCount=$(instructions "$work/client.$side.$calls")
  if [ -z "$serverCount" ] || [ -z "$clientCount" ]; then
    echo "callgrind wrote no totals for the $side side ($calls calls); see $work/server.log" >&2
    exit 1
  fi
  echo "$serverCount $clientCount"
}

declare -A per_call server_call client_call
for side in retain bare; do
  read -r server_low client_low < <(run "$side" "$calls1")
  read -r server_high client_high < <(run "$side" "$calls2")
  server_call[$side]=$(((server_high - server_low) / (calls2 - calls1)))
  client_call[$side]=$(((client_high - client_low) / (calls2 - calls1)))
  per_call[$side]=$((server_call[$side] + client_call[$side]))
done
echo "instructions per echo call, 64 concurrent on one connection (callgrind): client + server = total"
echo "  RPCClient + retain-echo:           ${client_call[retain]} + ${server_call[retain]} = ${per_call[retain]}"
echo "  bare async client + bare NIO echo: ${client_call[bare]} + ${server_call[bare]} = ${per_call[bare]}"
awk -v r="${per_call[retain]}" -v b="${per_call[bare]}" \
  'BEGIN { printf "  the bare echo does %.0f%% of Retain'"'"'s instructions per call (Retain reaches that share of its calls/s when CPU-bound)\n", 100 * b / r }'
