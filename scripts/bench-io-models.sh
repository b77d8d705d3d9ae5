#!/usr/bin/env bash
# Every io-models TCP server under the same loadgen echo load, one after another in one run.
#   scripts/bench-io-models.sh [CONNS] [SECONDS]
# Prints one JSON summary line per server; docs/src/io-models.md records a run.
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:-50}
seconds=${2:-5}

cargo build -q --release -p io-models --examples
cargo build -q --release -p loadgen
target=$(scripts/target-dir)
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"

banner=$(mktemp)
pid=
# Whatever happens, leave no server running.
trap 'rm -f "$banner"; [ -n "$pid" ] && kill -INT "$pid" 2>/dev/null' EXIT
for server in select_echo poll_echo epoll_echo "epoll_echo --edge" selectors_echo async_echo uring_echo nonblocking_echo; do
    read -r example flag <<<"$server"
    "$target"/release/examples/"$example" --addr 127.0.0.1:0 ${flag:+"$flag"} >"$banner" 2>/dev/null &
    pid=$!
    # The first stdout line is `listening on <addr>`: wait for it (up to 5 s).
    for _ in $(seq 50); do grep -q '^listening on ' "$banner" && break; sleep 0.1; done
    addr=$(sed -n 's/^listening on //p' "$banner" | head -n 1)
    [ -n "$addr" ] || { echo "$server did not start"; kill "$pid"; exit 1; }
    printf '%-20s ' "$server"
    "$target"/release/loadgen echo --addr "$addr" --conns "$conns" --size 64 --duration "$seconds" \
        --server-pid "$pid" --json |
        python3 -c '
import json, sys
r = json.load(sys.stdin)
p50, p99, top = (r["latency_us"][k] for k in ("p50", "p99", "max"))
rps, cpu = r["requests_per_sec"], r["server"]["loaded"]["cpu_secs"]
errors = sum(r["errors"].values())
print(f"{rps:>10,.0f} req/s  p50 {p50:.0f} us  p99 {p99:.0f} us  max {top / 1000:.1f} ms  server cpu {cpu:.2f} s  errors {errors}")
'
    kill -INT "$pid"
    wait "$pid" || true
    pid=
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
