#!/usr/bin/env bash
# The README's test command: set up (packages, build, example models), then run ctest.
# CI (.ci/run) calls exactly this, so a fresh machine needs nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir "${PARTPLAN_BUILD_DIR:-build}" --output-on-failure -j "$(nproc)" "$@"
