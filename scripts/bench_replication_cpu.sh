#!/usr/bin/env bash
# Where a replicated shard's CPU goes: a fixed count of single durable transfers at 64 clients
# against the leader of a 3-process ledger shard (a real etcd, --sync-replicas 1), then each
# member's user and system CPU per transfer. Knobs (environment):
#   TRANSFERS=300000  CONCURRENCY=64  LEDGER_ARGS="--wal-zero-fill off" (added to every member)
#   STAT=1 PERF=1     perf stat per member (context switches, syscalls) to /tmp/stat-<role>-<m>.txt
#   RECORD=1 PERF=1   perf record -g per member to /tmp/perf-<role>-<m>.data
#   STRACE=1          one second of strace -f -tt per member, six seconds in, to /tmp/strace-<role>-<m>.txt
#   scripts/bench_replication_cpu.sh
# Needs a release build (swift build -c release) and etcd (scripts/install-deps.sh installs it).
set -euo pipefail
# shellcheck source=ledger_shard.sh
. "$(dirname "$0")/ledger_shard.sh"

start_ledger_shard ledger-bench
hz=$(getconf CLK_TCK)

echo "== replicated: the leader of 3 processes, --sync-replicas 1"
declare -A b
for m in a b c; do b[$m]=$(cpu_ticks "${mpid[$m]}"); done
TRANSFERS=${TRANSFERS:-300000}
if [ -n "${STRACE:-}" ]; then ( sleep 6; for m in a b c; do timeout 1 strace -f -tt -e trace=write,writev,read,fdatasync,pwrite64 -p "${mpid[$m]}" -o "/tmp/strace-$(role_of $m)-$m.txt" & done; wait ) & fi
pp=()
if [ -n "${PERF:-}" ]; then
  for m in a b c; do
    role=$(role_of $m)
    if [ -n "${RECORD:-}" ]; then perf record -F 499 -g -o "/tmp/perf-$role-$m.data" -p "${mpid[$m]}" >/dev/null 2>&1 & pp+=($!); fi
    if [ -n "${STAT:-}" ]; then
      perf stat -e task-clock,context-switches,syscalls:sys_enter_fdatasync,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_read,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_wait \
        -p "${mpid[$m]}" -o "/tmp/stat-$role-$m.txt" &
      pp+=($!)
    fi
  done
fi
/usr/bin/time -f "client: %U user %S sys %e wall" "${bench[@]}" --skip-postgres --concurrency "${CONCURRENCY:-64}" --batch-concurrency "" --transfers "$TRANSFERS" --port "$port" 2>&1 | grep -E "transfers/s|client:|1 transfer"
for m in a b c; do
  read -r u0 s0 <<<"${b[$m]}"; read -r u1 s1 <<<"$(cpu_ticks "${mpid[$m]}")"
  awk -v u=$((u1-u0)) -v s=$((s1-s0)) -v n="$TRANSFERS" -v r="$(role_of $m)" -v m=$m -v hz="$hz" \
    'BEGIN { printf "member %s (%s): user %.2f s sys %.2f s = %.1f us/transfer\n", m, r, u/hz, s/hz, (u+s)/hz/n*1e6 }'
done
if [ ${#pp[@]} -gt 0 ]; then for p in "${pp[@]}"; do kill -INT "$p"; done; sleep 2; fi
