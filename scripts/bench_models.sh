#!/usr/bin/env bash
# Benchmark: assess VGG-16, ResNet-50 and EfficientNet-B0 at 1x3x224x224 on CPU with the
# default preset plus a small budget, on crops of the bundled real photos (models/photos,
# copied by set-up: 20 photos x CROPS crops, split by photo). Per model it prints the cuts,
# wall time, peak RSS (/usr/bin/time -v), first- and last-cut SSIM, and the decision.
#
#   bash scripts/bench_models.sh            # all three, each with its budget below
#   MODELS="efficientnet_b0_script:60" bash scripts/bench_models.sh   # MODEL[:STEPS], STEPS default 60
#   bash scripts/bench_models.sh --set budget.batch_size=4   # extra assess flags
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-build/partplan}
models_dir=${MODELS_DIR:-models}
crops=${CROPS:-16}
# The budget each model's first cut needs to reach SSIM 0.8 on eval (docs/benchmarks.md).
models=${MODELS:-"efficientnet_b0_script:100 resnet50_script:100 vgg16_script:60"}
out=${OUT:-$(mktemp -d)}
mkdir -p "$out"
for spec in $models; do
  m=${spec%%:*}
  [[ -f $models_dir/$m.pt ]] || { echo "bench_models: $models_dir/$m.pt missing: run scripts/setup.sh" >&2; exit 2; }
done
rows=()
for spec in $models; do
  m=${spec%%:*} steps=60
  [[ $spec == *:* ]] && steps=${spec#*:}
  echo "bench_models: $m, $steps steps ..." >&2
  rc=0
  /usr/bin/time -v -o "$out/$m.time" "$bin" --log assess "$models_dir/$m.pt" --data "$models_dir/photos" \
    --set data.crops_per_image="$crops" --steps "$steps" -o "$out/$m.json" --report "$out/$m-report" "$@" \
    > "$out/$m.out" 2> "$out/$m.err" || rc=$?
  if [[ $rc -ne 0 && $rc -ne 3 ]]; then
    echo "bench_models: $m failed (exit $rc): $(grep error: "$out/$m.err" | tail -1)" >&2; exit 1
  fi
  rows+=("$(/usr/bin/python3 - "$m" "$out/$m.json" "$out/$m.time" <<'PY'
import json, re, sys
name, plan, timing = sys.argv[1:4]
p = json.load(open(plan))
t = open(timing).read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
parts = [float(x) for x in wall.split(":")]
secs = sum(v * 60 ** i for i, v in enumerate(reversed(parts)))
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1)) / 1024
cuts = p["cuts"]
first, last = cuts[0], cuts[-1]
d = p["decision"]
chosen = d.get("cut_name") or "none"
splits = p["data"]["splits"]
print(f"| {name} | {len(cuts)} | {splits['attacker_train']}/{splits['attacker_val']}/{splits['eval']} | "
      f"{p['config']['budget']['steps']} x {p['data']['batch_size']} | {secs:.0f} | {rss:.0f} | "
      f"{first['name']} {first['measured']:.3f} | {last['name']} {last['measured']:.3f} | {chosen} |")
PY
)")
done
echo "| model | cuts | train/val/eval | steps x batch | wall s | peak RSS MiB | first cut SSIM | last cut SSIM | chosen cut |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $("$bin" --version); crops $crops; plans and reports in $out"
