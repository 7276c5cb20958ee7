#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The test command (README, .ci/run). Installs what it needs, then:
#
#   gcc       build-ci-gcc, -Dwerror=true: build, every suite
#   asan      build-ci-clang, clang with ASan+UBSan and libFuzzer targets:
#             build, suites unit, golden, fuzz-replay
#   valgrind  build-ci-gcc --setup valgrind: suites unit, fuzz-replay
#   fuzz      each libFuzzer target for $FUZZ_SECONDS (default 60) from a
#             copy of its seed corpus; a crash is a failure, and the input
#             is kept in fuzz-out/<target>/
#
# Every meson test counts once per stage it runs in, every fuzz run counts
# as one test, and a stage that cannot build or run counts as one failure.
# A failing stage does not stop the later ones. The last line of output is
# "N passed, N failed, N skipped"; skipped tests are listed above it with
# the reason the test printed (a line starting "SKIP" or "# SKIP"). Exit
# status 1 if anything failed.
#
# Environment: FUZZ_SECONDS (60), JOBS (2, at most 2).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
JOBS=${JOBS:-2}
[ "$JOBS" -gt 2 ] 2>/dev/null && JOBS=2
export DEBIAN_FRONTEND=noninteractive
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

GCC_DIR=build-ci-gcc
CLANG_DIR=build-ci-clang
WORK=$(mktemp -d "${TMPDIR:-/tmp}/kvm-mced-ci.XXXXXX")
RESULTS=$WORK/results.tsv # stage <TAB> name <TAB> OK|FAIL|SKIP <TAB> detail
: >"$RESULTS"
trap 'rm -rf "$WORK"' EXIT
START=$(date +%s)

log() {
    printf '\n=== %s (%ds)\n' "$*" "$(($(date +%s) - START))"
}

# record STAGE NAME RESULT [DETAIL]
record() {
    printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "${4:-}" | tr -d '\r' >>"$RESULTS"
}

# Turn one meson testlog JSON file into result lines. Prints how many
# failures it found, so that a failing "meson test" run with none is
# counted as a failure of its own.
parse_testlog() {
    python3 - "$1" "$2" "$RESULTS" <<'EOF'
import json, sys
stage, path, out = sys.argv[1], sys.argv[2], sys.argv[3]
ok = {'OK': 'OK', 'EXPECTEDFAIL': 'OK', 'SKIP': 'SKIP'}
failed = 0
with open(path, encoding='utf-8', errors='replace') as f, open(out, 'a') as o:
    for line in f:
        line = line.strip()
        if not line:
            continue
        t = json.loads(line)
        result = ok.get(t.get('result'), 'FAIL')
        detail = ''
        if result == 'SKIP':
            for l in (t.get('stdout') or '').splitlines():
                l = l.strip()
                if l.startswith('SKIP') or l.startswith('# SKIP') or '# SKIP' in l[:12]:
                    detail = l
                    break
            detail = detail or 'no reason given (exit status 77)'
        elif result == 'FAIL':
            failed += 1
            detail = t.get('result', '?')
        name = t.get('name', '?').replace('\t', ' ')
        o.write('%s\t%s\t%s\t%s\n' % (stage, name, result, detail.replace('\t', ' ')))
print(failed)
EOF
}

# run_meson_test STAGE BUILDDIR LOGNAME [meson test args...]
run_meson_test() {
    local stage=$1 dir=$2 logname=$3
    shift 3
    rm -f "$dir"/meson-logs/testlog*.json
    meson test -C "$dir" --num-processes "$JOBS" --print-errorlogs "$@"
    local rc=$?
    local json="$dir/meson-logs/$logname"
    local failed=0
    if [ -s "$json" ]; then
        cp "$json" "$WORK/$stage.json"
        failed=$(parse_testlog "$stage" "$WORK/$stage.json") || failed=0
    fi
    if [ "$rc" -ne 0 ] && [ "${failed:-0}" -eq 0 ]; then
        record "$stage" "meson test" FAIL "meson test exited $rc"
    fi
}

# setup_build DIR [meson options...]: configure DIR (reusing it when it is
# already configured), then build it.
setup_build() {
    local dir=$1
    shift
    if [ -f "$dir/build.ninja" ]; then
        meson setup --reconfigure "$dir" "$@" || meson setup --wipe "$dir" "$@"
    else
        rm -rf "$dir"
        meson setup "$dir" "$@"
    fi || return 1
    ninja -C "$dir" -j "$JOBS"
}

