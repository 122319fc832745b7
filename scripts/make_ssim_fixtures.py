#!/usr/bin/python3
"""Write tests/metrics/skimage_fixtures.hpp: SSIM and PSNR from scikit-image on small images.

The images are not stored. Both this script and tests/metrics/fixture_images.hpp build them
from a recipe with integer arithmetic only (a 64-bit LCG, box blurs, integer division), so the
C++ test reproduces them bit for bit and compares its SSIM with the numbers written here.

Run with Debian's python (python3-skimage, python3-numpy):
    /usr/bin/python3 scripts/make_ssim_fixtures.py > tests/metrics/skimage_fixtures.hpp

Recipe (keep in sync with fixture_images.hpp):
  Lcg(seed): s = s * 6364136223846793005 + 1442695040888963407 mod 2^64; next = s >> 33.
  base "noise":  v = next() % 256 for every pixel, channel-major, row-major.
  base "smooth": n = "noise"; per channel, 3 passes of a 3x3 box blur (edges clamped,
                 floor(sum / 9)); stretch s = (v - min) * 255 // (max - min) (128 if flat);
                 ramp = 255 * (i + j) // (H + W - 2); disc = 255 if
                 (2i - H + 1)^2 + (2j - W + 1)^2 < (min(H, W) * 6 // 10)^2 else 0;
                 v = (5 s + 3 ramp + 2 disc) // 10.
  distortions of A into B (Lcg(seed_b) where random):
    noise k   B = clamp(A + next() % (2k + 1) - k, 0, 255)
    blur      one 3x3 box pass of A
    shift     B[c][i][j] = A[c][i][min(j + 1, W - 1)]
    contrast  B = 3 A // 4 + 32
    invert    B = 255 - A
    same      B = A
    other     B = base image of A's kind from seed_b
  Pixels are divided by 255 (float64) before scoring.
"""
import sys

import numpy as np
import skimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

MASK = (1 << 64) - 1


class Lcg:
    def __init__(self, seed):
        self.s = seed & MASK

    def next(self):
        self.s = (self.s * 6364136223846793005 + 1442695040888963407) & MASK
        return self.s >> 33


def box(plane):
    h, w = len(plane), len(plane[0])
    out = [[0] * w for _ in range(h)]
    for i in range(h):
        for j in range(w):
            s = 0
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    ii = min(max(i + di, 0), h - 1)
                    jj = min(max(j + dj, 0), w - 1)
                    s += plane[ii][jj]
            out[i][j] = s // 9
    return out


def base(kind, seed, c, h, w):
    rng = Lcg(seed)
    planes = [[[rng.next() % 256 for _ in range(w)] for _ in range(h)] for _ in range(c)]
    if kind == "noise":
        return planes
    assert kind == "smooth"
    out = []
    r = min(h, w) * 6 // 10
    for p in planes:
        for _ in range(3):
            p = box(p)
        lo = min(min(row) for row in p)
        hi = max(max(row) for row in p)
        q = [[0] * w for _ in range(h)]
        for i in range(h):
            for j in range(w):
                s = (p[i][j] - lo) * 255 // (hi - lo) if hi > lo else 128
                ramp = 255 * (i + j) // (h + w - 2)
                disc = 255 if (2 * i - h + 1) ** 2 + (2 * j - w + 1) ** 2 < r * r else 0
                q[i][j] = (5 * s + 3 * ramp + 2 * disc) // 10
        out.append(q)
    return out


