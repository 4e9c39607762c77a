#!/usr/bin/env bash
# Ledger durable transfers per second, replicated (a shard of 3 processes led through a real etcd,
# --sync-replicas 1) beside unreplicated (one process), in one run on this machine, with each
# member's CPU. The failover time under load (SIGKILL of the leader to the next confirmed write)
# is measured by Tests/DurabilityTests/ReplicationFailoverTests.swift and `retain soak --replicas 3`.
#   [CONCURRENCY=64] [BATCH_CONCURRENCY=4 (empty: no batch run)] scripts/bench_replication.sh [DURATION_SECONDS]
# Needs a release build (swift build -c release) and etcd (scripts/install-deps.sh installs it).
set -euo pipefail
# shellcheck source=ledger_shard.sh
. "$(dirname "$0")/ledger_shard.sh"
duration=${1:-10}

start_ledger_shard ledger-bench

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
  used=$(awk -v a="$(cpu_seconds "${mpid[$m]}")" -v b="${before[$m]}" 'BEGIN { printf "%.2f", a - b }')
  echo "   member $m ($(role_of $m)): $used CPU s"
done
"$bin/retain" call "127.0.0.1:$port" retain.v1.Replication/GetReplicationStatus '{}'
