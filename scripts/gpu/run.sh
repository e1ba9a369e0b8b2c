#!/usr/bin/env bash
# Runs on the GPU machine, from the repository root, after `for f in .gl/*.deb; do dpkg -x $f /; done;
# ldconfig`: the test suite under validation (as packed by scripts/gpu/build.sh), the demo and the
# benchmarks. Results go to $OUT/results.tar.gz.
#   scripts/gpu/run.sh [tests[=REGEX]] [demo[=ARG,ARG...]]... [bench[=FILTER]]     (default: tests demo)
# tests=REGEX runs only the tests whose CTest name matches; demo=--budget-mb,24 passes its
# comma-separated arguments to the demo (each demo part writes demo[-ARGS].log and its outputs);
# bench=FILTER passes
# --benchmark_filter=FILTER. SEDX_GPU_DEADLINE (seconds, default 540) stops starting new work.
set -uo pipefail
ROOT="$(pwd)"
START=$(date +%s)
DEADLINE=${SEDX_GPU_DEADLINE:-540}
export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json}
export LD_LIBRARY_PATH="$ROOT/build-gpu/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export SEDX_MEM_FONT="$ROOT/build-gpu/DejaVuSans.ttf"
RES="$(mktemp -d)/gpu-results"
mkdir -p "$RES"
parts=("$@")
[ ${#parts[@]} -eq 0 ] && parts=(tests demo)
left() { echo $((DEADLINE - ($(date +%s) - START))); }
finish() {
    tar -C "$(dirname "$RES")" -czf "${OUT:-.}/results.tar.gz" gpu-results
    tail -3 "$RES/tests-summary.txt" 2>/dev/null
}
trap finish EXIT
# The manifest holds the absolute paths of the checkout it was made in.
BUILT_AT=$(head -1 build-gpu/tests.tsv | cut -d$'\x1f' -f2 | sed 's#/build-gpu/.*##')
if [ -n "$BUILT_AT" ] && [ "$BUILT_AT" != "$ROOT" ] && [ ! -e "$BUILT_AT" ]; then
    mkdir -p "$(dirname "$BUILT_AT")" && ln -s "$ROOT" "$BUILT_AT"
fi
# The folders of the build tree here, which the tests write into.
while read -r dir; do mkdir -p "$ROOT/$dir"; done < build-gpu/dirs.txt
# Tests that start a program by its compiled-in path (the surfaces test runs build/debug's sedx-mem)
# find the packed copy there.
(cd build-gpu/debug && find . -type f -perm -u+x) | while read -r exe; do
    [ -e "build/debug/$exe" ] || ln -s "$ROOT/build-gpu/debug/$exe" "build/debug/$exe"
done
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1
    nproc
    build-gpu/release/tools/sedx-mem/sedx-mem info
} > "$RES/device.txt" 2>&1

# One test of the manifest (patterns are matched like CMake's MATCHES: ^ and $ anchor the whole
# text, and bash's [[ =~ ]] does the same); prints PASS/FAIL/SKIP lines to the summary, output to tests.log.
run_test() {
    local name=$1 wd=$2 env=$3 kind=$4 program=$5 args=$6 expect=$7 patterns=$8 rc out err p
    local -a argv=()
    [ -n "$args" ] && IFS='|' read -ra argv <<< "$args"
    echo "=== $name ($kind)" >> "$RES/tests.log"
    case "$kind" in
    gtest)
        (cd "$wd" && env $env timeout "$(left)" "$program" "${argv[@]}") >> "$RES/tests.log" 2>&1
        rc=$?
        [ $rc -eq 0 ] && return 0
        echo "exit $rc"; return 1 ;;
    expect_failure) # tests/Support/ExpectFailure.cmake
        out=$(cd "$wd" && env $env "$program" 2>&1; echo "x$?"); rc=${out##*x}; out=${out%x*}
        printf '%s\n' "$out" >> "$RES/tests.log"
        [ $rc -ne 0 ] && [ $rc -lt 128 ] || { echo "exit $rc, a failure was expected"; return 1; }
        IFS='|' read -ra pats <<< "$patterns"
        for p in "${pats[@]}"; do
            p=${p//$'\x1e'/$'\n'}
            [[ "$out" =~ $p ]] || { echo "output does not match '$p'"; return 1; }
        done
        return 0 ;;
    expect_output) # tests/Support/ExpectOutput.cmake
        out=$(cd "$wd" && env $env "$program" 2>&1; echo "x$?"); rc=${out##*x}; out=${out%x*}
        printf '%s\n' "$out" >> "$RES/tests.log"
        [ $rc -eq 0 ] || { echo "exit $rc, 0 was expected"; return 1; }
        IFS='|' read -ra pats <<< "$patterns"
        for p in "${pats[@]}"; do
            p=${p//$'\x1e'/$'\n'}
            [[ "$out" =~ $p ]] || { echo "output does not match '$p'"; return 1; }
        done
        return 0 ;;
    run_command) # tests/Tool/RunCommand.cmake
        local o=""
        for i in "${!argv[@]}"; do [ "${argv[$i]}" = "-o" ] && o="${argv[$((i + 1))]}"; done
        [ -n "$o" ] && rm -f "$o"
        (cd "$wd" && env $env "$program" "${argv[@]}" 2> "$RES/stderr.txt" > "$RES/stdout.txt"); rc=$?
        cat "$RES/stdout.txt" >> "$RES/tests.log"
        err=$(cat "$RES/stderr.txt"; echo x); err=${err%x} # keeps the trailing newline
        printf '%s' "$err" >> "$RES/tests.log"
        [ $rc -lt 128 ] || { echo "killed (exit $rc)"; return 1; }
        local code=""
        [[ "$expect" == FAIL:* ]] && { code=${expect#FAIL:}; expect=FAIL; }
        if [ "$expect" = FAIL ]; then
            [ $rc -ne 0 ] || { echo "exit 0, a failure was expected"; return 1; }
            [ -z "$code" ] || [ $rc -eq "$code" ] || { echo "exit $rc, $code was expected"; return 1; }
            [ ! -s "$RES/stdout.txt" ] || { echo "stdout not empty: errors go to stderr"; return 1; }
            IFS='|' read -ra pats <<< "$patterns"
            for p in "${pats[@]}"; do
                p=${p//$'\x1e'/$'\n'}
                [[ "$err" =~ $p ]] || { echo "stderr does not match '$p'"; return 1; }
            done
        else
            [ $rc -eq 0 ] || { echo "exit $rc"; return 1; }
            [ -z "$(printf '%s\n' "$err" | grep -v '^sedx-mem: warning: cannot load the font' | grep .)" ] ||
                { echo "stderr not empty"; return 1; }
            [ -z "$o" ] || [ -s "$o" ] || { echo "no output file $o"; return 1; }
        fi
        return 0 ;;
    esac
}

for part in "${parts[@]}"; do
    case "$part" in
    tests | tests=*)
        filter="${part#tests}"; filter="${filter#=}"
        passed=0; failed=0; skipped=0
        while IFS=$'\x1f' read -r name wd env kind program args expect patterns; do
            [ -n "$filter" ] && ! [[ "$name" =~ $filter ]] && continue
            if [ "$kind" = cmake_only ]; then
                echo "SKIP $name: builds a consumer project with CMake and a compiler, which the GPU machine does not have" >> "$RES/tests-summary.txt"
                skipped=$((skipped + 1)); continue
            fi
            if [ "$(left)" -le 5 ]; then
                echo "SKIP $name: the call's time ran out" >> "$RES/tests-summary.txt"
                skipped=$((skipped + 1)); continue
            fi
            t0=$(date +%s)
            why=$(run_test "$name" "$wd" "$env" "$kind" "$program" "$args" "$expect" "$patterns" < /dev/null)
            if [ $? -eq 0 ]; then passed=$((passed + 1)); echo "PASS $name ($(( $(date +%s) - t0 ))s)" >> "$RES/tests-summary.txt"
            else failed=$((failed + 1)); echo "FAIL $name: $why ($(( $(date +%s) - t0 ))s)" >> "$RES/tests-summary.txt"; fi
        done < build-gpu/tests.tsv
        cp /tmp/sedx-model-*.log "$RES/" 2>/dev/null
        grep -hE "^\[  (FAILED|SKIPPED) " "$RES/tests.log" | sort | uniq > "$RES/gtest-failed-skipped.txt"
        grep -hE "^\[  PASSED  \] [0-9]+ test" "$RES/tests.log" | awk '{s += $4} END {print s " gtest cases passed"}' >> "$RES/gtest-failed-skipped.txt"
        echo "$passed passed, $failed failed, $skipped skipped" >> "$RES/tests-summary.txt"
        ;;
    demo | demo=*)
        demo_args="${part#demo}"; demo_args="${demo_args#=}"
        IFS=',' read -ra demo_argv <<< "$demo_args"
        name=demo; [ -n "$demo_args" ] && name="demo$(printf '%s' "$demo_args" | tr -c 'A-Za-z0-9' '-')"
        timeout "$(left)" build-gpu/release/tools/sedx-mem/sedx-mem demo --validation --out "$RES/$name" \
            "${demo_argv[@]}" > "$RES/$name.log" 2>&1
        echo "exit $?" >> "$RES/$name.log"
        ;;
    bench | bench=*)
        filter="${part#bench}"; filter="${filter#=}"
        timeout "$(left)" build-gpu/release/bench/sedx-bench --out="$RES/bench.json" \
            ${filter:+--benchmark_filter="$filter"} > "$RES/bench.log" 2>&1
        echo "exit $?" >> "$RES/bench.log"
        ;;
    esac
done
