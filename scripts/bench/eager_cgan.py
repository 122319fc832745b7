#!/usr/bin/env python3
"""A plain PyTorch-eager c-GAN inversion attacker: partplan's `cgan` recipe, written the
straightforward way, as the baseline that scripts/bench_gpu.sh times partplan against.

One cut per run. The frozen front (the TorchScript model, run child module by child module up
to the cut) is re-run on every batch, in float32, with torch.optim.Adam and nothing else: no
channels-last, no autocast, no fused optimiser, no CUDA graphs, no lockstep over cuts.

    python3 scripts/bench/eager_cgan.py --model models/vgg16_script.pt --cut features.4 \
        --data models/photos --crops-per-image 16 --steps 300 --device cuda --json out.json
    python3 scripts/bench/eager_cgan.py --model models/fmnist_cnn.pt --data builtin:fashion-mnist \
        --cut conv1 --steps 300 --device cpu
    python3 scripts/bench/eager_cgan.py --model models/resnet50_script.pt --list-cuts

Runs under torch 1.13 (Debian's /usr/bin/python3) and torch 2.x. FLOPs per step are counted
with torch.utils.flop_counter.FlopCounterMode where it exists (torch >= 2.1), else null.

The recipe, as partplan's quick preset (configs/quick.json, include/partplan/attacks/options.hpp)
and the code it mirrors (attacks/networks.cpp, attacks/cgan.cpp, attacks/trainer.cpp,
src/pipeline/assess.cpp, src/data/*):
  data      an image folder (files in byte-wise path order; crop 0 of each file is the centre
            cover-crop, crops 1..K-1 random regions of the target aspect at 35-100% scale, the
            same SplitMix64 draws as src/data/image_folder.cpp), or builtin:fashion-mnist
            (train then t10k, a seeded subset of 3700). Splits as src/data/splits.cpp, exactly:
            eval = min(500, 20%), attacker-val = min(200, 10%), attacker-train = the rest
            (<= 3000); with K > 1 crops per file, whole files go to one split. Pixels in [0,1];
            model input (x - mean) / std with ImageNet's mean/std for 3 channels, none for 1.
            attacker-train batches of an image folder are augmented (random resized crop of
            60-100% area, aspect 3/4..4/3, horizontal flip; affine grid, bilinear, border).
  batch     32 up to 64x64 pixels, else max(8, 32*64*64/pixels) (8 at 224x224), at most the
            attacker-train size; epochs drop their last partial batch.
  features  standardised per channel (first dimension of the cut tensor) with attacker-train's
            mean and population std (std floored at 1e-6).
  generator spatial cut [C,h,w] (side > 2): 1x1 conv to width0 = min(128, max(8, 4096 // side)),
            BatchNorm, ReLU; [nearest x2 upsample, 3x3 conv, BatchNorm, ReLU] blocks to the
            image size, the width halving to >= 32 and capped at max(8, 4096 // side); a
            bilinear resize when the size is not reached exactly; 3x3 conv to the image channels;
            plus the linear skip (a k x k replicate-padded conv to C_img*s*s channels, pixel
            shuffle by s, resized to the image), added to the logits; sigmoid.
            flat cut: Linear (through a 1024 bottleneck when in*out > 16M) to 128 x 7 x 7 (the
            image side halved until <= 8), ReLU, then the same blocks; no skip.
  linear    the closed-form linear inverse, as LinearInverseAccumulator: per spatial cut, least
  inverse   squares (ridge 1e-3 of the mean standardised feature variance) from the k x k
            neighbourhood (k = 3 while C*9 <= 1152, else 1) of standardised features to the
            s x s pixel block (s = image side / map side rounded up to a power of two, <= 16;
            images area-resized to s times the map), fitted on at most 4096 random positions per
            attacker-train batch, in float64. Adopted when its adjusted R^2 >= 0.95: the skip is
            set to it and frozen, its pixels enter as logits (clamped to [1e-3, 1-1e-3]) and the
            output conv starts at zero. Otherwise the skip starts at zero and is trained.
  discrim.  conditional PatchGAN at the image size halved while its longer side > 128 (224 ->
            112): [image (bilinear-resized), features 1x1-conv'd to 8 channels (flat: Linear to
            8 x 7 x 7) and bilinear-resized] -> 4x4/2 conv 32, LeakyReLU(0.2), 4x4/2 conv 64,
            BatchNorm, LeakyReLU(0.2), 4x4/1 conv 1 (patch logits).
  losses    D: 0.5 (BCE(D(real), 1) + BCE(D(G(f).detach()), 0)), stepped first; then
            G: BCE(D(G(f)), 1) + 100 (L1 + 1 * (1 - SSIM)), SSIM the differentiable score below.
  optimiser Adam, lr 1e-3, betas (0.5, 0.999), eps 1e-8, for G (trainable parameters) and D.
  budget    --steps (default 300), attacker-val SSIM (generator in eval mode) every 50 steps and
            at the last; the best generator (parameters and BatchNorm buffers) is kept on any
            gain and restored at the end; patience 3 checks without a gain of 0.002 stops early
            (--patience 0: never).
  score     eval SSIM: 11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, data range 1,
            population statistics, valid region only, mean over channels and positions, per
            image; the mean over eval (docs/metrics.md; scikit-image's structural_similarity
            with gaussian_weights=True, use_sample_covariance=False).
Deviations from partplan (by design or of necessity):
  - the front is the model's child modules run in order (torch.flatten inserted before the
    first Linear, and as the pseudo-cut `flatten`), not partplan's graph surgery; the run checks
    that the chain reproduces the model's output and refuses the model otherwise. Cuts inside
    a non-Sequential child (inside a residual block) are not reachable, as in partplan.
  - batch order, augmentation draws, weight initialisation, and the linear inverse's position
    sample use torch's own seeded generators, not partplan's SplitMix64 streams; the data, the
    crops and the splits are partplan's exactly.
  - the stats pass (feature statistics, linear inverse) runs in batches of the attacker batch
    size; partplan's batches are sized by memory, so its linear inverse sees a different
    number of sampled positions (same cap per batch).
  - the straightforward implementation keeps attacker-train as uint8 on the host and copies
    each batch to the device.
Timing: wall_seconds runs from before `import torch` to the end of eval scoring (data loading,
the stats pass, training, checks and scoring included; the FLOP count that follows is not);
train_seconds is the training steps alone (batch, front forward, D and G steps), device-
synchronised, attacker-val checks excluded.
"""
import time

