#!/usr/bin/env bash
# Instructions per Echo call forwarded by the gateway, counted by callgrind (not wall clock, so
# other work on the machine does not move it): retain-gateway under callgrind in front of one
# retain-echo backend, called by `retain-bench fixed-calls` (RPCClient, 64 concurrent calls on
# one connection); the backend and the client run outside callgrind. Beside it, the same client
# calls retain-echo under callgrind directly: a forwarded call's gateway cost next to what one
# echo server spends on a call. Each side runs twice (CALLS1 and CALLS2 calls); start-up cancels
# out in the difference, so
#   per call = (instructions at CALLS2 - instructions at CALLS1) / (CALLS2 - CALLS1).
#   scripts/bench_gateway_instructions.sh [CALLS1] [CALLS2]
# With KEEP=DIR the callgrind files are kept in DIR (for callgrind_annotate); with TIMEOUT_MS=N
# every call carries an N ms deadline (the gateway's server side then tracks it).
# Needs a release build (retain-bench, retain-echo, retain-gateway), valgrind and a C compiler;
# RETAIN_BIN_DIR points at another build. The valgrind workarounds are in callgrind_common.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=callgrind_common.sh
source "$root/scripts/callgrind_common.sh"
bin=${RETAIN_BIN_DIR:-$root/.build/release}
calls1=${1:-6400}
calls2=${2:-25600}
work=$(mktemp -d "${TMPDIR:-/tmp}/retain-gateway-instructions.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
  if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP" && cp "$work"/measured.* "$KEEP"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

callgrind_prepare "$work" "$bin" retain-bench retain-echo retain-gateway
export RETAIN_INSECURE_NO_AUTH=1

wait_port() { for _ in $(seq 300); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.1; done; }

# One run: `side` (gateway or echo) measured under callgrind, `calls` calls made to it; prints
# the measured process's instructions. SIGTERM stops it gracefully so callgrind writes its counts.
run() {
  local side=$1 calls=$2 port backend="" backendPort
  port=$(free_port)
  if [ "$side" = gateway ]; then
    backendPort=$(free_port)
    "$work/retain-echo" --port "$backendPort" --ops-port=-1 --log-level warning >"$work/backend.log" 2>&1 &
    backend=$!
    pids+=("$backend")
    wait_port "$backendPort"
    cat >"$work/topology.json" <<JSON
{"services": {"retain.v1.Echo": [{"id": "echo-0", "address": "127.0.0.1:$backendPort"}]}}
JSON
    local command=("$work/retain-gateway" --topology "$work/topology.json" --port "$port" --ops-port=-1 --log-level warning)
  else
    local command=("$work/retain-echo" --port "$port" --ops-port=-1 --log-level warning)
  fi
  (
    export LD_PRELOAD="$work/sigsuspend.so"
    exec valgrind --tool=callgrind --callgrind-out-file="$work/measured.$side.$calls" "${command[@]}"
  ) >"$work/measured.log" 2>&1 &
  local measured=$!
  pids+=("$measured")
  wait_port "$port"
  "$work/retain-bench" fixed-calls --port "$port" --calls "$calls" --concurrency 64 --timeout-ms "${TIMEOUT_MS:-0}" >"$work/client.log" 2>&1
  kill -TERM "$measured"
  wait "$measured" 2>/dev/null || true
  [ -n "$backend" ] && { kill -9 "$backend" 2>/dev/null || true; wait "$backend" 2>/dev/null || true; }
  local count
  count=$(instructions "$work/measured.$side.$calls")
  if [ -z "$count" ]; then
    echo "callgrind wrote no totals for the $side side ($calls calls); see $work/measured.log" >&2
    exit 1
  fi
  echo "$count"
}

declare -A per_call
for side in gateway echo; do
  low=$(run "$side" "$calls1")
  high=$(run "$side" "$calls2")
  per_call[$side]=$(((high - low) / (calls2 - calls1)))
done
echo "instructions per Echo call, 64 concurrent on one connection (callgrind)"
echo "  retain-gateway forwarding to retain-echo: ${per_call[gateway]}"
echo "  retain-echo answering directly:           ${per_call[echo]}"
awk -v g="${per_call[gateway]}" -v e="${per_call[echo]}" \
  'BEGIN { printf "  the gateway spends %.2fx what the echo server spends per call\n", g / e }'
