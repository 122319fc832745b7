#!/usr/bin/env bash
# Fuzz every reader of outside input with libFuzzer (fuzz/): configure build-fuzz/ with clang
# (every library instrumented for ASan + UBSan, -DPARTPLAN_FUZZ=ON), build the targets, run
# each for SECONDS_PER_TARGET from its seed corpus (fuzz/corpus/<reader>/), and print a table.
# Exits 1 on any finding: a crash, an exception other than partplan::Error, a hang (10 s), a
# leak, a sanitizer report, or memory above 2 GiB. Each finding's input is written to
# fuzz/findings/ (git-ignored); reproduce one with `build-fuzz/fuzz/<target> FILE`.
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET]      (default 30)
# PARTPLAN_FUZZ_RUNS=N runs each target for N inputs instead, and PARTPLAN_FUZZ_SEED=S fixes
# libFuzzer's seed: together a run that does the same on every machine (what CI runs).
# PARTPLAN_FUZZ_TARGETS="fuzz_csv fuzz_plan" runs only those; PARTPLAN_JOBS sets the build's
# parallelism (default: the cores); PARTPLAN_FUZZ_BUILD_DIR the build directory.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-30}
build=${PARTPLAN_FUZZ_BUILD_DIR:-build-fuzz}
jobs=${PARTPLAN_JOBS:-$(nproc)}
cxx=${PARTPLAN_FUZZ_CXX:-$(command -v clang++-14 || command -v clang++ || true)}
runtime=$(compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" || true)
if [[ -z $cxx || ( -z $runtime && -z ${PARTPLAN_FUZZ_CXX:-} ) ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "fuzz: installing clang-14 and its libFuzzer runtime (libclang-rt-14-dev)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null
    cxx=$(command -v clang++-14)
  else
    echo "fuzz: clang++ with libFuzzer not found: apt-get install clang-14 libclang-rt-14-dev" >&2
    exit 2
  fi
fi
findings=fuzz/findings
mkdir -p "$findings"

t0=$SECONDS
# -O1 with assertions on (no NDEBUG): nlohmann/json's and the standard library's checks abort.
cmake -S . -B "$build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DPARTPLAN_FUZZ=ON -DPARTPLAN_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 >/dev/null
cmake --build "$build" -j "$jobs" --target fuzz
built=$((SECONDS - t0))

if [[ -n ${PARTPLAN_FUZZ_TARGETS:-} ]]; then
  read -r -a targets <<<"$PARTPLAN_FUZZ_TARGETS"
else
  mapfile -t targets <"$build/fuzz/fuzz_targets.txt"
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS=suppressions=$PWD/scripts/lsan.supp:print_suppressions=0
export OMP_NUM_THREADS=1
rows=()
failed=0
for t in "${targets[@]}"; do
  [[ -z $t ]] && continue
  exe="$build/fuzz/$t"
  reader=${t#fuzz_}
  reader=${reader%_stb}
  seeds=fuzz/corpus/$reader
  work="$build/fuzz/corpus/$t"  # what a run adds to the seeds stays out of the source tree
  mkdir -p "$work"
  dict=()
  case $reader in settings | partition | plan | run_store | runtime_json) dict=(-dict=fuzz/json.dict) ;; esac
  log="$build/fuzz/$t.log"
  before=$(find "$findings" -name "$t-*" | wc -l)
  start=$SECONDS
  rc=0
  limit=(-max_total_time="$seconds")
  [[ -n ${PARTPLAN_FUZZ_RUNS:-} ]] && limit=(-runs="$PARTPLAN_FUZZ_RUNS")
  [[ -n ${PARTPLAN_FUZZ_SEED:-} ]] && limit+=(-seed="$PARTPLAN_FUZZ_SEED")
  "$exe" "${limit[@]}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$findings/$t-" "${dict[@]}" "$work" "$seeds" >"$log" 2>&1 || rc=$?
  took=$((SECONDS - start))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  new=$(($(find "$findings" -name "$t-*" | wc -l) - before))
  if ((rc != 0 && new == 0)); then new="rc $rc"; fi
  if [[ $new != 0 ]]; then
    failed=1
    echo "fuzz: $t found something: see $log and $findings/$t-*" >&2
    grep -m3 -E "ERROR: |runtime error|contract broken|uncaught exception|terminate called" "$log" >&2 || true
  fi
  rows+=("$(printf '%-16s %12s %8s %12s' "$t" "${execs:-?}" "$took" "$new")")
done
printf '%-16s %12s %8s %12s\n' target executions seconds "new crashes"
printf '%s\n' "${rows[@]}"
echo "fuzz: build ${built} s, runs $((SECONDS - t0 - built)) s" >&2
exit "$failed"
