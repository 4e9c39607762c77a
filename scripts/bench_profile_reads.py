#!/usr/bin/env python3
"""Profile reads through the load tester beside Redis GET, in one run on this machine.

Starts a `retain-profile` server (release build) with a fresh data directory, registers USERS
users with `retain load`, then alternates two rounds of
  - `retain load <profile> retain.v1.Profile/GetProfile` with a random existing user per call,
    CONNECTIONS connections x one call in flight each (the same shape as redis-benchmark -c), and
  - `redis-benchmark -t get -c CONNECTIONS --threads <cores>` against a redis-server started on a free port,
and prints both sides with the ratio of the better round of each.

Usage: scripts/bench_profile_reads.py [--users N] [--connections C] [--seconds S] [--build DIR]
Needs: a release build (`swift build -c release`), redis-server and redis-benchmark
(Debian's redis-server and redis-tools; `make bench-anchors` installs them).
"""
import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_profile(build, data_dir):
    arguments = [os.path.join(build, "retain-profile"), "serve", "--port", "0", "--ops-port=-1",
                 "--data-dir", data_dir, "--log-level", "warning"]
    help_text = subprocess.run(arguments[:2] + ["--help"], capture_output=True, text=True).stdout
    if "--insecure-no-auth" in help_text:
        arguments.append("--insecure-no-auth")  # the anchor has no authentication either
    process = subprocess.Popen(arguments, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = process.stdout.readline()
        match = re.search(r" listening on [^:]+:(\d+)$", line.strip())
        if match and " ops listening" not in line:
            return process, int(match.group(1))
    process.kill()
    sys.exit("retain-profile did not start")


def load(build, port, method, template, extra):
    command = [os.path.join(build, "retain"), "load", f"127.0.0.1:{port}", method, "-d", template,
               "--json", "--no-progress"] + extra
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"retain load failed ({result.returncode}): {result.stderr.strip()[-400:]}")
    report = json.loads(result.stdout)
    failed = {k: v for k, v in report["statuses"].items() if k not in ("OK", "0")}
    if failed:
        sys.exit(f"{method}: calls failed: {failed}")
    return report


def redis_round(connections, requests, keys, threads):
    server, bench = shutil.which("redis-server"), shutil.which("redis-benchmark")
    if not server or not bench:
        return None
    port = free_port()
    redis = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                time.sleep(0.05)
        # Fill the keyspace the GETs read (random keys from the same range as the users).
        subprocess.run([bench, "-p", str(port), "-t", "set", "-n", str(keys), "-r", str(keys), "-q"],
                       capture_output=True, check=True)
        out = subprocess.run([bench, "-p", str(port), "-t", "get", "-c", str(connections), "-n", str(requests),
                              "-r", str(keys), "--threads", str(threads), "-q"], capture_output=True, text=True, check=True).stdout
        line = [l for l in out.replace("\r", "\n").splitlines() if l.startswith("GET")][-1].strip()
        rate = float(re.search(r"GET: ([\d.]+) requests per second", line).group(1))
        p50 = re.search(r"p50=([\d.]+) msec", line)
        return rate, (float(p50.group(1)) * 1000 if p50 else None), line
    finally:
        redis.kill()
        redis.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--build", default=".build/release")
    # retain load runs its calls on one thread per core; give redis-benchmark as many, so that
    # the anchor's load generator is not the bottleneck.
    parser.add_argument("--redis-threads", type=int, default=os.cpu_count())
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="retain-profile-reads-")
    profile, port = start_profile(args.build, data_dir)
    try:
        print(f"profile reads vs redis GET: {args.users:,} users, {args.connections} connections x 1 call in flight, "
              f"{os.cpu_count()} cores, client and server on this machine", flush=True)
        seed = load(args.build, port, "retain.v1.Profile/RegisterUser",
                    '{"user_id": "u{{seq}}", "channel": "organic"}',
                    ["--total", str(args.users), "-c", "64", "--connections", "4", "--warmup", "0"])
        print(f"  seeded {seed['calls']:,} users in {seed['seconds']:.1f} s", flush=True)
        rows, best = [], {"retain": None, "redis": None}
        for round_number in range(1, args.rounds + 1):
            ours = load(args.build, port, "retain.v1.Profile/GetProfile",
                        '{"user_id": "u{{rand:0:%d}}"}' % (args.users - 1),
                        ["-c", str(args.connections), "--connections", str(args.connections),
                         "--duration", str(args.seconds), "--warmup", "1"])
            latency = ours["latencyMicroseconds"]
            rows.append(("retain-profile GetProfile (retain load)", round_number, ours["callsPerSecond"],
                         latency["p50"], latency["p99"]))
            if best["retain"] is None or ours["callsPerSecond"] > best["retain"]:
                best["retain"] = ours["callsPerSecond"]
            requests = max(100_000, int(ours["callsPerSecond"] * args.seconds))
            redis = redis_round(args.connections, requests, args.users, args.redis_threads)
            if redis is None:
                print("  redis-server or redis-benchmark not installed: the anchor is skipped", flush=True)
            else:
                rows.append((f"redis GET (redis-benchmark --threads {args.redis_threads})", round_number, redis[0], redis[1], None))
                if best["redis"] is None or redis[0] > best["redis"]:
                    best["redis"] = redis[0]
        print(f"  {'side':46}{'round':>6}{'calls/s':>12}{'p50 us':>10}{'p99 us':>10}")
        for name, number, rate, p50, p99 in rows:
            fmt = lambda v: f"{v:10.0f}" if v is not None else f"{'-':>10}"
            print(f"  {name:46}{number:>6}{rate:12,.0f}{fmt(p50)}{fmt(p99)}")
        if best["redis"]:
            print(f"  ratio (best rounds): {best['retain'] / best['redis']:.2f}x redis GET "
                  f"({best['retain']:,.0f} vs {best['redis']:,.0f} per second)")
    finally:
        profile.terminate()
        profile.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
