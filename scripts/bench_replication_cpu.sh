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
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${RETAIN_BIN_DIR:-$root/.build/release}
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
  RETAIN_INSECURE_NO_AUTH=1 "${LEDGER:-$bin/retain-ledger}" serve --port "${ports[$m]}" --ops-port=-1 --data-dir "$work/$m" \
    --etcd-endpoints "http://127.0.0.1:$etcd_port" --shard ledger-bench --member "ledger-bench-$m" ${LEDGER_ARGS:-} \
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

echo "== replicated: the leader of 3 processes, --sync-replicas 1"
ut() { awk '{ print $14, $15 }' "/proc/$1/stat"; }
declare -A b
for m in a b c; do b[$m]=$(ut "${mpid[$m]}"); done
TRANSFERS=${TRANSFERS:-300000}
if [ -n "${STRACE:-}" ]; then ( sleep 6; for m in a b c; do role=replica; [ "${ports[$m]}" = "$port" ] && role=leader; timeout 1 strace -f -tt -e trace=write,writev,read,fdatasync,pwrite64 -p "${mpid[$m]}" -o /tmp/strace-$role-$m.txt & done; wait ) & fi
if [ -n "${PERF:-}" ]; then
  for m in a b c; do
    role=replica; [ "${ports[$m]}" = "$port" ] && role=leader
    [ -n "${RECORD:-}" ] && { perf record -F 499 -g -o /tmp/perf-$role-$m.data -p "${mpid[$m]}" >/dev/null 2>&1 & pp+=($!); }
    [ -n "${STAT:-}" ] && perf stat -e task-clock,context-switches,syscalls:sys_enter_fdatasync,syscalls:sys_enter_write,syscalls:sys_enter_writev,syscalls:sys_enter_read,syscalls:sys_enter_futex,syscalls:sys_enter_epoll_wait -p "${mpid[$m]}" -o /tmp/stat-$role-$m.txt &
    pp+=($!)
  done
fi
/usr/bin/time -f "client: %U user %S sys %e wall" "${bench[@]}" --skip-postgres --concurrency "${CONCURRENCY:-64}" --batch-concurrency "" --transfers "$TRANSFERS" --port "$port" 2>&1 | grep -E "transfers/s|client:|1 transfer"
for m in a b c; do
  role=replica; [ "${ports[$m]}" = "$port" ] && role=leader
  read u0 s0 <<<"${b[$m]}"; read u1 s1 <<<"$(ut "${mpid[$m]}")"
  awk -v u=$((u1-u0)) -v s=$((s1-s0)) -v n=$TRANSFERS -v r=$role -v m=$m 'BEGIN { printf "member %s (%s): user %.2f s sys %.2f s = %.1f us/transfer\n", m, r, u/100, s/100, (u+s)/100/n*1e6 }'
done
if [ -n "${PERF:-}" ]; then for p in "${pp[@]}"; do kill -INT $p; done; sleep 2; fi
