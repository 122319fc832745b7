#!/usr/bin/env bash
# The README's test command: set up (packages, build, example models), then run ctest, on both
# builds (docs/building.md):
#   1. the default build against Debian's LibTorch 1.13: every label;
#   2. the fuzz targets (scripts/fuzz.sh): every reader of outside input under libFuzzer with
#      ASan + UBSan, 10000 inputs each from its seed corpus with a fixed seed, so that CI
#      fuzzes the same inputs on every machine (longer, random runs: scripts/fuzz.sh SECONDS);
#   3. the torch 2.x CUDA build (scripts/setup_torch2.sh): the unit, CLI, smoke and examples
#      labels, on models exported by torch 2.x.
# CI (.ci/run) calls exactly this, so a fresh machine needs nothing else.
#   bash scripts/test.sh                       # both builds
#   PARTPLAN_SKIP_TORCH2=1 PARTPLAN_SKIP_FUZZ=1 bash scripts/test.sh -L cli   # the default build only;
#                                                                           # args go to its ctest
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
bash scripts/setup.sh
ctest --test-dir "${PARTPLAN_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" "$@"
echo "test: default build (LibTorch 1.13) done after $((SECONDS - start)) s" >&2
if [[ -z ${PARTPLAN_SKIP_FUZZ:-} ]]; then
  PARTPLAN_FUZZ_RUNS=${PARTPLAN_FUZZ_RUNS:-10000} PARTPLAN_FUZZ_SEED=${PARTPLAN_FUZZ_SEED:-1} bash scripts/fuzz.sh
  echo "test: fuzzing done after $((SECONDS - start)) s" >&2
fi
if [[ -z ${PARTPLAN_SKIP_TORCH2:-} ]]; then
  bash scripts/setup_torch2.sh
  echo "test: torch 2.x build done after $((SECONDS - start)) s" >&2
fi