T_START = time.perf_counter()

import argparse  # noqa: E402
import copy  # noqa: E402
import gzip  # noqa: E402
import json  # noqa: E402
import math  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
FMNIST_DIR = "/usr/share/datasets/fashion-mnist"

# The quick preset (configs/quick.json).
WIDTH, MIN_WIDTH, CHANNEL_BUDGET = 128, 32, 4096
DISC_WIDTH, DISC_MAX_SIDE, COND_CHANNELS = 32, 128, 8
LAMBDA_L1, SSIM_WEIGHT, LR, BETAS = 100.0, 1.0, 1e-3, (0.5, 0.999)
LINEAR_MIN_R2, RIDGE, ROWS_PER_BATCH = 0.95, 1e-3, 4096
SKIP_EPS = 1e-3
EVAL_EVERY, PATIENCE, MIN_DELTA = 50, 3, 0.002
CAP_TRAIN, CAP_VAL, CAP_EVAL, VAL_FRACTION, EVAL_FRACTION = 3000, 200, 500, 0.1, 0.2


def log(msg):
    print(f"eager_cgan: {msg}", file=sys.stderr, flush=True)


# ---- partplan's seeded integer streams (src/data/splits.cpp), for identical data and splits --

M64 = (1 << 64) - 1
GOLDEN = 0x9E3779B97F4A7C15


class SplitMix64:
    def __init__(self, seed):
        self.state = seed & M64

    def next(self):
        self.state = (self.state + GOLDEN) & M64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def below(self, bound):
        threshold = ((1 << 64) - bound) % bound
        while True:
            r = self.next()
            if r >= threshold:
                return r % bound

    def uniform(self):
        return (self.next() >> 11) * 2.0 ** -53


def seeded_permutation(n, seed):
    p = list(range(n))
    rng = SplitMix64(seed)
    for i in range(n - 1, 0, -1):
        j = rng.below(i + 1)
        p[i], p[j] = p[j], p[i]
    return p


def subset_seed(seed):
    return seed ^ 0xD1B54A32D192ED03


def fit_split_sizes(n):
    if n < 10:
        sys.exit(f"eager_cgan: {n} samples; at least 10 are needed (raise --crops-per-image)")
    ev = min(CAP_EVAL, max(2, math.floor(n * EVAL_FRACTION)))
    val = min(CAP_VAL, max(1, math.floor(n * VAL_FRACTION)))
    train = min(CAP_TRAIN, n - ev - val)
    return ev, val, train


def make_splits(n, sizes, seed, groups=None):
    ev, val, train = sizes
    if groups is None:
        p = seeded_permutation(n, seed)
        return sorted(p[:ev]), sorted(p[ev:ev + val]), sorted(p[ev + val:ev + val + train])
    members = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    out = ([], [], [])
    for g in seeded_permutation(max(groups) + 1, seed):
        m = members.get(g, [])
        if not m:
            continue
        if len(out[0]) < ev:
            k = 0
        elif len(out[1]) < val:
            k = 1
        elif len(out[2]) < train:
            k = 2
        else:
            break
        for i in m:
            if k != 2 or len(out[2]) < train:
                out[k].append(i)
    if not out[0] or not out[2] or (val > 0 and not out[1]):
        sys.exit("eager_cgan: too few source files to keep the splits apart by file")
    return tuple(sorted(s) for s in out)


# ---- data -----------------------------------------------------------------------------------

