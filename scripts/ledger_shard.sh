# Sourced by the replication benchmarks (bench_replication.sh, bench_replication_cpu.sh,
# bench_idle_replication.sh): a 3-process ledger shard led through a local etcd.
# Sets root, bin (RETAIN_BIN_DIR or the release build), work (a scratch directory removed on
# exit), pids (killed on exit) and bench (the ledger benchmark's command); start_ledger_shard
# then sets etcd_pid, ports[m] and mpid[m] for the members a, b and c, and port, the leader's.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${RETAIN_BIN_DIR:-$root/.build/release}
work=$(mktemp -d "${BENCH_DIR:-/tmp}/retain-bench-replication.XXXXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# The ledger benchmark lives in retain-bench (newer trees) or retain-ledger (older ones).
if "$bin/retain-bench" --help 2>/dev/null | grep -qE "^ +ledger "; then bench=("$bin/retain-bench" ledger); else bench=("$bin/retain-ledger" bench); fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# user and system CPU ticks a process has used so far.
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }

# start_ledger_shard SHARD: etcd, then members SHARD-a, -b, -c (${LEDGER:-retain-ledger}, each
# with ${LEDGER_ARGS}), then waits until one leads and counts a replica in its synchronous set.
declare -A ports mpid
start_ledger_shard() {
  local shard=$1 etcd_port peer_port m
  etcd_port=$(free_port); peer_port=$(free_port)
  etcd --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" \
    --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" --initial-cluster "default=http://127.0.0.1:$peer_port" \
    >"$work/etcd.log" 2>&1 &
  pids+=($!)
  etcd_pid=$!
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$etcd_port/health" >/dev/null && break; sleep 0.1; done
  for m in a b c; do
    ports[$m]=$(free_port)
    # shellcheck disable=SC2086 # LEDGER_ARGS is a list of flags
    RETAIN_INSECURE_NO_AUTH=1 "${LEDGER:-$bin/retain-ledger}" serve --port "${ports[$m]}" --ops-port=-1 --data-dir "$work/$m" \
      --etcd-endpoints "http://127.0.0.1:$etcd_port" --shard "$shard" --member "$shard-$m" ${LEDGER_ARGS:-} \
      >"$work/$m.log" 2>&1 &
    pids+=($!)
    mpid[$m]=$!
  done
  port=
  for _ in $(seq 100); do
    for m in a b c; do
      if "$bin/retain" call "127.0.0.1:${ports[$m]}" retain.v1.Replication/GetReplicationStatus '{}' 2>/dev/null \
        | grep -q '"role" : "leader"'; then port=${ports[$m]}; fi
    done
    [ -n "$port" ] && break
    sleep 0.2
  done
  for _ in $(seq 100); do
    "$bin/retain" call "127.0.0.1:$port" retain.v1.Replication/GetReplicationStatus '{}' | grep -q '"synchronous" : true' && break
    sleep 0.1
  done
}

# The role of member m now: leader or replica.
role_of() { if [ "${ports[$1]}" = "$port" ]; then echo leader; else echo replica; fi; }
