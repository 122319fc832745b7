#!/usr/bin/env bash
# Pack what scripts/gpu_check.sh needs on the GPU machine beyond that machine's own torch,
# nvcc, cmake and ninja (it has no apt and no network) into .gpu-deps/ (git-ignored), which
# travels with the working tree: device run with carry [".gpu-deps"].
#
#   debs/           header-only C++ dependencies as Debian packages, unpacked there with
#                   dpkg -x (never into /): CLI11, nlohmann/json, Catch2 v2, stb (the lean
#                   image backend: PARTPLAN_IMAGE_BACKEND=stb; Debian's OpenCV and its
#                   dependency closure are ~220 MB) and zlib's headers
#   fashion-mnist/  Debian's dataset-fashion-mnist files (the tests' and the demo's data)
#   photos/         the example photographs (scripts/copy_photos.sh) for the 224x224 benchmark
#
# Prints what travels in all (working tree + .gpu-deps) against the 64 MiB limit, and fails
# above it. Usage: bash scripts/pack_gpu_deps.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.gpu-deps
limit=$((64 * 1048576))
log() { echo "pack_gpu_deps: $*" >&2; }

rm -rf "$dest"
mkdir -p "$dest/debs" "$dest/fashion-mnist" "$dest/photos"
(cd "$dest/debs" && apt-get download -q libcli11-dev nlohmann-json3-dev catch2 libstb-dev zlib1g-dev >/dev/null)
cp /usr/share/datasets/fashion-mnist/*-idx*-ubyte.gz "$dest/fashion-mnist/" ||
  { log "Debian's dataset-fashion-mnist is not installed: run bash scripts/setup.sh first"; exit 1; }
bash scripts/copy_photos.sh "$dest/photos"

tree_bytes=$(git ls-files -z --cached --others --exclude-standard | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
deps_bytes=$(du -sb "$dest" | cut -f1)
total=$((tree_bytes + deps_bytes))
printf 'pack_gpu_deps: working tree %.1f MiB + %s %.1f MiB = %.1f MiB of the 64 MiB that may travel\n' \
  "$(echo "$tree_bytes / 1048576" | bc -l)" "$dest" "$(echo "$deps_bytes / 1048576" | bc -l)" \
  "$(echo "$total / 1048576" | bc -l)"
(cd "$dest" && du -sb debs/* fashion-mnist photos | awk '{printf "  %8.2f MiB  %s\n", $1 / 1048576, $2}')
((total <= limit)) || { log "over the 64 MiB limit: remove large untracked files from the tree"; exit 1; }