def fit_cover_crop(img, h, w):
    """PIL image -> h x w: scaled to cover, centre-cropped (src/data/image_ops.cpp)."""
    from PIL import Image
    cols, rows = img.size
    if rows == h and cols == w:
        return img
    scale = max(h / rows, w / cols)
    rh = max(h, int(round(rows * scale)))
    rw = max(w, int(round(cols * scale)))
    if (rh, rw) != (rows, cols):
        img = img.resize((rw, rh), Image.BOX if scale < 1 else Image.BILINEAR)
    top, left = (rh - h) // 2, (rw - w) // 2
    return img.crop((left, top, left + w, top + h))


def load_image_folder(root, shape, crops, seed):
    """[N,C,H,W] uint8 and the source file of each sample (src/data/image_folder.cpp)."""
    import numpy as np
    from PIL import Image
    c, h, w = shape
    files = []
    for d, dirs, names in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        for name in names:
            if not name.startswith(".") and name.lower().endswith(IMAGE_EXTENSIONS):
                files.append(os.path.relpath(os.path.join(d, name), root).replace(os.sep, "/"))
    files.sort(key=lambda s: s.encode())
    cap = CAP_TRAIN + CAP_VAL + CAP_EVAL
    if cap < len(files):
        keep = sorted(seeded_permutation(len(files), subset_seed(seed))[:cap])
        files = [files[i] for i in keep]
    samples, groups = [], []
    for k, rel in enumerate(files):
        try:
            img = Image.open(os.path.join(root, rel))
            img.load()
        except Exception as e:  # noqa: BLE001 - skipped and counted, as partplan does
            log(f"skipped {rel}: {e}")
            continue
        img = img.convert("RGB" if c == 3 else "L")
        rng = SplitMix64(subset_seed(seed) ^ ((GOLDEN * (k + 1)) & M64))
        cols, rows = img.size
        for j in range(crops):
            region = img
            if j > 0:
                full_h = min(rows, cols * h / w)
                s = 0.35 + 0.65 * rng.uniform()
                rh = max(1, int(full_h * s))
                rw = max(1, min(cols, int(rh * w / h)))
                y = int(rng.uniform() * (rows - rh + 1)) % max(1, rows - rh + 1)
                x = int(rng.uniform() * (cols - rw + 1)) % max(1, cols - rw + 1)
                region = img.crop((x, y, x + rw, y + rh))
            a = np.asarray(fit_cover_crop(region, h, w), dtype=np.uint8)
            a = a[:, :, None] if a.ndim == 2 else a
            samples.append(torch.from_numpy(a.transpose(2, 0, 1).copy()))
            groups.append(k)
    if not samples:
        sys.exit(f"eager_cgan: no usable image in '{root}'")
    return torch.stack(samples), (groups if crops > 1 else None), len(files)


def load_fashion_mnist(seed, shape):
    if tuple(shape) != (1, 28, 28):
        sys.exit("eager_cgan: builtin:fashion-mnist is supported for 1x28x28 models only")
    parts = []
    for prefix in ("train", "t10k"):
        with gzip.open(os.path.join(FMNIST_DIR, f"{prefix}-images-idx3-ubyte.gz")) as f:
            b = f.read()
        n = int.from_bytes(b[4:8], "big")
        parts.append(torch.frombuffer(bytearray(b[16:]), dtype=torch.uint8).view(n, 1, 28, 28))
    images = torch.cat(parts)
    cap = CAP_TRAIN + CAP_VAL + CAP_EVAL
    if cap < images.shape[0]:
        keep = sorted(seeded_permutation(images.shape[0], subset_seed(seed))[:cap])
        images = images[torch.tensor(keep)]
    return images.contiguous()


def augment(unit, gen):
    """Random resized crops (60-100% area, aspect 3/4..4/3) and flips (src/data/preprocess.cpp)."""
    n = unit.shape[0]
    area = 0.6 + 0.4 * torch.rand(n, generator=gen, dtype=torch.float64)
    aspect = torch.exp(math.log(0.75) + (math.log(4 / 3) - math.log(0.75)) * torch.rand(n, generator=gen,
                                                                                         dtype=torch.float64))
    cw = torch.sqrt(area * aspect).clamp(max=1)
    ch = torch.sqrt(area / aspect).clamp(max=1)
    tx = (1 - cw) * (2 * torch.rand(n, generator=gen, dtype=torch.float64) - 1)
    ty = (1 - ch) * (2 * torch.rand(n, generator=gen, dtype=torch.float64) - 1)
    flip = 1 - 2 * (torch.rand(n, generator=gen, dtype=torch.float64) < 0.5).double()
    theta = torch.zeros(n, 2, 3, dtype=torch.float64)
    theta[:, 0, 0], theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = flip * cw, tx, ch, ty
    grid = F.affine_grid(theta.float().to(unit.device), list(unit.shape), align_corners=False)
    return F.grid_sample(unit, grid, mode="bilinear", padding_mode="border", align_corners=False).clamp(0, 1)


