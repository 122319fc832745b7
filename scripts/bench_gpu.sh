#!/usr/bin/env bash
# The GPU benchmark: partplan's c-GAN attacker against the same recipe in plain PyTorch eager
# (scripts/bench/eager_cgan.py: one cut per run, the front re-run on every batch, fp32,
# torch.optim.Adam), on the same model, data, steps and seed.
#
#   bash scripts/bench_gpu.sh [--dry-run] PARTPLAN_BINARY OUTDIR
#
# In one call it runs, on 224x224 crops of the bundled photos (models/photos):
#   - VGG-16 over its pooling cuts (features.4, .9, .16, .23 and `features`, partplan's name
#     for the last max-pool's output), ResNet-50 and EfficientNet-B0 over partplan's default
#     cuts (`stages`, 8 each): one `partplan assess --attack cgan` per model (all its cuts in
#     lockstep), then eager_cgan.py once per cut that partplan assessed;
#   - the bf16 matrix rate: torch.matmul of two random 8192x8192 bf16 matrices, timed with CUDA
#     events, the median of 10 after 3 warm-up products;
# and writes OUTDIR/bench_gpu.md (the tables, also printed) and OUTDIR/bench_gpu.json, beside
# the raw files: plan_MODEL.json/.log (partplan), eager_MODEL_CUT.json/.log, bf16.json, and
# MODEL[_CUT].wall (each process's wall seconds, measured here around it).
#
# Settings. GPU: 200 steps (attacker-val checks at 50, 100, 150, 200), 16 crops per photo
# (320 samples: attacker-train 224, attacker-val 32, eval 64, whole photos per split), batch 8,
# seed 0, early stopping off (budget.patience=0 and --patience 0) so that both run every step.
# Why 200: the 21 eager runs are dominated by their fixed cost (python + torch import, CUDA
# context, model and data loading: an estimated 5-8 s each on the GPU machine) and the steps
# cost milliseconds each, so the whole call is expected at about 4 minutes (3 partplan runs of
# ~20 s, 21 eager runs of ~8-12 s), none of it measured yet; BENCH_DEADLINE_S (default 240,
# on its own; scripts/gpu_check.sh sets 170 of its step's 210 s, so the tables come back) skips
# the eager runs that would start after that many seconds, and the tables say which were
# skipped and leave those models out of the totals. Override with BENCH_STEPS, BENCH_CROPS. --dry-run: the same script on the CPU with 4 steps, 2 crops per
# photo and one cut per model (VGG-16 features.4, ResNet-50 conv1, EfficientNet-B0 features.0),
# a 1024^3 bf16 product timed on the CPU (not a GPU number), partplan's oracle exposure cut to
# one image and one channel, no deadline: it exercises every step here (5-10 minutes on 2 busy
# cores, most of it partplan's non-training phases: the stats, reference and oracle passes
# through the whole model and the cost model's timing). The eager runs get --threads $(nproc),
# the CPU thread count partplan sets itself.
#
# What the columns mean:
#   partplan train s   plan.json cuts[].attacks[cgan].train.seconds: the attacker's own steps
#                      (CUDA events around each step); partplan's front forward is one per
#                      batch for all cuts (lockstep) and is not in it
#   eager train s      eager_cgan.py's training steps: batch copy, augmentation, front forward,
#                      D and G steps, device-synchronised; its attacker-val checks excluded
#   speed-up           eager train s / partplan train s (per cut); eager wall / partplan wall
#                      (end to end: partplan's one process per model against the eager
#                      processes of that model's cuts, each wall measured here)
#   steps/s            steps run / train seconds
#   TFLOP/s            eager's flops_per_step (one attacker step: front forward + G and D
#                      forwards and backwards, torch.utils.flop_counter, torch >= 2.1) x
#                      partplan's steps / partplan train s; since partplan's train seconds omit
#                      the shared front forward this overstates partplan's rate at deep cuts, so
#                      `G+D TFLOP/s` (without the front's FLOPs) is given too
#   MFU                TFLOP/s / the bf16 matmul rate
# Target: >= 3x faster end to end (all models) at an eval SSIM within 0.01 of eager's or
# better at every cut.
#
# Python: PARTPLAN_PYTHON, else python3 on PATH, else /usr/bin/python3 (Debian's torch 1.13)
# when python3 has no torch; it needs Pillow (and torchvision to export a missing model).
# Models: BENCH_MODELS, else models/, models-gpu/ or models-torch2/ (see below); a missing one
# is exported with scripts/export_models.py and that python (VGG-16's 528 MiB archive is too
# large to carry to the GPU machine). Photos: BENCH_DATA (default MODELS/photos;
# scripts/copy_photos.sh makes it from Debian's python3-skimage, which the GPU machine lacks:
# scripts/gpu_check.sh carries them in .gpu-deps/photos).
set -euo pipefail
cd "$(dirname "$0")/.."

