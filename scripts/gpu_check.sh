#!/usr/bin/env bash
# The GPU machine's check, in one device call (docs/gpu.md): unpack what travelled, build
# partplan against that machine's own CUDA LibTorch with every core, export the benchmark
# models with its torch, run ctest (the CPU labels and `gpu`), run the GPU benchmark, and
# write logs and tables under $OUT. The table of steps prints last.
#
# Prepare here, then call the device (15 minutes of device time per session, 10 per call):
#   bash scripts/pack_gpu_deps.sh      # .gpu-deps/, git-ignored, measured against 64 MiB
#   device run: command "bash scripts/gpu_check.sh", carry [".gpu-deps"], timeout_s 600
# Expected there (16 cores, one H200; estimated from the 2-core dry run, never measured):
# unpack ~5 s, configure + build ~2 min, model export ~30 s, ctest ~1 min, benchmark ~3 min:
# about 7 minutes. Each step has its own limit (30 + 150 + 60 + 90 + 40 + 210 = 580 s) so that the
# logs and tables come back inside the 600 s call even when every step overruns; the benchmark
# skips the eager runs that would start after 170 s and says so in its table.
# What comes back from $OUT is at most 8 files, 2 folders down: gpu_check.log, steps.md,
# ctest.xml, ctest_summary.txt, runtime_gpu.json, runtime_gpu_ternary.json, bench_gpu.md and
# bench.tar.gz (the benchmark's own files).
#
# --dry-run: every step on this machine, with no GPU: the torch 2.x venv of
# scripts/setup_torch2.sh stands in for the GPU machine's python (PARTPLAN_PYTHON to change),
# deps unpack under /tmp, the gpu tests report "skipped", the benchmark runs its CPU dry run.
# PARTPLAN_GPU_CHECK_LABELS overrides the ctest label regex.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
dry=0
[[ ${1:-} == --dry-run ]] && dry=1
OUT=${OUT:-$root/out/gpu_check}
mkdir -p "$OUT"
log_file=$OUT/gpu_check.log
: > "$log_file"
steps_file=$OUT/steps.md
printf '| step | status | seconds | note |\n| --- | --- | --- | --- |\n' > "$steps_file"
jobs=$(nproc)
deps=${PARTPLAN_GPU_DEPS_ROOT:-/tmp/partplan-gpu-deps}
build=${PARTPLAN_GPU_BUILD_DIR:-build-gpu}
models=$root/models-gpu
labels=${PARTPLAN_GPU_CHECK_LABELS:-'^(model|partition|metrics|data|attack|pipeline|plan|cli|smoke|gpu)$'}
failed=0

say() { echo "gpu_check: $*" | tee -a "$log_file" >&2; }
# step NAME TIMEOUT_S NOTE -- command...: runs it with its output in the log, records a row.
step() {
  local name=$1 limit=$2 note=$3
  shift 4
  say "== $name (at most ${limit} s)"
  local t0=$SECONDS rc
  # Functions run in a child bash (exported below), so that timeout can bound them.
  timeout "$limit" bash -c '"$@"' step "$@" >> "$log_file" 2>&1
  rc=$?
  local dt=$((SECONDS - t0)) status=ok
  ((rc == 0)) || { status="FAILED (exit $rc)"; failed=1; }
  ((rc == 124)) && status="TIMED OUT"
  printf '| %s | %s | %d | %s |\n' "$name" "$status" "$dt" "$note" >> "$steps_file"
  say "   $status in ${dt} s"
  return $rc
}

