#!/usr/bin/env python3
"""Print the settings table of docs/config.md from the binary's own defaults.

    python3 scripts/gen_config_table.py build/partplan

The defaults come from `partplan assess X --print-config` (the option structs), the thorough
column from `--config thorough`; the meanings are written here. tests/pipeline checks that
docs/config.md lists every key with its default, so a new key fails the tests until it is
documented.
"""
import json
import subprocess
import sys

MEANING = {
    "cgan.channels_last": "CUDA only: networks and inputs in channels-last layout (same arithmetic, faster tensor-core convolutions)",
    "cgan.bf16": "CUDA only: the attackers' forward passes under bf16 autocast (losses and SSIM in float32); off until measured not to weaken the attack",
    "cgan.fused_adam": "CUDA with LibTorch 2.x only: one fused Adam kernel per step (the same update up to rounding); LibTorch 1.13 uses its own Adam",
    "deterministic": "`--deterministic`; on CUDA: deterministic cuDNN and algorithms where CUDA has them (the attackers' resizes have none: they warn once and can still vary in the last digits), TF32 off (off: cuDNN benchmark mode and TF32 on, so reruns differ in the last digits); the CPU is deterministic either way",
    "seed": "seeds the data subset and splits, the batch order, augmentation and each attacker (derived per cut)",
    "device": "`auto`, `cpu`, `cuda`, `cuda:N`; the resolved value is recorded",
    "cuts": "`stages` (the first cut, each resolution stage's output, the classifier input; at most 12), `blocks`, `all`, or a comma list of ids/names (docs/cut-points.md)",
    "attacks": "attackers run at every cut: `cgan`, `inverse` (learned), `whitebox` (optimisation through the front's weights); leakage is the max over them (docs/attacks.md says why each preset has its set); `oracle` alone is a pre-screen",
    "accept_unconverged": "let the gate pass a chosen cut that is safe only as a lower bound, an attacker still improving when its budget ran out or cut short by the time budget (`--accept-unconverged`)",
    "time_budget": "wall-clock budget (`--time-budget`), e.g. `15m`, `90s`, `1h30m`; \"\" = none. After the calibration, white-box images, then training steps, then white-box iterations are lowered until the run is estimated to end by 90% of it (docs/cli.md, Time)",
    "threshold": "a cut is safe when its envelope ≤ threshold: mean SSIM for images (He et al. call SSIM < 0.3 unrecognisable), the share of records re-identified for CSV records (docs/metrics.md)",
    "fail_above": "CI gate: exit 3 when no cut is safe or the chosen cut's leakage exceeds it",
    "data.source": "see docs/data.md",
    "data.attacker_train": "cap on attacker training samples (0 = no cap)",
    "data.attacker_val": "cap on the samples used for early stopping",
    "data.eval": "cap on the held-out samples the scores are measured on",
    "data.attacker_val_fraction": "share of a data set smaller than the caps that goes to attacker-val",
    "data.eval_fraction": "share that goes to eval (at least 2 samples); attacker-train takes the rest",
    "data.crops_per_image": "image folders: samples per file; above 1, seeded random crops, and splits keep files apart",
    "data.augment": "image folders: random resized crops and flips of attacker-train batches",
    "data.pixel_min": "model input value of a black pixel",
    "data.pixel_max": "model input value of a white pixel",
    "data.mean": "per-channel normalisation mean; null = ImageNet's for 3 channels, none for 1",
    "data.std": "per-channel normalisation std; null = as for mean",
    "data.csv.label": "CSV: the label column; `auto` = `label` when present, else none; `\"\"` = none",
    "data.csv.drop": "CSV: columns left out of the features; `auto` = TON_IoT's other target (`type` when the label is `label`, and the reverse)",
    "data.csv.keep": "CSV: when non-empty, exactly these columns are the features (file order)",
    "data.csv.categorical": "CSV: columns encoded as categories even when numeric (ports, codes)",
    "data.csv.scaling": "CSV numeric columns: `minmax`, or `log-minmax` (sign(v)·log(1+\\|v\\|) first, for heavy-tailed counts)",
    "data.csv.nonfinite": "CSV NaN/inf cells: `count` (NaN reads as missing, ±inf as the column's max/min; counted in the plan) or `error` (refused with file, line and column)",
    "records.tolerance": "CSV records: a numeric field counts as recovered within this share of its range",
    "budget.steps": "optimiser steps per attacker (every active cut steps on the same batch)",
    "budget.batch_size": "0 = by image size: 32 up to 64×64 pixels, 8 at 224×224",
    "budget.eval_every": "steps between attacker-val SSIM checks",
    "budget.patience": "checks without a gain of `min_delta` before an attacker stops (0 = never)",
    "budget.min_delta": "SSIM gain that counts as progress",
    "cgan.width": "generator width after the 1×1 projection, halved per upsample block",
    "cgan.min_width": "floor of the halving",
    "cgan.channel_budget": "a generator layer of side s has at most channel_budget / s channels (≥ 8): affordable 224×224 generators",
    "cgan.upsample": "`nearest` or `bilinear`",
    "cgan.norm": "`batch`, `instance` or `none`",
    "cgan.disc_width": "PatchGAN discriminator base width",
    "cgan.disc_max_side": "the discriminator judges images halved until their longer side is at most this (224 → 112); L1 keeps full resolution",
    "cgan.cond_channels": "feature channels the discriminator sees",
    "cgan.adversarial_loss": "`bce` (non-saturating) or `lsgan`",
    "cgan.lambda_l1": "weight of the L1 term",
    "cgan.lr": "Adam learning rate; the recipe's 2e-4 suits long budgets, 1e-3 is stronger at 300 steps (docs/benchmarks.md)",
    "cgan.beta1": "Adam β1",
    "cgan.beta2": "Adam β2",
    "cgan.linear_min_r2": "adjusted R² from which a cut's closed-form linear inverse is adopted as the generator's fixed skip (docs/attacks.md); above 1 never",
    "cgan.ssim_weight": "reconstruction loss L1 + ssim_weight·(1 − SSIM) (× lambda_l1 for the c-GAN); 0 = L1 alone (docs/attacks.md has the measurement)",
    "whitebox.iterations": "projected Adam steps per start (the mean image, and the strongest learned attacker's reconstruction), shared by the coarse-to-fine stages",
    "whitebox.lr": "Adam step on pixels in [0,1], cosine-decayed to a tenth",
    "whitebox.tv_weight": "weight of the total-variation prior against the relative feature error",
    "whitebox.images": "eval images it reconstructs and is scored on (the first ones of eval); 0 = by image size: 64 up to 64x64 pixels, 16 at 224x224",
    "whitebox.batch": "images optimised at once; 0 = the assessment's batch size",
    "whitebox.max_front_gflops": "beside a learned attacker, skip cuts whose front costs more GFLOPs per image (0 = never): deep 224×224 fronts take hours on a CPU; alone it runs everywhere",
    "whitebox.max_total_gflops": "beside a learned attacker, past the first cut, skip cuts once the summed front GFLOPs per image of the selected cuts up to them pass this (0 = no cap): the white-box phase's cost, kept to the early cuts where it is strongest (ResNet-50: conv1, relu; EfficientNet-B0: features.0 to .3)",
    "ternary": "three-way split (`--ternary`), docs/cost-model.md",
    "back_cut": "ternary back cut by id or name; \"\" = the input of the final weight layer",
    "oracle.images": "eval images per cut for the oracle exposure (a pre-screen loads only these)",
    "oracle.max_channels": "channels tried per cut, evenly spaced",
    "cost.profile": "time each candidate split's parts (`--profile`)",
    "cost.tee_slowdown": "enclave / native CPU time; an assumption to calibrate (`--tee-slowdown`)",
    "cost.gpu_speedup": "this CPU / the untrusted accelerator; an assumption",
    "cost.link_mib_per_s": "enclave boundary bandwidth",
    "cost.enclave_memory_mib": "enclave memory budget, SGX1's usable EPC (`--enclave-memory-mib`)",
    "cost.confidential_gpu": "the untrusted GPU runs in confidential-computing mode, H100/H200 CC (`--confidential-gpu`): the decision says that no split is needed for confidentiality",
    "cost.timings": "a runtime.json from `partplan run`: its measured times replace the estimates at the split it served (`--timings`)",
    "baselines": "score the blank, mean-image and label-prototype guesses",
    "report.grid_images": "eval images per reconstruction grid",
    "limits.feature_memory_mib": "bound on features held in memory: only the ternary probe holds any (the assessment streams)",
}


def leaves(tree, prefix=""):
    for key, value in sorted(tree.items()):
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and value:
            yield from leaves(value, name)
        else:
            yield name, value


def shown(value):
    if isinstance(value, str):
        return value if value else '""'
    return json.dumps(value, separators=(",", ":")) if isinstance(value, list) else json.dumps(value)


def config(binary, *extra):
    out = subprocess.run([binary, "assess", "x.pt", *extra, "--print-config"], check=True, capture_output=True, text=True)
    return dict(leaves(json.loads(out.stdout)))


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "build/partplan"
    quick, thorough = config(binary), config(binary, "--config", "thorough")
    print("| key | quick (default) | thorough | meaning |")
    print("| --- | --- | --- | --- |")
    missing = [key for key in quick if key not in MEANING]
    if missing:
        sys.exit(f"gen_config_table: no meaning written for {', '.join(missing)}: add it to MEANING")
    for key, value in quick.items():
        other = thorough[key]
        print(f"| `{key}` | {shown(value)} | {'same' if other == value else shown(other)} | {MEANING[key]} |")


if __name__ == "__main__":
    main()