dry=0
if [[ ${1:-} == --dry-run ]]; then
  dry=1
  shift
fi
if (($# != 2)); then
  echo "usage: bash scripts/bench_gpu.sh [--dry-run] PARTPLAN_BINARY OUTDIR" >&2
  exit 2
fi
bin=$1
out=$2
log() { echo "bench_gpu: $*" >&2; }
[[ -x $bin ]] || { log "no partplan binary at '$bin'"; exit 2; }
mkdir -p "$out"

py=${PARTPLAN_PYTHON:-python3}
if ! "$py" -c 'import torch' 2>/dev/null; then
  if [[ -z ${PARTPLAN_PYTHON:-} ]] && /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    py=/usr/bin/python3
  else
    log "'$py' cannot import torch: set PARTPLAN_PYTHON to a python with torch"
    exit 2
  fi
fi

"$py" -c 'import PIL' 2>/dev/null || { log "'$py' has no PIL (Pillow), which eager_cgan.py decodes the photos with"; exit 2; }

# The models: BENCH_MODELS, else the first of models/, models-gpu/ (scripts/gpu_check.sh) and
# models-torch2/ (scripts/setup_torch2.sh) that holds all three, else the first that holds the
# photos (the missing models are exported into it below), else models/.
dirs=(models models-gpu models-torch2)
models=${BENCH_MODELS:-}
if [[ -z $models ]]; then
  for d in "${dirs[@]}"; do
    [[ -f $d/vgg16_script.pt && -f $d/resnet50_script.pt && -f $d/efficientnet_b0_script.pt ]] && { models=$d; break; }
  done
fi
if [[ -z $models ]]; then
  for d in "${dirs[@]}"; do [[ -d $d/photos ]] && { models=$d; break; }; done
fi
models=${models:-models}
data=${BENCH_DATA:-$models/photos}
if ((dry)); then
  steps=${BENCH_STEPS:-4}
  crops=${BENCH_CROPS:-2}
  device=cpu
  deadline=${BENCH_DEADLINE_S:-0}
  declare -A cuts=([vgg16]=features.4 [resnet50]=conv1 [efficientnet_b0]=features.0)
  # The oracle exposure (8 images x 16 channels of whole-model forwards per cut) is most of a
  # CPU run's time: one image, one channel here. The GPU run keeps partplan's defaults.
  pp_extra=(--set oracle.images=1 --set oracle.max_channels=1)
else
  steps=${BENCH_STEPS:-200}
  crops=${BENCH_CROPS:-16}
  device=cuda
  deadline=${BENCH_DEADLINE_S:-240}
  pp_extra=()
  declare -A cuts=([vgg16]="features.4,features.9,features.16,features.23,features" [resnet50]=stages
                   [efficientnet_b0]=stages)
fi
order=(vgg16 resnet50 efficientnet_b0)
start=$(date +%s.%N)
elapsed() { awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}'; }

missing=()
for m in "${order[@]}"; do [[ -f $models/${m}_script.pt ]] || missing+=("$m"); done
if ((${#missing[@]})); then
  only=$(IFS=,; echo "${missing[*]}")
  log "exporting $only into $models with $py ($("$py" -c 'import torch; print(torch.__version__)'))"
  "$py" scripts/export_models.py --out "$models" --only "$only" >"$out/export.log" 2>&1 ||
    { log "export failed (torchvision needed): $out/export.log"; tail -5 "$out/export.log" >&2; exit 1; }
fi
[[ -d $data ]] || bash scripts/copy_photos.sh "$data"
n_photos=$(find "$data" -maxdepth 3 -type f | wc -l)
((n_photos > 0)) || { log "no photos in '$data': bash scripts/copy_photos.sh $data, or carry models/photos"; exit 1; }

pp_version=$("$bin" --version 2>&1 | head -1)
commit=$(git describe --always --dirty 2>/dev/null || echo unknown)
log "$pp_version, commit $commit; python $py, torch $("$py" -c 'import torch; print(torch.__version__)')"
log "device $device, $steps steps, $crops crops per photo of $n_photos photos in $data$( ((dry)) && echo ' (dry run)')"

# 1. The bf16 matrix rate.
"$py" - "$device" "$out/bf16.json" <<'PY'
import json, statistics, sys, time
import torch
dev, path = sys.argv[1], sys.argv[2]
n = 8192 if dev.startswith("cuda") else 1024
a = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
b = torch.randn(n, n, device=dev, dtype=torch.bfloat16)
for _ in range(3):
    torch.matmul(a, b)
times = []
for _ in range(10):
    if dev.startswith("cuda"):
        torch.cuda.synchronize()
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        torch.matmul(a, b)
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e) / 1e3)
    else:
        t = time.perf_counter()
        torch.matmul(a, b)
        times.append(time.perf_counter() - t)
med = statistics.median(times)
r = {"n": n, "device": dev, "median_seconds": med, "tflops": 2 * n ** 3 / med / 1e12, "torch": torch.__version__,
     "device_name": torch.cuda.get_device_name(0) if dev.startswith("cuda") else "cpu"}
json.dump(r, open(path, "w"), indent=1)
print(f"bench_gpu: bf16 {n}^3 matmul on {r['device_name']}: {r['tflops']:.1f} TFLOP/s (median of 10)", file=sys.stderr)
PY

wall_of() {  # command... ; prints nothing, writes the wall seconds to $wall_file
  local t0 t1 rc=0
  t0=$(date +%s.%N)
  "$@" || rc=$?
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", b - a}' >"$wall_file"
  return $rc
}

# 2. partplan, one process per model.
for m in "${order[@]}"; do
  wall_file=$out/$m.wall
  log "partplan $m (cuts ${cuts[$m]}) at $(elapsed) s"
  if ! wall_of "$bin" assess "$models/${m}_script.pt" --data "$data" --set data.crops_per_image="$crops" \
      --steps "$steps" --attack cgan --cuts "${cuts[$m]}" --device "$device" --set deterministic=false \
      --set budget.patience=0 "${pp_extra[@]}" -o "$out/plan_$m.json" >"$out/plan_$m.log" 2>&1; then
    log "partplan $m failed: $out/plan_$m.log"
    tail -5 "$out/plan_$m.log" >&2
    rm -f "$out/plan_$m.json"
  fi
done

# 3. eager, one process per cut partplan assessed.
for m in "${order[@]}"; do
  [[ -f $out/plan_$m.json ]] || continue
  read -r -a names < <("$py" -c 'import json, sys; print(" ".join(c["name"] for c in json.load(open(sys.argv[1]))["cuts"]))' \
    "$out/plan_$m.json")
  for c in "${names[@]}"; do
    if ((deadline > 0)) && (($(elapsed) > deadline)); then
      log "eager $m $c skipped: $(elapsed) s past the deadline BENCH_DEADLINE_S=$deadline"
      continue
    fi
    wall_file=$out/${m}_$c.wall
    log "eager $m $c at $(elapsed) s"
    if ! wall_of "$py" scripts/bench/eager_cgan.py --model "$models/${m}_script.pt" --cut "$c" --data "$data" \
        --steps "$steps" --crops-per-image "$crops" --device "$device" --seed 0 --patience 0 --threads "$(nproc)" \
        --json "$out/eager_${m}_$c.json" >"$out/eager_${m}_$c.log" 2>&1; then
      log "eager $m $c failed: $out/eager_${m}_$c.log"
      tail -5 "$out/eager_${m}_$c.log" >&2
      rm -f "$out/eager_${m}_$c.json"
    fi
  done
done

# 4. The tables.
"$py" - "$out" "$dry" "$pp_version" "$commit" "$steps" "$crops" "$device" "${order[@]}" <<'PY'
import json, os, sys
out, dry, pp_version, commit, steps, crops, device = sys.argv[1], sys.argv[2] == "1", *sys.argv[3:8]
order = sys.argv[8:]


def load(name):
    p = os.path.join(out, name)
    return json.load(open(p)) if os.path.exists(p) else None


def wall(name):
    p = os.path.join(out, name + ".wall")
    return float(open(p).read()) if os.path.exists(p) else None


def f(v, fmt="{:.2f}"):
    return "n/a" if v is None else fmt.format(v)


bf16 = load("bf16.json")
rate = bf16["tflops"] if bf16 else None
rows, totals, cut_ok, summary = [], [], [], {"bf16": bf16, "models": {}, "partplan": pp_version,
                                                    "commit": commit, "steps": int(steps), "crops_per_image": int(crops),
                                                    "device": device}
for m in order:
    plan = load(f"plan_{m}.json")
    pp_wall = wall(m)
    if plan is None:
        totals.append((m, 0, pp_wall, None, None, (None, None), "partplan failed"))
        continue
    eager_walls, mean_img = [], None
    for b in plan.get("baselines", []):
        if b.get("name") in ("mean-image", "mean_image", "mean"):
            mean_img = b["ssim"]["mean"]
    mrows = []
    for c in plan["cuts"]:
        a = next((s for s in c["attacks"] if s["attack"] == "cgan"), None)
        e = load(f"eager_{m}_{c['name']}.json")
        ew = wall(f"{m}_{c['name']}")
        r = {"model": m, "cut": c["name"], "pp_train_s": a["train"]["seconds"] if a else None,
             "pp_steps": a["train"]["steps_run"] if a else None, "pp_ssim": a["ssim"]["mean"] if a else None,
             "eager_wall_s": ew if e else None}
        r["pp_steps_per_s"] = r["pp_steps"] / r["pp_train_s"] if a and r["pp_train_s"] > 0 else None
        if e:
            r.update(eager_train_s=e["train_seconds"], eager_steps=e["steps"], eager_ssim=e["eval_ssim"],
                     eager_steps_per_s=e["steps_per_second"], flops_per_step=e["flops_per_step"],
                     attacker_flops_per_step=e["attacker_flops_per_step"], eager_mean_image_ssim=e["mean_image_ssim"],
                     eager_internal_wall_s=e["wall_seconds"], linear_inverse_adopted=e["linear_inverse_adopted"])
            eager_walls.append(ew)
        else:
            r.update(eager_train_s=None, eager_ssim=None, eager_steps_per_s=None, flops_per_step=None,
                     attacker_flops_per_step=None)
        r["speedup_train"] = (r["eager_train_s"] / r["pp_train_s"]
                              if r["eager_train_s"] and r["pp_train_s"] else None)
        r["d_ssim"] = (r["pp_ssim"] - r["eager_ssim"]) if e and a else None
        tf = lambda fl: fl * r["pp_steps"] / r["pp_train_s"] / 1e12 if fl and r["pp_train_s"] else None  # noqa: E731
        r["pp_tflops"] = tf(r["flops_per_step"])
        r["pp_gd_tflops"] = tf(r["attacker_flops_per_step"])
        r["mfu"] = r["pp_tflops"] / rate if r["pp_tflops"] and rate else None
        if r["d_ssim"] is not None:
            cut_ok.append(r["d_ssim"] >= -0.01)
        mrows.append(r)
    rows += mrows
    complete = len(eager_walls) == len(plan["cuts"])
    ew_sum = sum(eager_walls) if eager_walls else None
    ds = [r["d_ssim"] for r in mrows if r["d_ssim"] is not None]
    e_mean = next((r["eager_mean_image_ssim"] for r in mrows if r.get("eager_mean_image_ssim") is not None), None)
    totals.append((m, len(plan["cuts"]), pp_wall, ew_sum, min(ds) if ds else None, (mean_img, e_mean),
                   "" if complete else f"eager ran {len(eager_walls)} of {len(plan['cuts'])} cuts"))
    summary["models"][m] = {"partplan_wall_s": pp_wall, "partplan_assess_s": plan.get("seconds"), "eager_wall_s": ew_sum, "eager_complete": complete,
                            "cuts": mrows, "partplan_mean_image_ssim": mean_img, "eager_mean_image_ssim": e_mean,
                            "device": plan.get("device"), "libtorch": plan.get("tool", {}).get("libtorch")}

lines = []
lines.append(f"# partplan vs plain PyTorch eager, c-GAN attacker{' (DRY RUN: CPU, tiny settings)' if dry else ''}")
lines.append("")
some_plan = next((load(f"plan_{m}.json") for m in order if load(f"plan_{m}.json")), None)
eager_torch = next((json.load(open(os.path.join(out, x)))["torch"] for x in sorted(os.listdir(out))
                    if x.startswith("eager_") and x.endswith(".json")), "n/a")
lines.append(f"{pp_version}, commit {commit}; eager: torch {eager_torch}; device {device}; {steps} steps, "
             f"{crops} crops per photo" + (", splits attacker-train {attacker_train}, attacker-val {attacker_val}, "
                                           "eval {eval}".format(**some_plan["data"]["splits"]) +
                                           f", batch {some_plan['data']['batch_size']}" if some_plan else "") + "; early stopping off; seed 0")
lines.append("")
if bf16:
    lines.append(f"bf16 matmul {bf16['n']}^3 on {bf16['device_name']}: {bf16['tflops']:.1f} TFLOP/s "
                 f"(median of 10, torch {bf16['torch']})")
lines.append("")
lines.append("| model | cut | partplan train s | eager train s | eager wall s | speed-up (train) | partplan steps/s "
             "| eager steps/s | partplan SSIM | eager SSIM | ΔSSIM | partplan TFLOP/s | G+D TFLOP/s | MFU |")
lines.append("|" + " --- |" * 14)
for r in rows:
    lines.append(f"| {r['model']} | {r['cut']} | {f(r['pp_train_s'])} | {f(r['eager_train_s'])} | "
                 f"{f(r['eager_wall_s'])} | {f(r['speedup_train'], '{:.2f}x')} | {f(r['pp_steps_per_s'], '{:.1f}')} | "
                 f"{f(r['eager_steps_per_s'], '{:.1f}')} | {f(r['pp_ssim'], '{:.3f}')} | "
                 f"{f(r['eager_ssim'], '{:.3f}')} | {f(r['d_ssim'], '{:+.3f}')} | {f(r['pp_tflops'])} | "
                 f"{f(r['pp_gd_tflops'])} | {f(r['mfu'], '{:.1%}')} |")
lines.append("")
lines.append("End to end (partplan: one process per model, all its cuts; eager: one process per cut; walls "
             "measured around each process):")
lines.append("")
lines.append("| model | cuts | partplan wall s | eager wall s | speed-up | min ΔSSIM | mean-image SSIM partplan / eager | note |")
lines.append("|" + " --- |" * 8)
pp_all = eg_all = 0.0
complete_all = True
for m, n, pw, ew, dmin, mi, note in totals:
    sp = ew / pw if ew and pw else None
    lines.append(f"| {m} | {n} | {f(pw, '{:.1f}')} | {f(ew, '{:.1f}')} | {f(sp, '{:.2f}x')} | "
                 f"{f(dmin, '{:+.3f}')} | {f(mi[0], '{:.3f}')} / {f(mi[1], '{:.3f}')} | {note} |")
    if pw and ew and not note:
        pp_all += pw
        eg_all += ew
    else:
        complete_all = False
sp_all = eg_all / pp_all if pp_all > 0 else None
lines.append(f"| **all** | {sum(t[1] for t in totals)} | {f(pp_all or None, '{:.1f}')} | {f(eg_all or None, '{:.1f}')} | "
             f"{f(sp_all, '{:.2f}x')} | {f(min([r['d_ssim'] for r in rows if r['d_ssim'] is not None], default=None), '{:+.3f}')} | | "
             f"{'' if complete_all else 'over the complete models only'} |")
lines.append("")
met = complete_all and sp_all is not None and sp_all >= 3 and cut_ok and all(cut_ok)
why = []
if sp_all is None or sp_all < 3:
    why.append(f"end-to-end speed-up {f(sp_all, '{:.2f}x')} < 3x")
if not cut_ok or not all(cut_ok):
    why.append(f"{sum(1 for x in cut_ok if not x)} cut(s) with partplan's SSIM more than 0.01 below eager's")
if not complete_all:
    why.append("not every model ran completely")
lines.append(f"Target (>= 3x faster end to end at SSIM within 0.01 or better): **{'met' if met else 'NOT met'}**"
             + ("" if met else " (" + "; ".join(why) + ")") + (" [dry run: tiny settings, not a measurement]" if dry else ""))
summary.update(speedup_end_to_end=sp_all, target_met=met, dry_run=dry)
text = "\n".join(lines) + "\n"
open(os.path.join(out, "bench_gpu.md"), "w").write(text)
json.dump(summary, open(os.path.join(out, "bench_gpu.json"), "w"), indent=1)
print(text)
PY
log "done in $(elapsed) s: $out/bench_gpu.md"
