#!/usr/bin/env bash
# Runs the whole test suite N times in a row (default 10) and reports every failure.
#   scripts/flaky.sh [N]
# Exits non-zero if any run failed; the log of each failed run is kept under <target>/flaky/.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${1:-10}
logs="$(scripts/target-dir)/flaky"
mkdir -p "$logs"
rm -f "$logs"/run-*.log

echo "building the test suite once..."
cargo test --workspace --no-run --quiet || { echo "build failed"; exit 1; }
# The deadlock tests need a feature no package turns on (see crates/sync-primitives/README.md).
cargo test -p sync-primitives --features deadlock-detection --test deadlock --no-run --quiet ||
    { echo "build failed"; exit 1; }

failed=0
for i in $(seq 1 "$runs"); do
    log="$logs/run-$i.log"
    start=$(date +%s)
    if cargo test --workspace >"$log" 2>&1 &&
        cargo test -p sync-primitives --features deadlock-detection --test deadlock >>"$log" 2>&1; then
        echo "run $i/$runs: ok ($(( $(date +%s) - start ))s)"
        rm -f "$log"
    else
        failed=$((failed + 1))
        echo "run $i/$runs: FAILED ($(( $(date +%s) - start ))s) — log: $log"
        grep -E '^test .* FAILED$|^---- .* stdout ----$|panicked at' "$log" | sed 's/^/    /' | head -20
    fi
done

echo
if [ "$failed" -eq 0 ]; then
    echo "$runs passed, 0 failed"
else
    echo "$((runs - failed)) passed, $failed failed"
    exit 1
fi
