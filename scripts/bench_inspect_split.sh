#!/usr/bin/env bash
# Benchmark: wall time and peak memory of `inspect` and `split` (one middle cut) per example
# model, median of REPS runs. Prints a Markdown table on stdout.
#   bash scripts/bench_inspect_split.sh [BIN] [MODELS_DIR] [REPS]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/partplan} models=${2:-models} reps=${3:-3}
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "| model | cuts | inspect s | split s | inspect+split s | peak RSS MiB |"
echo "|---|---|---|---|---|---|"
for m in ${MODELS:-fmnist_cnn resnet50_script resnet50_trace efficientnet_b0_script efficientnet_b0_trace vgg16_script vgg16_trace}; do
  f=$models/$m.pt
  [[ -f $f ]] || continue
  cuts=$("$bin" -q inspect "$f" --cuts all --json | grep -c '"id":')
  mid=$((cuts / 2))
  ti=() ts=() rss=0
  for _ in $(seq "$reps"); do
    /usr/bin/time -f "%e %M" -o "$out/t" "$bin" -q inspect "$f" --cuts all >/dev/null
    read -r t m1 < "$out/t"; ti+=("$t")
    /usr/bin/time -f "%e %M" -o "$out/t" "$bin" -q split "$f" --cuts "$mid" --out "$out/s" --force >/dev/null
    read -r t m2 < "$out/t"; ts+=("$t")
    (( m1 > rss )) && rss=$m1; (( m2 > rss )) && rss=$m2
  done
  i=$(printf '%s\n' "${ti[@]}" | median) s=$(printf '%s\n' "${ts[@]}" | median)
  echo "| $m | $cuts | $i | $s | $(awk -v a="$i" -v b="$s" "BEGIN {printf \"%.2f\", a + b}") | $((rss / 1024)) |"
done
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $("$bin" --version)"
