#!/usr/bin/env bash
# What an idle replicated shard costs: a 3-process ledger shard and its etcd, started, left to
# settle for 8 s, then each process's CPU over the next 10 s (ticks of 10 ms: 1,000 = a whole core).
#   scripts/bench_idle_replication.sh
# Needs a release build and etcd (scripts/install-deps.sh installs it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${RETAIN_BIN_DIR:-$root/.build/release}
work=$(mktemp -d /tmp/idlerepl.XXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
etcd_port=$(free_port); peer_port=$(free_port)
etcd --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" --listen-peer-urls "http://127.0.0.1:$peer_port" --initial-advertise-peer-urls "http://127.0.0.1:$peer_port" --initial-cluster "default=http://127.0.0.1:$peer_port" >"$work/etcd.log" 2>&1 &
pids+=($!); etcdpid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$etcd_port/health" >/dev/null && break; sleep 0.1; done
declare -A mpid
for m in a b c; do
  RETAIN_INSECURE_NO_AUTH=1 "$bin/retain-ledger" serve --port "$(free_port)" --ops-port=-1 --data-dir "$work/$m" --etcd-endpoints "http://127.0.0.1:$etcd_port" --shard idle --member "idle-$m" >"$work/$m.log" 2>&1 &
  pids+=($!); mpid[$m]=$!
done
sleep 8
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
declare -A before
for m in a b c; do before[$m]=$(cpu ${mpid[$m]}); done; e0=$(cpu $etcdpid)
sleep 10
for m in a b c; do echo "ledger $m: $(( $(cpu ${mpid[$m]}) - ${before[$m]} )) ticks in 10 s idle"; done
echo "etcd: $(( $(cpu $etcdpid) - e0 )) ticks"