# ---- the frozen front: the model's children, in order ---------------------------------------

def kind(m):
    return getattr(m, "original_name", type(m).__name__)


def needs_flat(m):
    """A Linear, or a Sequential that starts (after Dropout) with one."""
    while kind(m) == "Sequential":
        kids = [c for _, c in m.named_children() if kind(c) not in ("Dropout",)]
        if not kids:
            return False
        m = kids[0]
    return kind(m) == "Linear"


def children(m, top):
    kids = list(m.named_children())
    if top and not any(n == "flatten" for n, _ in kids):
        for i, (_, c) in enumerate(kids):
            if needs_flat(c):
                kids.insert(i, ("flatten", None))
                break
    return kids


def run_step(m, x):
    if m is None:
        return torch.flatten(x, 1) if x.dim() > 2 else x
    if needs_flat(m) and x.dim() > 2:
        x = torch.flatten(x, 1)
    return m(x)


def front_steps(model, cut):
    """The child modules to run, in order, to reach `cut`'s output."""
    steps = []

    def walk(mod, prefix, top):
        for name, child in children(mod, top):
            q = prefix + name
            if q == cut:
                steps.append((q, child))
                return True
            if cut.startswith(q + "."):
                if child is None or kind(child) != "Sequential":
                    sys.exit(f"eager_cgan: cut '{cut}' lies inside '{q}' ({kind(child)}), which does not run its "
                             "children in order; --list-cuts names the reachable cuts")
                return walk(child, q + ".", False)
            steps.append((q, child))
        return False

    if not walk(model, "", True):
        sys.exit(f"eager_cgan: no cut '{cut}' in the model; --list-cuts names the reachable cuts")
    return steps


def all_cut_names(model):
    names = []

    def walk(mod, prefix, top):
        for name, child in children(mod, top):
            names.append(prefix + name)
            if child is not None and kind(child) == "Sequential":
                walk(child, prefix + name + ".", False)

    walk(model, "", True)
    return names


def run_front(steps, x):
    for _, m in steps:
        x = run_step(m, x)
    return x


def check_chain(model, shape, device):
    """The children in order must compute the model: refuse the model otherwise."""
    x = torch.randn(1, *shape, device=device)
    with torch.no_grad():
        want = model(x)
        leaves = []

        def walk(mod, top):
            for _, c in children(mod, top):
                leaves.append(c)
        walk(model, True)
        got = x
        for c in leaves:
            got = run_step(c, got)
    if not torch.is_tensor(want) or got.shape != want.shape or \
            (got - want).abs().max().item() > 1e-3 * max(1.0, want.abs().max().item()):
        sys.exit("eager_cgan: the model's child modules, run in order, do not reproduce its output: this "
                 "baseline supports sequential models (VGG, ResNet, EfficientNet, small CNNs)")


# ---- SSIM (docs/metrics.md) -----------------------------------------------------------------

_WINDOWS = {}


def ssim(x, y):
    """Per-image SSIM of [N,C,H,W] images in [0,1]; differentiable."""
    n, c = x.shape[:2]
    key = (x.device, c)
    if key not in _WINDOWS:
        d = torch.arange(11, dtype=torch.float64) - 5
        g = torch.exp(-d * d / (2 * 1.5 ** 2))
        g = (g / g.sum()).float().to(x.device)
        _WINDOWS[key] = (g.view(1, 1, 1, 11).repeat(5 * c, 1, 1, 1), g.view(1, 1, 11, 1).repeat(5 * c, 1, 1, 1))
    gw, gh = _WINDOWS[key]
    x, y = x.float(), y.float()
    s = torch.cat([x, y, x * x, y * y, x * y], 1)
    s = F.conv2d(F.conv2d(s, gw, groups=5 * c), gh, groups=5 * c)
    mx, my, xx, yy, xy = s.split(c, 1)
    vx, vy, cxy = xx - mx * mx, yy - my * my, xy - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    m = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return m.flatten(1).mean(1)


# ---- networks (attacks/networks.cpp) --------------------------------------------------------

