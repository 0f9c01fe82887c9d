#!/usr/bin/env bash
# Fuzz smoke test: builds every fuzz target, then runs each for N seconds (first argument,
# default 30) on a scratch copy of its seed corpus, so the committed corpus never grows.
# Exits 0 when every target ran clean, 1 when any target crashed (panic, failed assertion,
# timeout, out of memory) or failed to build, 2 when the tools are missing.
#
#   fuzz/ci.sh          # 30 s per target
#   fuzz/ci.sh 120      # 2 min per target
#
# Environment:
#   FUZZ_TOOLCHAIN   rustup toolchain to use (default: nightly)
#   FUZZ_SANITIZER   none (default: the code under test is safe Rust and this runs ~6x
#                    faster) or address (cargo fuzz's own default; a separate build)
#   FUZZ_TARGETS     space-separated subset of targets (default: all four)
#   FUZZ_SEED        libFuzzer's -seed (default: 1, repeatable; 0 for a random one)
#   CARGO_BUILD_JOBS parallel rustc jobs (default: 2)
# A crashing input is left in fuzz/artifacts/<target>/ (reproduce with the command printed),
# each target's libFuzzer log in fuzz/artifacts/ci-logs/<target>.log.
set -euo pipefail

seconds="${1:-30}"
if ! [[ "$seconds" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [SECONDS_PER_TARGET]" >&2
    exit 2
fi

cd "$(dirname "$0")"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-2}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
sanitizer="${FUZZ_SANITIZER:-none}"
targets="${FUZZ_TARGETS:-command_line event_decode policy command_sequence}"
# A fixed libFuzzer seed makes a smoke run repeatable: the same inputs in the same order, so a
# crash it finds is found again, and a clean run stays clean (FUZZ_SEED=0 picks one at random).
seed="${FUZZ_SEED:-1}"

if ! cargo "+$toolchain" fuzz --version >/dev/null 2>&1; then
    echo "cargo-fuzz or the $toolchain toolchain is missing:" >&2
    echo "  rustup toolchain install $toolchain && cargo install cargo-fuzz" >&2
    exit 2
fi

# Each sanitizer gets its own target directory so switching does not rebuild everything.
fuzz_flags=(--sanitizer "$sanitizer")
if [[ "$sanitizer" != address ]]; then
    fuzz_flags+=(--target-dir "target/san-$sanitizer")
fi

scratch="$(mktemp -d "${TMPDIR:-/tmp}/memberledger-fuzz.XXXXXX")"
trap 'rm -rf "$scratch"' EXIT
logs="artifacts/ci-logs"
mkdir -p "$logs"

start=$SECONDS
echo "== building fuzz targets (sanitizer: $sanitizer)"
if ! cargo "+$toolchain" fuzz build "${fuzz_flags[@]}"; then
    echo "FAILED: the fuzz targets do not build" >&2
    exit 1
fi
echo "== built in $((SECONDS - start)) s"

failed=()
summary=()
for t in $targets; do
    if [[ ! -d "corpus/$t" ]]; then
        echo "no seed corpus for $t (fuzz/corpus/$t)" >&2
        failed+=("$t")
        continue
    fi
    cp -R "corpus/$t" "$scratch/$t"
    log="$logs/$t.log"
    echo "== $t: ${seconds} s"
    t0=$SECONDS
    # -timeout: one input running longer than this is a failure (a hang), not a slow test.
    if cargo "+$toolchain" fuzz run "${fuzz_flags[@]}" "$t" "$scratch/$t" -- \
        -max_total_time="$seconds" -seed="$seed" -timeout=20 -print_final_stats=1 >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
        failed+=("$t")
        # Show what went wrong: the panic message, libFuzzer's summary, where the input is.
        grep -E "panicked at|SUMMARY|Test unit written|ERROR: libFuzzer|Reproduce with|cargo fuzz run" \
            "$log" | head -20 >&2 || true
        echo "-- last lines of the log:" >&2
        tail -25 "$log" >&2
    fi
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
    rate="$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)"
    summary+=("$(printf '%-18s %-6s %10s runs %8s exec/s %4d s' "$t" "$status" "${runs:-?}" "${rate:-?}" $((SECONDS - t0)))")
done

echo "== summary (total $((SECONDS - start)) s including the build)"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
    echo "FAILED: ${failed[*]} (inputs in fuzz/artifacts/<target>/, logs in fuzz/$logs/)" >&2
    exit 1
fi
echo "all fuzz targets ran clean"
