#!/usr/bin/env bash
# Benchmark: each attacker's eval SSIM, PSNR and time at every cut of the example CNN
# (models/fmnist_cnn.pt), on Fashion-MNIST and on real photo crops (models/photos, 16 crops
# per photo, split by photo, turned into the model's 1x28x28), at the quick and thorough
# budgets. All three attackers run at every cut (whitebox.max_front_gflops=0); the envelope is
# the max over them and over deeper cuts. Prints one Markdown table (docs/benchmarks.md).
#
#   bash scripts/bench_attacks.sh                      # quick budget, both data sets
#   BUDGETS="quick thorough" bash scripts/bench_attacks.sh
#   THOROUGH_STEPS=1000 BUDGETS=thorough bash scripts/bench_attacks.sh   # a shorter thorough run
#   bash scripts/bench_attacks.sh --device cuda        # extra assess flags
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-build/partplan}
model=${MODEL:-models/fmnist_cnn.pt}
budgets=${BUDGETS:-quick}
datasets=${DATASETS:-"fashion-mnist=builtin:fashion-mnist photos=models/photos"}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
[[ -f $model ]] || { echo "bench_attacks: $model missing: run scripts/setup.sh" >&2; exit 2; }
echo "| data | budget | cut | attack | SSIM [95% CI] | PSNR dB | images | steps | trend | seconds | envelope |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for budget in $budgets; do
  extra=()
  [[ $budget == thorough && -n ${THOROUGH_STEPS:-} ]] && extra+=(--steps "$THOROUGH_STEPS")
  for spec in $datasets; do
    name=${spec%%=*} src=${spec#*=}
    echo "bench_attacks: $name, $budget budget ..." >&2
    rc=0
    "$bin" --log assess "$model" --data "$src" --config "$budget" --attack cgan,inverse,whitebox \
      --set whitebox.max_front_gflops=0 --set data.crops_per_image=16 "${extra[@]}" \
      -o "$out/$name-$budget.json" "$@" > "$out/$name-$budget.out" 2> "$out/$name-$budget.err" || rc=$?
    if [[ $rc -ne 0 && $rc -ne 3 ]]; then
      echo "bench_attacks: $name/$budget failed (exit $rc): $(grep error: "$out/$name-$budget.err" | tail -1)" >&2
      exit 1
    fi
    /usr/bin/python3 - "$name" "$budget" "$out/$name-$budget.json" <<'PY'
import json, sys
name, budget, path = sys.argv[1:4]
p = json.load(open(path))
for c in p["cuts"]:
    for a in c["attacks"]:
        t = a["train"]
        trend = "-" if a["attack"] == "whitebox" else ("rising" if t["still_improving"] else "flat")
        s = a["ssim"]
        print(f"| {name} | {budget} | {c['name']} | {a['attack']} | {s['mean']:.3f} [{s['ci_low']:.3f}, "
              f"{s['ci_high']:.3f}] | {a['psnr_db']['mean']:.1f} | {a['images']} | {t['steps_run']} | {trend} | "
              f"{t['seconds']:.1f} | {c['envelope']:.3f} |")
PY
  done
done
echo "bench_attacks: plans and logs in $out" >&2