def capped(channels, side):
    return min(channels, max(8, CHANNEL_BUDGET // max(side, 1)))


def start_side(side):
    while side > 8:
        side = (side + 1) // 2
    return side


def is_flat(fs):
    return len(fs) != 3 or (fs[1] <= 2 and fs[2] <= 2)


def flat_projection(n_in, n_out):
    if n_in * n_out > (16 << 20):
        return nn.Sequential(nn.Linear(n_in, 1024), nn.ReLU(), nn.Linear(1024, n_out))
    return nn.Linear(n_in, n_out)


def skip_scale(fs, image_shape):
    if is_flat(fs):
        return 0
    ratio = max(-(-image_shape[1] // fs[1]), -(-image_shape[2] // fs[2]))
    s = 1
    while s < ratio and s < 16:
        s *= 2
    return s


def skip_kernel(fs):
    return 3 if fs[0] * 9 <= 1152 else 1


def resize_to(x, h, w):
    if x.shape[2] == h and x.shape[3] == w:
        return x
    return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)


class Generator(nn.Module):
    def __init__(self, fs, image_shape, linear=None):
        super().__init__()
        c_img, self.out_h, self.out_w = image_shape
        self.flat = is_flat(fs)
        if self.flat:
            self.h0, self.w0 = start_side(self.out_h), start_side(self.out_w)
            self.width0 = capped(WIDTH, max(self.h0, self.w0))
            self.head = flat_projection(math.prod(fs), self.width0 * self.h0 * self.w0)
        else:
            self.h0, self.w0 = fs[1], fs[2]
            self.width0 = capped(WIDTH, max(self.h0, self.w0))
            self.head = nn.Sequential(nn.Conv2d(fs[0], self.width0, 1), nn.BatchNorm2d(self.width0), nn.ReLU())
        blocks, ch, h, w = [], self.width0, self.h0, self.w0
        while h < self.out_h or w < self.out_w:
            nxt = capped(max(MIN_WIDTH, ch // 2), 2 * max(h, w))
            blocks.append(nn.Sequential(nn.Conv2d(ch, nxt, 3, padding=1), nn.BatchNorm2d(nxt), nn.ReLU()))
            ch, h, w = nxt, 2 * h, 2 * w
        self.blocks = nn.ModuleList(blocks)
        self.out = nn.Conv2d(ch, c_img, 3, padding=1)
        self.scale = skip_scale(fs, image_shape)
        self.skip, self.skip_fixed = None, False
        if self.scale > 0:
            k = skip_kernel(fs)
            self.skip = nn.Conv2d(fs[0], c_img * self.scale ** 2, k, padding=k // 2, padding_mode="replicate")
            with torch.no_grad():
                if linear is None:
                    self.skip.weight.zero_()
                    self.skip.bias.zero_()
                else:
                    self.skip.weight.copy_(linear[0])
                    self.skip.bias.copy_(linear[1])
                    self.skip.requires_grad_(False)
                    self.skip_fixed = True
                    self.out.weight.zero_()
                    self.out.bias.zero_()

    def forward(self, f):
        if self.flat:
            x = F.relu(self.head(f.flatten(1)).view(f.shape[0], self.width0, self.h0, self.w0))
        else:
            x = self.head(f)
        for b in self.blocks:
            x = b(F.interpolate(x, scale_factor=2.0, mode="nearest"))
        logits = self.out(resize_to(x, self.out_h, self.out_w))
        if self.skip is not None:
            s = self.skip(f)
            if self.scale > 1:
                s = F.pixel_shuffle(s, self.scale)
            s = resize_to(s, self.out_h, self.out_w)
            if self.skip_fixed:
                s = torch.logit(s.clamp(SKIP_EPS, 1 - SKIP_EPS))
            logits = logits + s
        return torch.sigmoid(logits)


class Discriminator(nn.Module):
    def __init__(self, fs, image_shape):
        super().__init__()
        c_img, h, w = image_shape
        while max(h, w) > DISC_MAX_SIDE and min(h, w) >= 16:
            h, w = (h + 1) // 2, (w + 1) // 2
        self.out_h, self.out_w = h, w
        self.flat = is_flat(fs)
        if self.flat:
            self.h0, self.w0 = start_side(h), start_side(w)
            self.cond_proj = flat_projection(math.prod(fs), COND_CHANNELS * self.h0 * self.w0)
        else:
            self.cond_proj = nn.Conv2d(fs[0], COND_CHANNELS, 1)
        d = DISC_WIDTH
        self.body = nn.Sequential(
            nn.Conv2d(c_img + COND_CHANNELS, d, 4, stride=2, padding=1), nn.LeakyReLU(0.2),
            nn.Conv2d(d, 2 * d, 4, stride=2, padding=1), nn.BatchNorm2d(2 * d), nn.LeakyReLU(0.2),
            nn.Conv2d(2 * d, 1, 4, stride=1, padding=1))

    def forward(self, image, f):
        if self.flat:
            c = self.cond_proj(f.flatten(1)).view(f.shape[0], COND_CHANNELS, self.h0, self.w0)
        else:
            c = self.cond_proj(f)
        c = resize_to(c, self.out_h, self.out_w)
        return self.body(torch.cat([resize_to(image, self.out_h, self.out_w), c], 1))


# ---- stats pass: feature statistics and the linear inverse (attacks/trainer.cpp) -----------

class LinearInverseFit:
    def __init__(self, fs, image_shape):
        self.fs, self.scale = fs, skip_scale(fs, image_shape)
        self.k = skip_kernel(fs) if self.scale else 0
        self.sums, self.rows, self.batches = None, 0, 0

    def add(self, f, y):
        if not self.scale:
            return
        c, h, w = self.fs
        s, k = self.scale, self.k
        if y.shape[2] != h * s or y.shape[3] != w * s:
            y = F.interpolate(y, size=(h * s, w * s), mode="area")
        if s > 1:
            y = F.pixel_unshuffle(y, s)
        positions = f.shape[0] * h * w
        p = torch.arange(positions)
        if positions > ROWS_PER_BATCH:
            gen = torch.Generator().manual_seed(0x5EED0000 + self.batches)
            p = torch.randperm(positions, generator=gen)[:ROWS_PER_BATCH]
        self.batches += 1
        p = p.to(f.device)
        pb, pi, pj = p // (h * w), (p // w) % h, p % w
        r = k // 2
        fp = F.pad(f, (r, r, r, r), mode="replicate") if r else f
        taps = [fp[pb, :, pi + di, pj + dj] for di in range(k) for dj in range(k)]  # each [n, C]
        x = torch.stack(taps, 2).reshape(p.shape[0], c * k * k).double()
        t = y[pb, :, pi, pj].double()
        new = [x.t() @ x, x.t() @ t, x.sum(0), t.sum(0), (t * t).sum(0)]
        self.sums = new if self.sums is None else [a + b for a, b in zip(self.sums, new)]
        self.rows += x.shape[0]

    def result(self, mean, std):
        """(weight, bias, adjusted R^2) for features standardised with mean/std, or None."""
        if self.sums is None:
            return None
        xtx, xty, sx, sy, syy = [v.cpu() for v in self.sums]
        n, kk = float(self.rows), self.k * self.k
        d = self.fs[0] * kk
        mx, my = sx / n, sy / n
        sd = std.double().cpu().clamp(min=1e-6).repeat_interleave(kk)
        cxx = (xtx / n - torch.outer(mx, mx)) / torch.outer(sd, sd)
        cxy = (xty / n - torch.outer(mx, my)) / sd.unsqueeze(1)
        ridge = RIDGE * max(cxx.diagonal().mean().item(), 1e-12)
        coef = torch.linalg.solve(cxx + ridge * torch.eye(d, dtype=cxx.dtype), cxy)
        bias = my - ((mx - mean.double().cpu().repeat_interleave(kk)) / sd) @ coef
        var_y = syy / n - my * my
        explained = 2 * (coef * cxy).sum(0) - (coef * (cxx @ coef)).sum(0)
        r2 = (explained.sum() / var_y.sum().clamp(min=1e-12)).item()
        adj = 1 - (1 - r2) * (n - 1) / (n - d - 1) if n > d + 1 else 0.0
        weight = coef.t().contiguous().float().view(coef.shape[1], self.fs[0], self.k, self.k)
        return weight, bias.float(), adj


# ---- the run ---------------------------------------------------------------------------------

def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--cut", help="the cut: a module name as --list-cuts prints (partplan's cut names)")
    ap.add_argument("--data", default="models/photos", help="an image folder, or builtin:fashion-mnist")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--crops-per-image", type=int, default=1)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-every", type=int, default=EVAL_EVERY)
    ap.add_argument("--patience", type=int, default=PATIENCE, help="checks without gain before stopping; 0 = never")
    ap.add_argument("--input-shape", help="C,H,W (default: the archive's partplan.json)")
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0 = torch's default)")
    ap.add_argument("--no-flops", action="store_true", help="skip the FLOP count")
    ap.add_argument("--json", help="write the result here")
    ap.add_argument("--list-cuts", action="store_true", help="print the cuts this baseline can reach, and exit")
    return ap.parse_args()


def load_model(path, device, input_shape):
    extra = {"partplan.json": ""}
    model = torch.jit.load(path, map_location=device, _extra_files=extra)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    if input_shape:
        shape = [int(v) for v in input_shape.split(",")]
    elif extra["partplan.json"]:
        shape = json.loads(extra["partplan.json"])["input_shape"][1:]
    else:
        sys.exit("eager_cgan: the archive records no input shape: pass --input-shape C,H,W")
    return model, list(shape)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main():
    a = parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    model, shape = load_model(a.model, device, a.input_shape)
    check_chain(model, shape, device)
    if a.list_cuts:
        x = torch.zeros(1, *shape, device=device)
        for name in all_cut_names(model):
            with torch.no_grad():
                out = run_front(front_steps(model, name), x)
            print(f"{name:<24} {'x'.join(str(v) for v in out.shape[1:])}")
        return
    if not a.cut:
        sys.exit("eager_cgan: --cut NAME is required (--list-cuts names them)")
    steps_to_cut = front_steps(model, a.cut)

    # Data and splits.
    image_folder = not a.data.startswith("builtin:")
    if image_folder:
        samples, groups, n_files = load_image_folder(a.data, shape, a.crops_per_image, a.seed)
    elif a.data == "builtin:fashion-mnist":
        samples, groups, n_files = load_fashion_mnist(a.seed, shape), None, None
    else:
        sys.exit(f"eager_cgan: unknown data source '{a.data}'")
    n = samples.shape[0]
    sizes = fit_split_sizes(n)
    ev_idx, val_idx, tr_idx = make_splits(n, sizes, a.seed, groups)
    train_u8, val_u8, eval_u8 = (samples[torch.tensor(i, dtype=torch.long)] for i in (tr_idx, val_idx, ev_idx))
    image_shape = list(samples.shape[1:])
    pixels = image_shape[1] * image_shape[2]
    batch = 32 if pixels <= 64 * 64 else max(8, 32 * 64 * 64 // pixels)
    batch = min(batch, len(tr_idx))
    log(f"data {a.data}: {n} samples" + (f" ({n_files} files x {a.crops_per_image} crops)" if image_folder else "") +
        f"; splits attacker-train {len(tr_idx)}, attacker-val {len(val_idx)}, eval {len(ev_idx)}; batch {batch}"
        + ("; augmented" if image_folder else ""))

    c_img = image_shape[0]
    mean = torch.tensor(IMAGENET_MEAN if c_img == 3 else (0.0,) * c_img, device=device).view(1, c_img, 1, 1)
    std = torch.tensor(IMAGENET_STD if c_img == 3 else (1.0,) * c_img, device=device).view(1, c_img, 1, 1)

    def unit_of(u8):
        return u8.to(device).float() / 255.0

    def features(unit):
        with torch.no_grad():
            return run_front(steps_to_cut, (unit - mean) / std).float()

    # Stats pass over attacker-train: per-channel mean/std of the cut tensor, the linear inverse.
    fs = None
    s1 = s2 = None
    count = 0
    lin = None
    for i in range(0, len(tr_idx), batch):
        u = unit_of(train_u8[i:i + batch])
        f = features(u)
        if fs is None:
            fs = list(f.shape[1:])
            lin = LinearInverseFit(fs, image_shape)
        fd = f.double()
        dims = [0] + list(range(2, fd.dim()))
        s1 = fd.sum(dims) if s1 is None else s1 + fd.sum(dims)
        s2 = (fd * fd).sum(dims) if s2 is None else s2 + (fd * fd).sum(dims)
        count += fd.numel() // fd.shape[1]
        lin.add(f, u)
    f_mean = s1 / count
    f_std = (s2 / count - f_mean * f_mean).clamp(min=0).sqrt()
    view = [1, fs[0]] + [1] * (len(fs) - 1)
    mean_f = f_mean.float().view(view).to(device)
    std_f = f_std.clamp(min=1e-6).float().view(view).to(device)
    fit = lin.result(f_mean, f_std) if lin.scale else None
    adopted = fit is not None and fit[2] >= LINEAR_MIN_R2
    if fit is not None:
        log(f"cut {a.cut} {'x'.join(map(str, fs))}: linear inverse explains {fit[2]:.3f} of the pixel variance"
            + (" (adopted)" if adopted else ""))
    else:
        log(f"cut {a.cut} {'x'.join(map(str, fs))}: flat, no linear skip")

    def standardise(f):
        return (f - mean_f) / std_f

    # Networks and optimisers.
    torch.manual_seed(a.seed)
    gen = Generator(fs, image_shape, (fit[0], fit[1]) if adopted else None).to(device)
    disc = Discriminator(fs, image_shape).to(device)
    opt_g = torch.optim.Adam([p for p in gen.parameters() if p.requires_grad], lr=LR, betas=BETAS)
    opt_d = torch.optim.Adam(disc.parameters(), lr=LR, betas=BETAS)
    bce = nn.BCEWithLogitsLoss()

    def train_step(unit):
        real = augment(unit, aug_gen) if image_folder else unit
        f = standardise(features(real))
        rebuilt = gen(f)
        opt_d.zero_grad()
        d_real, d_fake = disc(real, f), disc(rebuilt.detach(), f)
        loss_d = 0.5 * (bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake)))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        l1 = F.l1_loss(rebuilt, real)
        recon = l1 + SSIM_WEIGHT * (1 - ssim(rebuilt, real).mean())
        judged = disc(rebuilt, f)
        loss_g = bce(judged, torch.ones_like(judged)) + LAMBDA_L1 * recon
        loss_g.backward()
        opt_g.step()
        return l1.detach()

    def mean_ssim(u8):
        gen.eval()
        total = 0.0
        with torch.no_grad():
            for i in range(0, u8.shape[0], 64):
                u = unit_of(u8[i:i + 64])
                total += ssim(gen(standardise(features(u))), u).sum().item()
        gen.train()
        return total / u8.shape[0]

    # Training.
    order_gen = torch.Generator().manual_seed(a.seed * 7919 + 1)
    aug_gen = torch.Generator().manual_seed(a.seed * 7919 + 2)
    perm, cursor = torch.randperm(len(tr_idx), generator=order_gen), 0
    best, best_step, best_state, since_best, early = -2.0, 0, None, 0, False
    curve, first_l1, last_l1 = [], [], []
    train_s, step = 0.0, 0
    gen.train()
    disc.train()
    while True:
        sync(device)
        t0 = time.perf_counter()
        while True:
            if cursor + batch > len(tr_idx):
                perm, cursor = torch.randperm(len(tr_idx), generator=order_gen), 0
            unit = unit_of(train_u8[perm[cursor:cursor + batch]])
            cursor += batch
            l1 = train_step(unit)
            step += 1
            if len(first_l1) < 10:
                first_l1.append(l1)
            last_l1 = last_l1[-9:] + [l1]
            if step % a.eval_every == 0 or step == a.steps:
                break
        sync(device)
        train_s += time.perf_counter() - t0
        v = mean_ssim(val_u8)
        curve.append((step, v))
        gain = not curve[:-1] or v > best
        since_best = 0 if (len(curve) == 1 or v > best + MIN_DELTA) else since_best + 1
        if gain:
            best, best_step = v, step
            best_state = copy.deepcopy(gen.state_dict())
        log(f"step {step}/{a.steps}: attacker-val SSIM {v:.4f} (best {best:.4f} at {best_step}); "
            f"{step / train_s:.2f} steps/s")
        if step >= a.steps:
            break
        if a.patience > 0 and since_best >= a.patience:
            early = True
            break
    gen.load_state_dict(best_state)
    eval_ssim = mean_ssim(eval_u8)
    mean_image = unit_of(train_u8).mean(0, keepdim=True)
    ev_unit = unit_of(eval_u8)
    baseline = ssim(mean_image.expand_as(ev_unit), ev_unit).mean().item()
    sync(device)
    wall = time.perf_counter() - T_START
    log(f"cut {a.cut}: eval SSIM {eval_ssim:.4f} (mean-image baseline {baseline:.4f}); {step} steps, "
        f"train {train_s:.1f} s, wall {wall:.1f} s")

    flops = front_flops = None
    if not a.no_flops:
        front_flops, flops = count_flops(features, standardise, gen, disc, unit_of(train_u8[:batch]), image_folder)
    out = {
        "model": a.model, "cut": a.cut, "feature_shape": fs, "steps": step, "steps_budget": a.steps,
        "early_stopped": early, "wall_seconds": wall, "train_seconds": train_s,
        "steps_per_second": step / train_s if train_s > 0 else None,
        "eval_ssim": eval_ssim, "best_val_ssim": best, "best_step": best_step, "val_curve": curve,
        "mean_image_ssim": baseline,
        "first_l1": torch.stack(first_l1).mean().item() if first_l1 else None,
        "last_l1": torch.stack(last_l1).mean().item() if last_l1 else None,
        "linear_inverse_r2": fit[2] if fit else None, "linear_inverse_adopted": adopted,
        "batch_size": batch, "splits": {"attacker_train": len(tr_idx), "attacker_val": len(val_idx),
                                        "eval": len(ev_idx)},
        "data": a.data, "crops_per_image": a.crops_per_image, "seed": a.seed, "device": str(device),
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "torch": torch.__version__, "flops_per_step": flops, "front_flops_per_step": front_flops,
        "attacker_flops_per_step": flops - front_flops if flops is not None else None,
    }
    if a.json:
        with open(a.json + ".tmp", "w") as f:
            json.dump(out, f, indent=1)
        os.replace(a.json + ".tmp", a.json)
    print(json.dumps({k: out[k] for k in ("cut", "steps", "eval_ssim", "wall_seconds", "train_seconds",
                                           "steps_per_second", "flops_per_step")}))


def count_flops(features, standardise, gen, disc, unit, image_folder):
    """FLOPs of one training step (front forward, G and D forwards and backwards), on copies of
    the networks so that training is untouched; (None, None) where torch has no FlopCounterMode."""
    try:
        from torch.utils.flop_counter import FlopCounterMode
    except ImportError:
        return None, None
    gen, disc = copy.deepcopy(gen), copy.deepcopy(disc)
    bce = nn.BCEWithLogitsLoss()
    try:
        with FlopCounterMode(display=False) as fc:
            f = standardise(features(unit))
        front = fc.get_total_flops()
        with FlopCounterMode(display=False) as fc:
            rebuilt = gen(f)
            d_real, d_fake = disc(unit, f), disc(rebuilt.detach(), f)
            (0.5 * (bce(d_real, torch.ones_like(d_real)) + bce(d_fake, torch.zeros_like(d_fake)))).backward()
            recon = F.l1_loss(rebuilt, unit) + SSIM_WEIGHT * (1 - ssim(rebuilt, unit).mean())
            judged = disc(rebuilt, f)
            (bce(judged, torch.ones_like(judged)) + LAMBDA_L1 * recon).backward()
        return int(front), int(front + fc.get_total_flops())
    except Exception as e:  # noqa: BLE001 - a measurement aid; the run's result stands without it
        log(f"FLOP count failed: {e}")
        return None, None


if __name__ == "__main__":
    main()
