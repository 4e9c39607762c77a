#!/usr/bin/env bash
# What an idle replicated shard costs: a 3-process ledger shard and its etcd, started, left to
# settle for 8 s, then each process's CPU over the next 10 s (ticks of 10 ms: 1,000 = a whole core).
#   scripts/bench_idle_replication.sh
# Needs a release build and etcd (scripts/install-deps.sh installs it).
set -euo pipefail
# shellcheck source=ledger_shard.sh
. "$(dirname "$0")/ledger_shard.sh"
start_ledger_shard idle
sleep 8
cpu() { cpu_ticks "$1" | awk '{ print $1 + $2 }'; }
declare -A before
for m in a b c; do before[$m]=$(cpu ${mpid[$m]}); done; e0=$(cpu $etcd_pid)
sleep 10
for m in a b c; do echo "ledger $m ($(role_of $m)): $(( $(cpu ${mpid[$m]}) - ${before[$m]} )) ticks in 10 s idle"; done
echo "etcd: $(( $(cpu $etcd_pid) - e0 )) ticks"
