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
# The torch 2.x build overlaps the default one without slowing it: its pip install (about
# 4.5 GB, bound by the network and the disk) starts at once in the background, and once the
# default build is done, the torch 2.x build and its model export run in the background at the
# lowest CPU priority (nice 19), on the cycles that ctest's serial tests, the fuzz runs and the
# links leave idle. Its tests run last, in the foreground.
# CI (.ci/run) calls exactly this, so a fresh machine needs nothing else.
#   bash scripts/test.sh                       # both builds
#   PARTPLAN_SKIP_TORCH2=1 PARTPLAN_SKIP_FUZZ=1 bash scripts/test.sh -L cli   # the default build only;
#                                                                           # args go to its ctest
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS
tmp=$(mktemp -d)
bg=""
trap '[[ -n $bg ]] && kill "$bg" 2>/dev/null; rm -rf "$tmp"' EXIT
if [[ -z ${PARTPLAN_SKIP_TORCH2:-} ]]; then
  PARTPLAN_TORCH2_VENV_ONLY=1 bash scripts/setup_torch2.sh >"$tmp/venv.log" 2>&1 &
  bg=$!
fi
bash scripts/setup.sh
if [[ -n $bg ]]; then
  if wait "$bg"; then
    echo "test: torch 2.x installed in the background (done after $((SECONDS - start)) s)" >&2
    PARTPLAN_TORCH2_SKIP_TESTS=1 nice -n 19 bash scripts/setup_torch2.sh >"$tmp/build.log" 2>&1 &
    bg=$!
  else
    # setup_torch2.sh installs again in the foreground below, with its output on stderr.
    echo "test: torch 2.x's background install failed; its log:" >&2
    cat "$tmp/venv.log" >&2
    bg=""
  fi
fi
ctest --test-dir "${PARTPLAN_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" "$@"
echo "test: default build (LibTorch 1.13) done after $((SECONDS - start)) s" >&2
if [[ -z ${PARTPLAN_SKIP_FUZZ:-} ]]; then
  PARTPLAN_FUZZ_RUNS=${PARTPLAN_FUZZ_RUNS:-10000} PARTPLAN_FUZZ_SEED=${PARTPLAN_FUZZ_SEED:-1} bash scripts/fuzz.sh
  echo "test: fuzzing done after $((SECONDS - start)) s" >&2
fi
if [[ -z ${PARTPLAN_SKIP_TORCH2:-} ]]; then
  if [[ -n $bg ]]; then
    if wait "$bg"; then
      echo "test: torch 2.x built in the background (done after $((SECONDS - start)) s)" >&2
    else
      # Built again below, in the foreground, where its errors show.
      echo "test: torch 2.x's background build failed (the end of its log below); building it again" >&2
      tail -40 "$tmp/build.log" >&2
    fi
    bg=""
  fi
  PARTPLAN_TORCH2_EXCLUDE=${PARTPLAN_TORCH2_EXCLUDE-'^examples\.assess_(fmnist_cnn|toniot_records)$'} \
    bash scripts/setup_torch2.sh
  echo "test: torch 2.x build done after $((SECONDS - start)) s" >&2
fi
