#!/usr/bin/env bash
# The perf-laws workloads on threads (and on processes where it teaches something), one after
# another, writing the plots the chapter shows into docs/src/perf-laws/.
#   scripts/bench-perf-laws.sh [NAME...]      (default: all; REPS=5 by default)
# NAME is a plot name below (primes, mandelbrot-static, serial-0.1, memsum, io, ...).
# Prints each table with the machine load before it; docs/src/perf-laws.md records a run.
# Timings are only worth recording when nothing else runs: check the busy share it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${REPS:-5}
plots=docs/src/perf-laws

declare -A args=(
    [primes]="--workload primes --p 1,2,4,8"
    [primes-processes]="--workload primes --p 1,2,4,8 --mode processes"
    [mandelbrot-static]="--workload mandelbrot-static --p 1,2,4,8"
    [mandelbrot-dynamic]="--workload mandelbrot-dynamic --p 1,2,4,8"
    [mandelbrot-dynamic-processes]="--workload mandelbrot-dynamic --p 1,2,4,8 --mode processes"
    [serial-0.1]="--workload serial --serial-fraction 0.1 --p 1,2,4,8"
    [serial-0.3]="--workload serial --serial-fraction 0.3 --p 1,2,4,8"
    [serial-0.5]="--workload serial --serial-fraction 0.5 --p 1,2,4,8"
    [scaled]="--workload scaled --serial-fraction 0.1 --p 1,2,4,8"
    [memsum]="--workload memsum --p 1,2,3,4,8"
    [io]="--workload io --p 1,2,4,8,16,32,64"
    [io-processes]="--workload io --p 1,2,4,8,16,32,64 --mode processes"
)
order=(primes primes-processes mandelbrot-static mandelbrot-dynamic mandelbrot-dynamic-processes
    serial-0.1 serial-0.3 serial-0.5 scaled memsum io io-processes)
[ $# -gt 0 ] && order=("$@")

# The share of both cores that was busy over the last second (before a run: other work).
busy() {
    local a b total=0 i
    read -r -a a < <(head -n 1 /proc/stat)
    sleep 1
    read -r -a b < <(head -n 1 /proc/stat)
    for i in 1 2 3 4 5 6 7 8; do total=$((total + b[i] - a[i])); done
    local idle=$((b[4] - a[4] + b[5] - a[5]))
    echo "$(((total - idle) * 100 / (total > 0 ? total : 1)))%"
}

cargo build -q --release -p perf-laws
target=$(scripts/target-dir)
mkdir -p "$plots"
for name in "${order[@]}"; do
    [ -n "${args[$name]:-}" ] || { echo "unknown run $name (one of: ${order[*]})"; exit 2; }
    echo
    echo "\$ cargo run -p perf-laws --release -- run ${args[$name]} --reps $reps --plot $plots/$name.svg"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); CPU busy in the second before: $(busy)"
    # shellcheck disable=SC2086 # the arguments are words
    "$target"/release/perf-laws run ${args[$name]} --reps "$reps" --plot "$plots/$name.svg" 2>/dev/null
done
