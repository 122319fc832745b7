#!/usr/bin/python3
"""Export partplan's example TorchScript models.

Run with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14); scripts/setup.sh does.
Writes into OUT (default: models/, git-ignored):

  fmnist_cnn.pt           small CNN for Fashion-MNIST, input 1x1x28x28 (scripted), trained
                          for a short deterministic run on the Debian dataset; test accuracy printed
  vgg16_script.pt         torchvision VGG-16, random weights, scripted, input 1x3x224x224
  vgg16_trace.pt          same, traced at 1x3x224x224
  resnet50_script.pt      torchvision ResNet-50, random weights, scripted, input 1x3x224x224
  resnet50_trace.pt       same, traced
  efficientnet_b0_script.pt torchvision EfficientNet-B0, random weights, scripted, 1x3x224x224
  efficientnet_b0_trace.pt  same, traced

224x224 is the torchvision/ImageNet evaluation size used by the published setups.
No pretrained weights can be downloaded here, so the torchvision models have seeded random
weights; BatchNorm running statistics are calibrated with a few training-mode passes on
random input so that activations are not degenerate.

Each archive carries an extra file `partplan.json` with {"input_shape": [...]}, which
`partplan inspect` uses when --input-shape is not given.

Idempotent: an existing file is kept unless --force is given.
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

FMNIST_DIR = "/usr/share/datasets/fashion-mnist"


class FashionCNN(nn.Module):
    """conv(16) - pool - conv(32) - pool - conv(64) - fc(128) - fc(10)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.conv3 = nn.Conv2d(32, 64, 3, padding=1)
        self.relu3 = nn.ReLU()
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.relu4 = nn.ReLU()
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.relu3(self.conv3(x))
        x = self.relu4(self.fc1(self.flatten(x)))
        return self.fc2(x)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    t = torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8)
    return t.reshape(dims)


def save(module, path, input_shape):
    extra = {"partplan.json": json.dumps({"input_shape": list(input_shape)})}
    torch.jit.save(module, path, _extra_files=extra)


def export_fmnist(out, force, train_images):
    path = os.path.join(out, "fmnist_cnn.pt")
    if os.path.exists(path) and not force:
        print(f"keep {path}", file=sys.stderr)
        return
    torch.manual_seed(0)
    xs = read_idx(os.path.join(FMNIST_DIR, "train-images-idx3-ubyte.gz")).float().div_(255).unsqueeze(1)
    ys = read_idx(os.path.join(FMNIST_DIR, "train-labels-idx1-ubyte.gz")).long()
    xt = read_idx(os.path.join(FMNIST_DIR, "t10k-images-idx3-ubyte.gz")).float().div_(255).unsqueeze(1)
    yt = read_idx(os.path.join(FMNIST_DIR, "t10k-labels-idx1-ubyte.gz")).long()
    xs, ys = xs[:train_images], ys[:train_images]
    model = FashionCNN()
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(0)
    t0 = time.time()
    model.train()
    for epoch in range(2):
        perm = torch.randperm(xs.shape[0], generator=g)
        for i in range(0, xs.shape[0], 128):
            idx = perm[i:i + 128]
            loss = F.cross_entropy(model(xs[idx]), ys[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(xt).argmax(1) == yt).float().mean().item()
    print(f"fmnist_cnn: trained 2 epochs on {xs.shape[0]} images in {time.time() - t0:.1f} s, "
          f"test accuracy {acc * 100:.2f}% on 10000 t10k images")
    save(torch.jit.script(model), path, [1, 1, 28, 28])


def calibrate_bn(model, shape, passes=4):
    """Training-mode passes with momentum=None (cumulative average) set realistic BN statistics."""
    bns = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for _ in range(passes):
            model(torch.rand(shape, generator=g))
    model.eval()


def export_torchvision(out, force, name):
    import torchvision
    s_path = os.path.join(out, f"{name}_script.pt")
    t_path = os.path.join(out, f"{name}_trace.pt")
    if os.path.exists(s_path) and os.path.exists(t_path) and not force:
        print(f"keep {s_path}, {t_path}", file=sys.stderr)
        return
    torch.manual_seed(0)
    model = getattr(torchvision.models, name)(weights=None)
    shape = [1, 3, 224, 224]
    calibrate_bn(model, [8, 3, 224, 224])
    model.eval()
    example = torch.rand(shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        ref = model(example)
        scripted = torch.jit.script(model)
        traced = torch.jit.trace(model, example)
        for m, kind in ((scripted, "script"), (traced, "trace")):
            err = (m(example) - ref).abs().max().item()
            if err > 1e-4:
                raise SystemExit(f"{name} {kind}: differs from eager by {err}")
    save(scripted, s_path, shape)
    save(traced, t_path, shape)
    print(f"{name}: scripted and traced at {shape}, logits std {ref.std().item():.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="models")
    ap.add_argument("--force", action="store_true", help="re-export existing files")
    ap.add_argument("--only", default="", help="comma list of: fmnist_cnn,vgg16,resnet50,efficientnet_b0")
    ap.add_argument("--train-images", type=int, default=20000,
                    help="Fashion-MNIST training images for the small CNN (default 20000)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    wanted = set(filter(None, args.only.split(","))) or {"fmnist_cnn", "vgg16", "resnet50", "efficientnet_b0"}
    if "fmnist_cnn" in wanted:
        export_fmnist(args.out, args.force, args.train_images)
    for name in ("vgg16", "resnet50", "efficientnet_b0"):
        if name in wanted:
            export_torchvision(args.out, args.force, name)


if __name__ == "__main__":
    main()