# --- dependencies -----------------------------------------------------------
log "install dependencies"
if ! bash contrib/install-deps.sh; then
    record deps install-deps FAIL "contrib/install-deps.sh failed"
fi
if ! command -v python3 >/dev/null || ! command -v meson >/dev/null; then
    echo "run-tests: python3 and meson are required" >&2
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi

# --- gcc: every suite ---------------------------------------------------------
log "gcc build ($GCC_DIR)"
gcc_ok=0
if CC=gcc setup_build "$GCC_DIR" -Dwerror=true; then
    gcc_ok=1
    log "gcc tests"
    run_meson_test gcc "$GCC_DIR" testlog.json
else
    record gcc build FAIL "gcc build failed"
fi

# --- clang: ASan + UBSan ------------------------------------------------------
log "clang ASan+UBSan build ($CLANG_DIR)"
clang_ok=0
if CC=clang setup_build "$CLANG_DIR" -Db_sanitize=address,undefined -Db_lundef=false \
    -Dfuzzing=true -Dwerror=true; then
    clang_ok=1
    log "clang ASan+UBSan tests"
    run_meson_test asan "$CLANG_DIR" testlog.json --suite unit --suite golden --suite fuzz-replay --suite integration
else
    record asan build FAIL "clang ASan+UBSan build failed"
fi

# --- valgrind -----------------------------------------------------------------
if [ "$gcc_ok" -eq 1 ]; then
    log "valgrind tests"
    run_meson_test valgrind "$GCC_DIR" testlog-valgrind.json --setup valgrind \
        --suite unit --suite fuzz-replay
    # The daemon itself under valgrind: every kvm-mced the integration
    # cases start runs wrapped (tests/integration/harness.py, MCED_IT_WRAP);
    # an error or a definite leak makes it exit 99 and its case fail.
    log "valgrind daemon (integration)"
    supp=/usr/share/glib-2.0/valgrind/glib.supp
    MCED_IT_WRAP="valgrind -q --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite --show-leak-kinds=definite\
$([ -f "$supp" ] && echo " --suppressions=$supp")" \
        run_meson_test valgrind-daemon "$GCC_DIR" testlog.json --suite integration
else
    record valgrind tests FAIL "not run: the gcc build failed"
fi

# --- libFuzzer ------------------------------------------------------------------
if [ "$clang_ok" -eq 1 ]; then
    for corpus in tests/fuzz/corpus/*/; do
        target=$(basename "$corpus")
        exe="$CLANG_DIR/tests/fuzz/$target"
        log "fuzz $target for ${FUZZ_SECONDS}s"
        if [ ! -x "$exe" ]; then
            record fuzz "$target" FAIL "$exe was not built"
            continue
        fi
        dir="$WORK/corpus-$target"
        artifacts="$ROOT/fuzz-out/$target"
        mkdir -p "$dir" "$artifacts"
        cp -r "$corpus". "$dir"/
        dict=()
        [ -f "tests/fuzz/$target.dict" ] && dict=(-dict="tests/fuzz/$target.dict")
        "$exe" "${dict[@]}" -max_total_time="$FUZZ_SECONDS" -max_len=8192 -timeout=10 \
            -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
            "$dir" >"$WORK/fuzz-$target.log" 2>&1
        rc=$?
        tail -n 12 "$WORK/fuzz-$target.log"
        if [ "$rc" -eq 0 ]; then
            record fuzz "$target" OK
            rmdir "$artifacts" 2>/dev/null
        else
            grep -E 'ERROR|SUMMARY|panic|Test unit written' "$WORK/fuzz-$target.log" | head -n 20
            cp "$WORK/fuzz-$target.log" "$artifacts/fuzz.log"
            record fuzz "$target" FAIL "libFuzzer exited $rc; input and log in $artifacts/"
        fi
    done
else
    record fuzz libfuzzer FAIL "not run: the clang build failed"
fi

# --- summary --------------------------------------------------------------------
log "summary"
awk -F'\t' '
$3 == "OK"   { pass++ }
$3 == "FAIL" { fail++; failed[fail] = $1 ": " $2 (($4 != "") ? " (" $4 ")" : "") }
$3 == "SKIP" { skip++; skipped[skip] = $1 ": " $2 ": " $4 }
END {
    for (i = 1; i <= fail; i++) printf "FAILED  %s\n", failed[i]
    for (i = 1; i <= skip; i++) printf "SKIPPED %s\n", skipped[i]
    printf "%d passed, %d failed, %d skipped\n", pass, fail, skip
    exit (fail > 0)
}' "$RESULTS"
