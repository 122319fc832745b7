#!/usr/bin/env bash
# inspect, split at a middle cut, and verify every example model made by export_models.py
# (the ViT too, where torch 2.x exported it).
# Usage: scripts/check_examples.sh PARTPLAN_BIN MODELS_DIR OUT_DIR
set -euo pipefail
bin=$1 models=$2 out=$3
rm -rf "$out"; mkdir -p "$out"
n=0
names=(fmnist_cnn vgg16_script vgg16_trace resnet50_script resnet50_trace efficientnet_b0_script efficientnet_b0_trace)
[[ -f $models/vit_tiny.pt ]] && names+=(vit_tiny)
for m in "${names[@]}"; do
  f="$models/$m.pt"
  [[ -f $f ]] || { echo "missing $f: run scripts/setup.sh" >&2; exit 1; }
  "$bin" -q inspect "$f" --cuts all --json > "$out/$m.inspect.json"
  count=$(grep -c '"id":' "$out/$m.inspect.json")
  mid=$(( count / 2 ))
  "$bin" -q split "$f" --cuts "$mid" --out "$out/$m" > /dev/null
  "$bin" -q verify "$out/$m/partition.json" --samples 2 | grep -q '^PASS$'
  rm -f "$out/$m"/*.pt   # the parts of VGG-16 weigh 0.5 GB
  echo "$m: $count cuts, split at $mid, verify PASS"
  n=$((n + 1))
done
echo "$n models checked"
