#!/usr/bin/env bash
# Ledger durable transfers per second, replicated (a shard of 3 processes led through a real etcd,
# --sync-replicas 1) beside unreplicated (one process), in one run on this machine, with each
# member's CPU. The failover time under load (SIGKILL of the leader to the next confirmed write)
# is measured by Tests/DurabilityTests/ReplicationFailoverTests.swift and `retain soak --replicas 3`.
#   [CONCURRENCY=64] [BATCH_CONCURRENCY=4 (empty: no batch run)] scripts/bench_replication.sh [DURATION_SECONDS]
# Needs a release build (swift build -c release) and etcd (scripts/install-deps.sh installs it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${RETAIN_BIN_DIR:-$root/.build/release}
duration=${1:-10}
work=$(mktemp -d "${BENCH_DIR:-/tmp}/retain-bench-replication.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The ledger benchmark lives in retain-bench (newer trees) or retain-ledger (older ones).
if "$bin/retain-bench" --help 2>/dev/null | grep -qE "^ +ledger "; then bench=("$bin/retain-bench" ledger); else bench=("$bin/retain-ledger" bench); fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

etcd_port=$(free_port); peer_port=$(free_port)
etcd --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
  --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" --initial-cluster "default=http://127.0.0.1:$peer_port" \
  >"$work/etcd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$etcd_port/health" >/dev/null && break; sleep 0.1; done

declare -A ports mpid
for m in a b c; do
  ports[$m]=$(free_port)
  RETAIN_INSECURE_NO_AUTH=1 "$bin/retain-ledger" serve --port "${ports[$m]}" --ops-port=-1 --data-dir "$work/$m" \
    --etcd-endpoints "http://127.0.0.1:$etcd_port" --shard ledger-bench --member "ledger-bench-$m" \
    >"$work/$m.log" 2>&1 &
  pids+=($!)
  mpid[$m]=$!
done

leader_port() {
  for m in a b c; do
    if "$bin/retain" call "127.0.0.1:${ports[$m]}" retain.v1.Replication/GetReplicationStatus '{}' 2>/dev/null \
      | grep -q '"role" : "leader"'; then echo "${ports[$m]}"; return; fi
  done
}
for _ in $(seq 100); do port=$(leader_port); [ -n "$port" ] && break; sleep 0.2; done
# Wait until the leader counts a replica (its synchronous set is not empty).
for _ in $(seq 100); do
  "$bin/retain" call "127.0.0.1:$port" retain.v1.Replication/GetReplicationStatus '{}' | grep -q '"synchronous" : true' && break
  sleep 0.1
done

# CPU seconds (user + system) a process has used so far.
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
TIMEFORMAT='   bench client: %U s user + %S s system'

echo "== unreplicated: one retain-ledger process"
time RETAIN_INSECURE_NO_AUTH=1 "${bench[@]}" --skip-postgres --duration "$duration" --concurrency "${CONCURRENCY:-64}" --batch-concurrency "${BATCH_CONCURRENCY-4}"
echo "== replicated: leader of 3 processes, --sync-replicas 1 (port $port)"
declare -A before
for m in a b c; do before[$m]=$(cpu_seconds "${mpid[$m]}"); done
time "${bench[@]}" --skip-postgres --duration "$duration" --concurrency "${CONCURRENCY:-64}" --batch-concurrency "${BATCH_CONCURRENCY-4}" --port "$port"
# Where the machine's CPU went: on 2 cores the replicas' apply competes with the leader and client.
for m in a b c; do
  role=replica; [ "${ports[$m]}" = "$port" ] && role=leader
  used=$(awk -v a="$(cpu_seconds "${mpid[$m]}")" -v b="${before[$m]}" 'BEGIN { printf "%.2f", a - b }')
  echo "   member $m ($role): $used CPU s"
done
"$bin/retain" call "127.0.0.1:$port" retain.v1.Replication/GetReplicationStatus '{}'
