#!/usr/bin/env bash
# Benchmark: `assess` on the example Fashion-MNIST CNN with the quick preset (or extra flags),
# per cut: eval SSIM of the c-GAN, steps run, training time, steps/s; then the total wall time.
# Prints a Markdown table. Usage: scripts/bench_assess.sh [BIN] [MODEL] [extra assess flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/partplan} model=${2:-models/fmnist_cnn.pt}
shift $(( $# >= 2 ? 2 : $# ))
out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
start=$(date +%s.%N)
"$bin" -q assess "$model" --data builtin:fashion-mnist -o "$out/plan.json" "$@" > /dev/null || true
end=$(date +%s.%N)
/usr/bin/python3 - "$out/plan.json" "$(awk -v a="$start" -v b="$end" 'BEGIN {printf "%.0f", b - a}')" "$*" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
print(f"flags: {sys.argv[3] or '(quick preset)'}; lr {p['config']['cgan']['lr']}, "
      f"{p['config']['budget']['steps']} steps x batch {p['data']['batch_size']}")
print("| cut | shape | c-GAN SSIM [95% CI] | PSNR dB | top-1 agreement | steps | train s | steps/s | oracle KL |")
print("|---|---|---|---|---|---|---|---|---|")
for c in p["cuts"]:
    for a in c["attacks"]:
        t = a["train"]
        o = c["oracle"]
        print(f"| {c['name']} | {'x'.join(map(str, c['shape']))} | {a['ssim']['mean']:.3f} "
              f"[{a['ssim']['ci_low']:.3f}, {a['ssim']['ci_high']:.3f}] | {a['psnr_db']['mean']:.1f} | "
              f"{a['top1_agreement']:.2f} | {t['steps_run']} | {t['seconds']:.1f} | {t['steps_run'] / t['seconds']:.1f} | "
              f"{o['kl_min']:.3f} |" if o["available"] else
              f"| {c['name']} | {'x'.join(map(str, c['shape']))} | {a['ssim']['mean']:.3f} "
              f"[{a['ssim']['ci_low']:.3f}, {a['ssim']['ci_high']:.3f}] | {a['psnr_db']['mean']:.1f} | "
              f"{a['top1_agreement']:.2f} | {t['steps_run']} | {t['seconds']:.1f} | {t['steps_run'] / t['seconds']:.1f} | - |")
for b in p["baselines"]:
    print(f"| baseline: {b['name']} | | {b['ssim']['mean']:.3f} | {b['psnr_db']['mean']:.1f} | | | | | |")
print(f"\ndecision: {p['decision']['reason']}")
print(f"total wall time {sys.argv[2]} s (plan.json seconds {p['seconds']:.0f})")
PY