unpack() {
  rm -rf "$deps" && mkdir -p "$deps"
  for deb in .gpu-deps/debs/*.deb; do dpkg -x "$deb" "$deps"; done
  ls "$deps/usr/include" "$deps/usr/include/stb"
  # Fashion-MNIST where data::load looks for it (/usr/share/datasets/fashion-mnist).
  local fm=/usr/share/datasets/fashion-mnist
  mkdir -p "$fm"
  for f in .gpu-deps/fashion-mnist/*.gz; do cmp -s "$f" "$fm/$(basename "$f")" || cp "$f" "$fm/"; done
  mkdir -p "$models/photos" && cp -n .gpu-deps/photos/* "$models/photos/"
  du -sh .gpu-deps "$deps"
}

find_python() {
  if [[ -n ${PARTPLAN_PYTHON:-} ]]; then echo "$PARTPLAN_PYTHON"
  elif ((dry)); then echo "$root/.venv-torch2/bin/python"
  else command -v python3
  fi
}

configure_build() {
  local prefix zlib_args=()
  prefix=$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)')
  # zlib: the machine's headers if it has them, else the carried ones with its own libz.so.1.
  if [[ ! -f /usr/include/zlib.h ]]; then
    local so
    so=$(ldconfig -p | awk '/libz\.so\.1 .*x86-64/ {print $NF; exit}')
    zlib_args=(-DZLIB_INCLUDE_DIR="$deps/usr/include" -DZLIB_LIBRARY="$so")
  fi
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix;$deps/usr" \
    -DPARTPLAN_IMAGE_BACKEND=stb -DPARTPLAN_STB_INCLUDE_DIR="$deps/usr/include/stb" \
    -DPARTPLAN_MODELS_DIR="$models" -DCMAKE_CUDA_COMPILER="$(command -v nvcc)" "${zlib_args[@]}" &&
    grep -E '^(Catch2_DIR|CLI11_DIR|nlohmann_json_DIR|Torch_DIR)' "$build/CMakeCache.txt" &&
    cmake --build "$build" -j "$jobs" && "$build/partplan" --version
}

export_models() {
  "$py" scripts/export_models.py --out "$models" \
    --only fmnist_cnn,vgg16,resnet50,efficientnet_b0
}

run_ctest() {
  ctest --test-dir "$build" -L "$labels" -j "$jobs" --output-on-failure --timeout 300 \
    --output-junit "$OUT/ctest.xml"
}

# partplan run with the untrusted worker on the GPU (--device cuda; a dry run uses the CPU): the
# example CNN split at pool2 (1,000 requests at concurrency 4) and at pool1+fc1 (ternary, 200),
# each checked against the unsplit model, into runtime_gpu.json and runtime_gpu_ternary.json.
run_on_gpu() {
  local dev=cuda work=${TMPDIR:-/tmp}/partplan-gpu-run
  ((dry)) && dev=cpu
  rm -rf "$work" && mkdir -p "$work" &&
    "$build/partplan" -q split "$models/fmnist_cnn.pt" --cuts pool2 --out "$work/bin" &&
    "$build/partplan" -q split "$models/fmnist_cnn.pt" --cuts pool1,fc1 --out "$work/ter" &&
    "$build/partplan" run "$work/bin/partition.json" --data builtin:fashion-mnist:test --requests 1000 \
      --concurrency 4 --device "$dev" -o "$OUT/runtime_gpu.json" &&
    "$build/partplan" run "$work/ter/partition.json" --data builtin:fashion-mnist:test --requests 200 \
      --device "$dev" -o "$OUT/runtime_gpu_ternary.json"
}

export -f unpack find_python configure_build export_models run_ctest run_on_gpu
export root dry OUT deps build models labels jobs

say "start $(date -u +%FT%TZ); $(uname -m), $jobs cores; dry run: $dry"
((dry)) || nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee -a "$log_file"
py=$(find_python)
# The benchmark's eager runs use the same torch as the build (in a dry run, the venv's).
export py PARTPLAN_PYTHON=$py
say "python $py: $("$py" -c 'import torch; print("torch", torch.__version__, "CUDA", torch.version.cuda, "GPU visible:", torch.cuda.is_available())' 2>&1)"

# Step limits: on the GPU machine they add up to under the 10-minute call; a dry run on this
# 2-core machine takes far longer (build ~7 min, ctest ~15 min, the benchmark's CPU run ~8).
if ((dry)); then lim_build=1800 lim_models=900 lim_ctest=2400 lim_bench=1200
else lim_build=150 lim_models=60 lim_ctest=90 lim_bench=210
fi
step unpack 30 "dpkg -x of .gpu-deps/debs, data, photos" -- unpack
step build $lim_build "against $("$py" -c 'import torch; print(torch.__version__)' 2>/dev/null), -j$jobs, images: stb" -- configure_build
if [[ -x $build/partplan ]]; then
  step models $lim_models "export_models.py with that torch" -- export_models
  step ctest $lim_ctest "labels $labels" -- run_ctest
  grep -E "tests passed|tests failed|Skipped|\*\*\*Skipped" "$log_file" | tail -20 > "$OUT/ctest_summary.txt"
  step run 40 "partplan run, untrusted worker on --device cuda" -- run_on_gpu
  bench_args=()
  ((dry)) && bench_args=(--dry-run)
  # The benchmark stops starting eager runs 40 s before its step's limit, so its tables come back.
  export BENCH_DEADLINE_S=$((lim_bench - 40))
  # Its many files go to one archive: only 8 files come back from $OUT.
  bench_dir=${TMPDIR:-/tmp}/partplan-gpu-bench
  rm -rf "$bench_dir"
  step bench $lim_bench "scripts/bench_gpu.sh ${bench_args[*]}" -- bash scripts/bench_gpu.sh "${bench_args[@]}" \
    "$build/partplan" "$bench_dir"
  [[ -f $bench_dir/bench_gpu.md ]] && cp "$bench_dir/bench_gpu.md" "$OUT/bench_gpu.md"
  [[ -d $bench_dir ]] && tar -czf "$OUT/bench.tar.gz" -C "$(dirname "$bench_dir")" "$(basename "$bench_dir")"
fi
say "end $(date -u +%FT%TZ)"
echo
cat "$OUT/ctest_summary.txt" 2>/dev/null
[[ -f $OUT/bench_gpu.md ]] && cat "$OUT/bench_gpu.md"
cat "$steps_file"
exit $failed
