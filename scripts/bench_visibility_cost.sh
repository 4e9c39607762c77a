#!/usr/bin/env bash
# The cost of "visible only when durable", side by side: the same load (reads alone, reads while
# writes are in flight, durable ledger transfers) against two builds of the services, e.g. the
# commit before the change and this one:
#   scripts/bench_visibility_cost.sh OLD_BIN_DIR NEW_BIN_DIR [seconds]
# Each directory holds retain-profile, retain-ledger and retain (the load generator is the new one).
set -euo pipefail
old=$1; new=$2; seconds=${3:-5}
load="$new/retain"
export RETAIN_INSECURE_NO_AUTH=1
run() { # build-dir label
  local bin=$1 label=$2 dir; dir=$(mktemp -d)
  "$bin/retain-profile" serve --data-dir "$dir/profile" --port 7801 --ops-port=-1 --log-level error &
  local profile=$!
  "$bin/retain-ledger" serve --data-dir "$dir/ledger" --port 7802 --ops-port=-1 --log-level error &
  local ledger=$!
  sleep 2
  "$load" load 127.0.0.1:7801 retain.v1.Profile/RegisterUser -d '{"user_id":"u{{seq}}","channel":"organic"}' \
    -t 2000 -c 16 --warmup 0 >/dev/null
  "$load" load 127.0.0.1:7802 retain.v1.Ledger/OpenAccount -d '{"account_id":"budget:bench:points"}' -t 1 --warmup 0 >/dev/null
  echo "== $label: GetProfile, 16 in flight, no writes"
  "$load" load 127.0.0.1:7801 retain.v1.Profile/GetProfile -d '{"user_id":"u{{rand:0:1999}}"}' -c 16 --duration "$seconds" | grep -E "calls/s|p50|p99" | head -3
  echo "== $label: GetProfile, 16 in flight, while RecordActivity runs 16 in flight"
  "$load" load 127.0.0.1:7801 retain.v1.Profile/RecordActivity \
    -d '{"user_id":"u{{rand:0:1999}}","event_id":"e{{seq}}-{{uuid}}","kind":"login"}' -c 16 --duration "$((seconds + 2))" >/dev/null &
  local writer=$!
  sleep 1
  "$load" load 127.0.0.1:7801 retain.v1.Profile/GetProfile -d '{"user_id":"u{{rand:0:1999}}"}' -c 16 --duration "$seconds" | grep -E "calls/s|p50|p99" | head -3
  wait $writer || true
  echo "== $label: Ledger CreateTransfers (durable, 1 per call), 64 in flight"
  "$load" load 127.0.0.1:7802 retain.v1.Ledger/CreateTransfers \
    -d '{"transfers":[{"transfer_id":"t{{seq}}-{{uuid}}","debit_account_id":"budget:bench:points","credit_account_id":"user:u{{rand:0:999}}:points","amount":"1","asset":"points","kind":"TRANSFER_KIND_TASK_REWARD"}]}' \
    -c 64 --duration "$seconds" | grep -E "calls/s|p50|p99" | head -3
  kill $profile $ledger; wait $profile $ledger 2>/dev/null || true
  rm -rf "$dir"
}
run "$old" "before"
run "$new" "after"
