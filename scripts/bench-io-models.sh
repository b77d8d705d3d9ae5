#!/usr/bin/env bash
# Every io-models TCP server, and an echo server on tokio as the peer a Rust programmer would
# pick instead, under the same loadgen echo load, one after another in one run.
#   scripts/bench-io-models.sh [CONNS] [SECONDS]
#   SYSCALLS=1 scripts/bench-io-models.sh [CONNS] [SECONDS]   (also: system calls per request)
# Prints one summary line per server; docs/src/io-models.md records a run. With SYSCALLS=1 each
# server is measured a second time with `strace -c -f` attached (which slows every system call,
# so only the count per request is worth reading on that line).
# The tokio server (scripts/tokio-echo) is its own cargo project, built here into its own
# target directory: `cargo test --workspace` never compiles tokio.
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-50}
seconds=${2:-5}

cargo build -q --release -p io-models --examples
cargo build -q --release -p loadgen
target=$(scripts/target-dir)
cargo build -q --release --manifest-path scripts/tokio-echo/Cargo.toml \
    --target-dir "$target/tokio-echo"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

banner=$(mktemp)
trace=$(mktemp)
pid=
# Whatever happens, leave no server running.
trap 'rm -f "$banner" "$trace"; [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null' EXIT

# Starts server $1 (an example name, maybe with a flag), sets $pid and $addr.
start() {
    local example flag binary
    read -r example flag <<<"$1"
    binary="$target"/release/examples/"$example"
    [ "$example" = tokio-echo ] && binary="$target"/tokio-echo/release/tokio-echo
    "$binary" --addr 127.0.0.1:0 ${flag:+"$flag"} >"$banner" 2>/dev/null &
    pid=$!
    # The first stdout line is `listening on <addr>`: wait for it (up to 5 s).
    for _ in $(seq 50); do grep -q '^listening on ' "$banner" && break; sleep 0.1; done
    addr=$(sed -n 's/^listening on //p' "$banner" | head -n 1)
    [ -n "$addr" ] || { echo "$1 did not start"; kill "$pid"; exit 1; }
}

stop() {
    kill -INT "$pid"
    wait "$pid" || true
    pid=
}

# loadgen's JSON report of one run against $addr.
load() {
    "$target"/release/loadgen echo --addr "$addr" --conns "$conns" --size 64 \
        --duration "$seconds" --server-pid "$pid" --json
}

for server in select_echo poll_echo epoll_echo "epoll_echo --edge" selectors_echo async_echo \
    uring_echo nonblocking_echo tokio-echo; do
    start "$server"
    printf '%-20s ' "$server"
    load | python3 -c '
import json, sys
r = json.load(sys.stdin)
p50, p99, top = (r["latency_us"][k] for k in ("p50", "p99", "max"))
rps, cpu = r["requests_per_sec"], r["server"]["loaded"]["cpu_secs"]
errors = sum(r["errors"].values())
print(f"{rps:>10,.0f} req/s  p50 {p50:.0f} us  p99 {p99:.0f} us  max {top / 1000:.1f} ms  server cpu {cpu:.2f} s  errors {errors}")
'
    if [ "${SYSCALLS:-0}" = 1 ]; then
        strace -c -f -p "$pid" -o "$trace" 2>/dev/null &
        tracer=$!
        sleep 0.5 # strace attaches to every thread before the load starts
        requests=$(load | python3 -c 'import json, sys; print(json.load(sys.stdin)["requests"])')
        kill -INT "$tracer"
        wait "$tracer" || true
        printf '%-20s %s\n' "" "$(python3 -c '
import sys
requests = int(sys.argv[2])
total = [l for l in open(sys.argv[1]) if l.rstrip().endswith("total")][-1].split()
calls = int(total[3])  # % time, seconds, usecs/call, calls, [errors,] total
print(f"under strace: {requests:,} requests, {calls:,} system calls, {calls / max(requests, 1):.2f} per request")
' "$trace" "$requests")"
    fi
    stop
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
