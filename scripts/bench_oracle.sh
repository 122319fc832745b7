#!/usr/bin/env bash
# Benchmark: the oracle exposure pre-screen (assess --attack oracle, no training) on every
# example model, with wall time, and the FLOP counts against the published totals.
# Prints a Markdown table. Usage: scripts/bench_oracle.sh [BIN] [MODELS_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/partplan} models=${2:-models}
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
echo "| model | data | cuts | most input-like cut (oracle KL) | reference KL | wall s |"
echo "|---|---|---|---|---|---|"
for m in ${MODELS:-fmnist_cnn vgg16_script vgg16_trace resnet50_script resnet50_trace efficientnet_b0_script efficientnet_b0_trace}; do
  f=$models/$m.pt
  [[ -f $f ]] || continue
  if [[ $m == fmnist_cnn ]]; then
    data=(--data builtin:fashion-mnist:test --set data.attacker_train=200 --set data.attacker_val=20 --set data.eval=40)
  else
    data=(--data "$models/photos" --set data.attacker_train=6 --set data.attacker_val=2 --set data.eval=4
          --set oracle.images=4 --set oracle.max_channels=8)
  fi
  start=$(date +%s.%N)
  "$bin" -q assess "$f" --attack oracle "${data[@]}" -o "$out/$m.json" > /dev/null
  end=$(date +%s.%N)
  /usr/bin/python3 - "$out/$m.json" "$m" "${data[1]}" "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.1f", b - a}')" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
scored = [c for c in p["cuts"] if c["oracle"]["available"]]
best = min(scored, key=lambda c: c["oracle"]["kl_min"])
print(f"| {sys.argv[2]} | {sys.argv[3].split('/')[-1]} | {len(p['cuts'])} ({len(scored)} scored) | "
      f"{best['name']} ({best['oracle']['kl_min']:.3f}) | {p['oracle_reference_kl']:.3f} | {sys.argv[4]} |")
PY
done
echo
echo "machine: $(nproc) cores; $("$bin" --version)"
