#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The parse benchmark (DESIGN.md section 10; figures in docs/benchmarks.md).
#
# 1. Throughput: tests/bench/bench-parse over a generated 1,000,000-line
#    kernel log in three modes (mixed: ~1% machine-check lines; nonmatch;
#    mce), best and median of $BENCH_REPS repetitions.
# 2. Instructions per line: the same program under callgrind, counting only
#    inside bench_parse_loop() (text strip + assembler + line parsers), for
#    the nonmatch and mce modes over $CALLGRIND_LINES lines, on the journal
#    path (bare messages, --journal) and the text path (prefixes stripped).
#
# Environment: BUILD_DIR (default build-bench, configured here if missing,
# buildtype debugoptimized = -O2 -g), BENCH_LINES (1000000), BENCH_REPS (5),
# CALLGRIND_LINES (200000). Not a test: nothing here passes or fails on the
# figures.
set -euo pipefail

cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-bench}
BENCH_LINES=${BENCH_LINES:-1000000}
BENCH_REPS=${BENCH_REPS:-5}
CALLGRIND_LINES=${CALLGRIND_LINES:-200000}

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
    meson setup "$BUILD_DIR" --buildtype=debugoptimized >/dev/null
fi
ninja -C "$BUILD_DIR" -j2 tests/bench/bench-parse >/dev/null
bench="$BUILD_DIR/tests/bench/bench-parse"

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores"
echo "compiler: $(${CC:-cc} --version | head -1); kernel: $(uname -r)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

echo "== throughput ($BENCH_LINES lines, $BENCH_REPS repetitions)"
for mode in mixed nonmatch mce; do
    "$bench" --mode "$mode" --lines "$BENCH_LINES" --reps "$BENCH_REPS"
done

if ! command -v valgrind >/dev/null; then
    echo "== instructions per line: skipped (valgrind not installed)"
    exit 0
fi

echo "== instructions per line (callgrind, $CALLGRIND_LINES lines)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
declare -A target=([nonmatch]=150 [mce]=3000)
declare -A label=([nonmatch]="non-matching" [mce]="mce")
for input in journal text; do
    flag=""
    [ "$input" = journal ] && flag="--journal"
    for mode in nonmatch mce; do
        out="$tmp/callgrind.$input.$mode"
        valgrind --tool=callgrind --toggle-collect='bench_parse_loop*' \
            --callgrind-out-file="$out" \
            "$bench" --mode "$mode" --lines "$CALLGRIND_LINES" --reps 1 $flag >"$tmp/log.$mode" 2>&1
        ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$out")
        if [ -z "$ir" ]; then
            echo "bench: no totals in $out" >&2
            cat "$tmp/log.$mode" >&2
            exit 1
        fi
        per_line=$(awk -v ir="$ir" -v n="$CALLGRIND_LINES" 'BEGIN { printf "%.1f", ir / n }')
        echo "instructions/line ${label[$mode]} ($input path): $per_line (target <= ${target[$mode]})"
    done
done
