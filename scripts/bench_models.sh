#!/usr/bin/env bash
# Benchmark: assess VGG-16, ResNet-50 and EfficientNet-B0 at 1x3x224x224 on CPU with the
# default preset plus a small budget, on crops of the bundled real photos (models/photos,
# copied by set-up: 20 photos x CROPS crops, split by photo). Per model it prints the cuts,
# wall time, peak RSS (/usr/bin/time -v), first- and last-cut SSIM and envelope, and the decision;
# then a second table of seconds per phase (the plan's phase_seconds), the estimate made after
# the calibration (time.estimated_seconds), and the ETA shown on the first progress line at or
# after 10% of the run, as elapsed + ETA against the real wall time; under --time-budget also
# what the budget reduced (time.budget.reductions).
#
#   bash scripts/bench_models.sh            # all three, each with its budget below
#   MODELS="efficientnet_b0_script:60" bash scripts/bench_models.sh   # MODEL[:STEPS], STEPS default 60
#   bash scripts/bench_models.sh --set budget.batch_size=4   # extra assess flags
#   bash scripts/bench_models.sh --time-budget 15m           # fit each run to 15 minutes
#   REPORT_ONLY=1 OUT=DIR MODELS=... bash scripts/bench_models.sh   # re-print the tables of a kept run
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
for spec in $models; do
  [[ ${REPORT_ONLY:-0} == 1 ]] && break
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
done
rows=() phase_rows=()
for spec in $models; do
  m=${spec%%:*}
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
      f"{first['name']} {first['measured']:.3f} / {first['envelope']:.3f} | "
      f"{last['name']} {last['measured']:.3f} / {last['envelope']:.3f} | {chosen} |")
PY
)")
  phase_rows+=("$(/usr/bin/python3 - "$m" "$out/$m.json" "$out/$m.time" "$out/$m.err" <<'PY'
import json, re, sys
name, plan, timing, err = sys.argv[1:5]
p = json.load(open(plan))
t = open(timing).read()
wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", t).group(1)
secs = sum(float(v) * 60 ** i for i, v in enumerate(reversed(wall.split(":"))))
def duration(text):  # common::format_duration: 12s, 3m10s, 1h02m
    h = re.match(r"(\d+)h(\d+)m$", text); m = re.match(r"(\d+)m(\d+)s$", text); s = re.match(r"(\d+)s$", text)
    if h: return int(h[1]) * 3600 + int(h[2]) * 60
    if m: return int(m[1]) * 60 + int(m[2])
    return int(s[1]) if s else None
eta = "-"
for line in open(err):
    g = re.search(r"\| (\S+) elapsed, ETA (\S+)$", line.rstrip())
    if not g: continue
    e, left = duration(g[1]), duration(g[2])
    if e is None or left is None or e < 0.1 * secs: continue
    eta = f"{e}s + {left}s = {e + left}s ({100 * (e + left - secs) / secs:+.0f}%)"
    break
ph = {x["phase"]: x["seconds"] for x in p.get("phase_seconds", [])}
cols = ["data", "calibrate", "stats", "oracle", "train", "score", "whitebox", "probe", "cost"]
tm = p.get("time") or {}
est = tm.get("estimated_seconds")
b = tm.get("budget")
red = "; ".join(b["reductions"]) if b and b.get("reductions") else ("none" if b else "no budget")
est = f"{est:.0f}" if est is not None else "-"
print(f"| {name} | " + " | ".join(f"{ph[c]:.0f}" if c in ph else "-" for c in cols) +
      f" | {secs:.0f} | {est} | {eta} | {red} |")
PY
)")
done
echo "| model | cuts | train/val/eval | steps x batch | wall s | peak RSS MiB | first cut SSIM / envelope | last cut SSIM / envelope | chosen cut |"
echo "|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "| model | data | calibrate | stats | oracle | train | score | whitebox | probe | cost | wall s | estimated s | at 10%: elapsed + ETA = predicted (vs wall) | budget reductions |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
printf '%s\n' "${phase_rows[@]}"
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $("$bin" --version); crops $crops; plans and reports in $out"