def distort(a, kind, what, param, seed_b):
    c, h, w = len(a), len(a[0]), len(a[0][0])
    rng = Lcg(seed_b)
    if what == "noise":
        return [[[min(max(a[k][i][j] + rng.next() % (2 * param + 1) - param, 0), 255) for j in range(w)]
                 for i in range(h)] for k in range(c)]
    if what == "blur":
        return [box(p) for p in a]
    if what == "shift":
        return [[[a[k][i][min(j + 1, w - 1)] for j in range(w)] for i in range(h)] for k in range(c)]
    if what == "contrast":
        return [[[3 * v // 4 + 32 for v in row] for row in p] for p in a]
    if what == "invert":
        return [[[255 - v for v in row] for row in p] for p in a]
    if what == "same":
        return [[list(row) for row in p] for p in a]
    if what == "other":
        return base(kind, seed_b, c, h, w)
    raise ValueError(what)


# name, base kind, seed, C, H, W, distortion, parameter, seed_b
CASES = [
    ("smooth_mild_noise", "smooth", 1, 1, 32, 32, "noise", 8, 101),
    ("smooth_strong_noise", "smooth", 2, 1, 32, 32, "noise", 40, 102),
    ("smooth_rgb_blur", "smooth", 3, 3, 24, 20, "blur", 0, 0),
    ("smooth_rgb_shift", "smooth", 4, 3, 24, 20, "shift", 0, 0),
    ("smooth_contrast", "smooth", 5, 1, 28, 28, "contrast", 0, 0),
    ("noise_plus_noise", "noise", 6, 1, 16, 16, "noise", 30, 106),
    ("noise_rgb_independent", "noise", 7, 3, 16, 16, "other", 0, 107),
    ("smooth_minimum_11x11", "smooth", 8, 1, 11, 11, "noise", 20, 108),
    ("smooth_inverted", "smooth", 9, 1, 32, 32, "invert", 0, 0),
    ("smooth_rgb_identical", "smooth", 10, 3, 32, 32, "same", 0, 0),
    ("smooth_independent_64x48", "smooth", 11, 1, 64, 48, "other", 0, 111),
    ("noise_blur_13x40", "noise", 12, 1, 13, 40, "blur", 0, 0),
    ("smooth_rgb_noise_40x36", "smooth", 13, 3, 40, 36, "noise", 16, 113),
]


def main():
    rows = []
    for name, kind, seed, c, h, w, what, param, seed_b in CASES:
        a = base(kind, seed, c, h, w)
        b = distort(a, kind, what, param, seed_b)
        x = np.asarray(a, dtype=np.float64) / 255.0
        y = np.asarray(b, dtype=np.float64) / 255.0
        ssim = structural_similarity(x, y, channel_axis=0, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=1.0)
        identical = bool(np.array_equal(x, y))
        psnr = 0.0 if identical else peak_signal_noise_ratio(x, y, data_range=1.0)
        rows.append((name, kind, seed, c, h, w, what, param, seed_b, float(ssim), float(psnr), identical,
                     int(sum(sum(sum(r) for r in p) for p in a)), int(sum(sum(sum(r) for r in p) for p in b))))

    out = sys.stdout
    out.write("#pragma once\n")
    out.write("// Generated by scripts/make_ssim_fixtures.py with scikit-image %s, numpy %s: do not edit.\n"
              % (skimage.__version__, np.__version__))
    out.write("// SSIM: structural_similarity(a, b, channel_axis=0, gaussian_weights=True, sigma=1.5,\n")
    out.write("//       use_sample_covariance=False, data_range=1.0) on float64 images in [0,1].\n")
    out.write("// PSNR: peak_signal_noise_ratio(a, b, data_range=1.0) (0 where the pair is identical).\n")
    out.write("// The images come from the recipe in the script; fixture_images.hpp rebuilds them, and the\n")
    out.write("// pixel sums check that it did so exactly.\n\n")
    out.write("#include <cstdint>\n\n")
    out.write("namespace partplan::test {\n\n")
    out.write("struct SkimageFixture {\n")
    out.write("  const char* name;\n  const char* base;\n  uint64_t seed;\n  int c, h, w;\n")
    out.write("  const char* distortion;\n  int param;\n  uint64_t seed_b;\n")
    out.write("  double ssim;\n  double psnr_db;\n  bool identical;\n  int64_t sum_a, sum_b;\n};\n\n")
    out.write("inline constexpr SkimageFixture kSkimageFixtures[] = {\n")
    for r in rows:
        name, kind, seed, c, h, w, what, param, seed_b, ssim, psnr, identical, sa, sb = r
        out.write('    {"%s", "%s", %d, %d, %d, %d, "%s", %d, %d, %r, %r, %s, %d, %d},\n'
                  % (name, kind, seed, c, h, w, what, param, seed_b, ssim, psnr,
                     "true" if identical else "false", sa, sb))
    out.write("};\n\n}  // namespace partplan::test\n")


if __name__ == "__main__":
    main()
