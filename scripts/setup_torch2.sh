#!/usr/bin/env bash
# partplan's second build: against the CUDA LibTorch inside a pip-installed torch 2.x, beside
# the default build against Debian's LibTorch 1.13 (scripts/setup.sh). Idempotent. It
#   1. installs the Debian packages both builds share (scripts/setup.sh, packages only);
#   2. makes a virtual environment of its own (.venv-torch2/, git-ignored; the system Python is
#      untouched) and pip-installs torch and torchvision pinned to the GPU machine's versions;
#   3. configures and builds build-torch2/ against that torch (CUDA build, needs nvcc; no GPU);
#   4. exports the example models with torch 2.x into models-torch2/, the small ViT included;
#   5. runs ctest on the labels below (all arguments go to ctest).
#
#   bash scripts/setup_torch2.sh                       # everything, default labels
#   bash scripts/setup_torch2.sh -L examples           # other ctest arguments
#   PARTPLAN_TORCH2_SKIP_TESTS=1 bash scripts/setup_torch2.sh
#   PARTPLAN_TORCH2_VENV_ONLY=1 bash scripts/setup_torch2.sh   # step 2 only (no apt, no build):
#                                       # scripts/test.sh runs it beside the default build
#   PARTPLAN_TORCH_VERSION=2.12.0 PARTPLAN_TORCHVISION_VERSION=0.27.0 bash scripts/setup_torch2.sh
#
# Another torch: set the two versions above to a matching pair (torchvision's release notes
# name the torch each needs) and a CUDA toolkit whose major version matches the wheel's
# (torch.version.cuda); docs/building.md.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

TORCH_VERSION=${PARTPLAN_TORCH_VERSION:-2.11.0}
TORCHVISION_VERSION=${PARTPLAN_TORCHVISION_VERSION:-0.26.0}
VENV=${PARTPLAN_TORCH2_VENV:-$root/.venv-torch2}
BUILD_DIR=${PARTPLAN_TORCH2_BUILD_DIR:-build-torch2}
MODELS=${PARTPLAN_TORCH2_MODELS:-$root/models-torch2}
BUILD_TYPE=${PARTPLAN_BUILD_TYPE:-Release}
# The unit and CLI tests, partplan run's sandbox, fault and load cases (runtime: pip torch's
# OpenMP threads under the worker's seccomp allow-list), and the torch 2.x example models
# (examples: inspect/split/verify of every example, the ViT's assessment, the Fashion-MNIST
# CNN's end-to-end check).
LABELS=${PARTPLAN_TORCH2_LABELS:-'^(model|partition|metrics|data|attack|pipeline|plan|cli|smoke|examples|gpu|runtime)$'}
# A regex of test names to leave out of those labels (CI: scripts/test.sh); empty: none.
EXCLUDE=${PARTPLAN_TORCH2_EXCLUDE:-}
JOBS=${PARTPLAN_JOBS:-$(nproc)}
mem_jobs=$(( $(awk '/MemAvailable/ {print int($2 / 1500000)}' /proc/meminfo) ))
(( mem_jobs >= 1 && mem_jobs < JOBS )) && JOBS=$mem_jobs

log() { echo "setup_torch2: $*" >&2; }

# 1. Debian packages (CLI11, nlohmann/json, OpenCV, Catch2, data sets, ...).
[[ -n ${PARTPLAN_TORCH2_VENV_ONLY:-} ]] || PARTPLAN_PACKAGES_ONLY=1 bash scripts/setup.sh

# 2. The pip environment.
have_torch() {
  [[ -x $VENV/bin/python ]] &&
    "$VENV/bin/python" -c "import sys, torch, torchvision
sys.exit(0 if torch.__version__.split('+')[0] == '$TORCH_VERSION' and torchvision.__version__.split('+')[0] == '$TORCHVISION_VERSION' else 1)" 2>/dev/null
}
if have_torch; then
  log "torch $TORCH_VERSION and torchvision $TORCHVISION_VERSION present in $VENV"
else
  py=${PARTPLAN_PYTHON:-python3}
  if [[ ! -x $VENV/bin/python ]]; then
    log "creating the virtual environment $VENV with $($py --version 2>&1)"
    "$py" -m venv "$VENV" || { log "'$py -m venv' failed: install python3-venv or set PARTPLAN_PYTHON"; exit 1; }
  fi
  log "pip-installing torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION (about 4.5 GB with its CUDA libraries)"
  "$VENV/bin/pip" install -q --disable-pip-version-check "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION" numpy
fi
read -r torch_full cuda_version prefix < <("$VENV/bin/python" -c \
  "import torch; print(torch.__version__, torch.version.cuda, torch.utils.cmake_prefix_path)")
[[ $cuda_version != None ]] || { log "torch $torch_full in $VENV has no CUDA: install a CUDA wheel"; exit 1; }
log "torch $torch_full, CUDA $cuda_version, CMake prefix $prefix"
[[ -n ${PARTPLAN_TORCH2_VENV_ONLY:-} ]] && exit 0

# 3. Configure and build. torch's CMake config needs the CUDA toolkit (nvcc) even with no GPU.
nvcc_bin=$(command -v nvcc || true)
[[ -z $nvcc_bin && -x /usr/local/cuda/bin/nvcc ]] && nvcc_bin=/usr/local/cuda/bin/nvcc
[[ -n $nvcc_bin ]] || { log "nvcc not found: a CUDA LibTorch needs the CUDA toolkit (PATH or /usr/local/cuda)"; exit 1; }
log "building ($BUILD_TYPE) in $BUILD_DIR with $JOBS jobs, nvcc $nvcc_bin"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CUDA_COMPILER="$nvcc_bin" -DPARTPLAN_MODELS_DIR="$MODELS" >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS"
"$BUILD_DIR/partplan" --version

# 4. Example models written by torch 2.x.
log "exporting example models with torch $torch_full into $MODELS (kept if present)"
"$VENV/bin/python" scripts/export_models.py --out "$MODELS"
bash scripts/copy_photos.sh "$MODELS/photos"
cmake -S . -B "$BUILD_DIR" >/dev/null  # the examples tests register only where the models exist

# 5. Tests.
[[ -n ${PARTPLAN_TORCH2_SKIP_TESTS:-} ]] && { log "done; binary at $BUILD_DIR/partplan"; exit 0; }
if (($#)); then
  log "ctest $*"
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" "$@"
else
  exclude=()
  [[ -n $EXCLUDE ]] && exclude=(-E "$EXCLUDE")
  log "ctest on labels $LABELS${EXCLUDE:+, less $EXCLUDE}"
  ctest --test-dir "$BUILD_DIR" --output-on-failure -j "$(nproc)" -L "$LABELS" "${exclude[@]}"
fi
