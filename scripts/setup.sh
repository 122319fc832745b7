#!/usr/bin/env bash
# partplan set-up, idempotent: install the Debian packages the project needs, build in
# Release into build/, and export the example models into models/ (git-ignored).
#
#   bash scripts/setup.sh              # everything
#   PARTPLAN_SKIP_MODELS=1 bash scripts/setup.sh   # packages and build only
#   PARTPLAN_BUILD_DIR=build-dbg PARTPLAN_BUILD_TYPE=Debug bash scripts/setup.sh
#   PARTPLAN_PACKAGES_ONLY=1 bash scripts/setup.sh  # packages only (scripts/setup_torch2.sh)
#
# This is the default build, against Debian's LibTorch 1.13 (CPU). The torch 2.x CUDA build is
# scripts/setup_torch2.sh (docs/building.md).
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=${PARTPLAN_BUILD_DIR:-build}
BUILD_TYPE=${PARTPLAN_BUILD_TYPE:-Release}
JOBS=${PARTPLAN_JOBS:-$(nproc)}
# A translation unit that includes torch needs about 1 GB: cap jobs by memory as well.
mem_jobs=$(( $(awk '/MemAvailable/ {print int($2 / 1500000)}' /proc/meminfo) ))
(( mem_jobs >= 1 && mem_jobs < JOBS )) && JOBS=$mem_jobs

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libtorch-dev python3-torch python3-torchvision
  libopencv-dev libopencv-contrib-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev catch2
  libssl-dev zlib1g-dev
  libseccomp-dev  # partplan run: the enclave worker's syscall allow-list (docs/runtime.md)
  libopenblas0-pthread  # LibTorch's linear layers call BLAS: the reference libblas is ~3x slower
  dataset-fashion-mnist python3-skimage python3-jsonschema
  chromium  # the browser test renders report.html and compare.html headless (ctest label browser)
  slurm-wlm munge  # the Slurm test runs a sharded assessment on a one-node cluster (ctest label slurm)
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}" >&2
  SUDO=""
  [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "setup: all Debian packages present" >&2
fi

[[ -n ${PARTPLAN_PACKAGES_ONLY:-} ]] && exit 0

echo "setup: building ($BUILD_TYPE) in $BUILD_DIR with $JOBS jobs" >&2
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"

if [[ -z ${PARTPLAN_SKIP_MODELS:-} ]]; then
  echo "setup: exporting example models into models/ (kept if present)" >&2
  # Debian's python3 has torch 1.13; a pyenv python3 earlier on PATH does not.
  /usr/bin/python3 scripts/export_models.py --out models
  bash scripts/copy_photos.sh models/photos
  # The examples test registers only when the models exist: reconfigure to pick it up.
  cmake -S . -B "$BUILD_DIR" >/dev/null
fi
echo "setup: done; binary at $BUILD_DIR/partplan" >&2
