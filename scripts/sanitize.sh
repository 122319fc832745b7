#!/usr/bin/env bash
# The unit, CLI and smoke tests under AddressSanitizer + UndefinedBehaviorSanitizer (with
# LeakSanitizer), against Debian's LibTorch 1.13: partplan's own code is instrumented,
# LibTorch is not. Any report fails the test that triggered it (halt_on_error).
# Not in CI: it costs a full instrumented build (about 30 min on 2 cores) and tests 1.8x
# slower (docs/building.md, "Fuzzing and sanitizers"); run it before a release and after
# touching a reader.
#   bash scripts/sanitize.sh [ctest args...]     (default: the unit, CLI and smoke labels)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${PARTPLAN_SANITIZE_BUILD_DIR:-build-asan}
jobs=${PARTPLAN_JOBS:-$(nproc)}
flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
t0=$SECONDS
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
cmake --build "$build" -j "$jobs"
built=$((SECONDS - t0))
export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# Leaks inside LibTorch's and OpenMP's own start-up singletons are theirs, not partplan's.
export LSAN_OPTIONS=suppressions=$(pwd)/scripts/lsan.supp:print_suppressions=0
t1=$SECONDS
if (($#)); then
  ctest --test-dir "$build" --output-on-failure -j "$jobs" "$@"
else
  ctest --test-dir "$build" --output-on-failure -j "$jobs" -L '^(model|partition|metrics|data|attack|pipeline|plan|cli|smoke)$'
fi
echo "sanitize: build ${built} s, tests $((SECONDS - t1)) s ($jobs jobs)"
