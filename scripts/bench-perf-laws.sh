#!/usr/bin/env bash
# Every perf-laws workload on threads (and the CPU-bound ones on processes), one after another,
# writing the plots the chapter shows into docs/src/perf-laws/.
#   scripts/bench-perf-laws.sh [REPS]
# Prints each table with the machine load before it; docs/src/perf-laws.md records a run.
# Timings are only worth recording when nothing else runs: check the load it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
reps=${1:-5}
plots=docs/src/perf-laws

cargo build -q --release -p perf-laws
mkdir -p "$plots"
run() {
    local plot=$1
    shift
    echo
    echo "\$ cargo run -p perf-laws --release -- run $* --reps $reps --plot $plots/$plot.svg"
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    target/release/perf-laws run "$@" --reps "$reps" --plot "$plots/$plot.svg" 2>/dev/null
}
run primes --workload primes --p 1,2,4,8
run primes-processes --workload primes --p 1,2,4,8 --mode processes
run mandelbrot-static --workload mandelbrot-static --p 1,2,4,8
run mandelbrot-dynamic --workload mandelbrot-dynamic --p 1,2,4,8
run mandelbrot-dynamic-processes --workload mandelbrot-dynamic --p 1,2,4,8 --mode processes
for f in 0.1 0.3 0.5; do
    run "serial-$f" --workload serial --serial-fraction "$f" --p 1,2,4,8
done
run scaled --workload scaled --serial-fraction 0.1 --p 1,2,4,8
run memsum --workload memsum --p 1,2,3,4,8
run io --workload io --p 1,2,4,8,16,32,64
run io-processes --workload io --p 1,2,4,8,16,32,64 --mode processes
