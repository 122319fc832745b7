#!/usr/bin/env bash
# The README's test command: set up (packages, build, example models), then run ctest, on both
# builds (docs/building.md):
#   1. the default build against Debian's LibTorch 1.13: every label;
#   2. the fuzz targets (scripts/fuzz.sh): every reader of outside input under libFuzzer with
#      ASan + UBSan, 10000 inputs each from its seed corpus with a fixed seed, so that CI
#      fuzzes the same inputs on every machine (longer, random runs: scripts/fuzz.sh SECONDS);
#   3. the torch 2.x CUDA build (scripts/setup_torch2.sh): the unit, CLI, smoke and examples
#      labels, on models exported by torch 2.x, less the two end-to-end assessments that test
#      no torch difference (the Fashion-MNIST CNN and the TON_IoT records: the default build
#      runs both; the ViT's assessment runs on torch 2.x only).
# torch 2.x's pip download and unpacking (about 4.5 GB) is network- and disk-bound, so it runs
# in the background from the start, beside the default build and its tests.
# CI (.ci/run) calls exactly this, so a fresh machine needs nothing else.
#   bash scripts/test.sh                       # both builds
#   PARTPLAN_SKIP_TORCH2=1 PARTPLAN_SKIP_FUZZ=1 bash scripts/test.sh -L cli   # the default build only;
#                                                                           # args go to its ctest
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
prefetch=""
prefetch_log=${TMPDIR:-/tmp}/partplan-torch2-venv.$$.log
if [[ -z ${PARTPLAN_SKIP_TORCH2:-} ]]; then
  PARTPLAN_TORCH2_VENV_ONLY=1 bash scripts/setup_torch2.sh >"$prefetch_log" 2>&1 &
  prefetch=$!
  trap '[[ -z $prefetch ]] || kill "$prefetch" 2>/dev/null || true' EXIT  # only while it runs
fi
bash scripts/setup.sh
ctest --test-dir "${PARTPLAN_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" "$@"
echo "test: default build (LibTorch 1.13) done after $((SECONDS - start)) s" >&2
if [[ -z ${PARTPLAN_SKIP_FUZZ:-} ]]; then
  PARTPLAN_FUZZ_RUNS=${PARTPLAN_FUZZ_RUNS:-10000} PARTPLAN_FUZZ_SEED=${PARTPLAN_FUZZ_SEED:-1} bash scripts/fuzz.sh
  echo "test: fuzzing done after $((SECONDS - start)) s" >&2
fi
if [[ -z ${PARTPLAN_SKIP_TORCH2:-} ]]; then
  # The background install must be over before the build uses its venv; if it failed,
  # setup_torch2.sh installs again in the foreground, with its output on stderr.
  if wait "$prefetch"; then
    echo "test: torch 2.x installed in the background (done after $((SECONDS - start)) s)" >&2
  else
    echo "test: torch 2.x's background install failed; its log:" >&2
    cat "$prefetch_log" >&2
  fi
  prefetch=""
  rm -f "$prefetch_log"
  PARTPLAN_TORCH2_EXCLUDE=${PARTPLAN_TORCH2_EXCLUDE-'^examples\.assess_(fmnist_cnn|toniot_records)$'} \
    bash scripts/setup_torch2.sh
  echo "test: torch 2.x build done after $((SECONDS - start)) s" >&2
fi
