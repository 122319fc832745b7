#!/usr/bin/python3
"""Export partplan's example TorchScript models.

Runs under either torch partplan builds against (docs/building.md): Debian's /usr/bin/python3
(torch 1.13, torchvision 0.14; scripts/setup.sh) or the torch 2.x virtual environment of
scripts/setup_torch2.sh (torch 2.11, torchvision 0.26, into models-torch2/).
Writes into OUT (default: models/, git-ignored):

  fmnist_cnn.pt           small CNN for Fashion-MNIST, input 1x1x28x28 (scripted), trained
                          for a short deterministic run on the Debian dataset; test accuracy printed
  vgg16_script.pt         torchvision VGG-16, random weights, scripted, input 1x3x224x224
  vgg16_trace.pt          same, traced at 1x3x224x224
  resnet50_script.pt      torchvision ResNet-50, random weights, scripted, input 1x3x224x224
  resnet50_trace.pt       same, traced
  efficientnet_b0_script.pt torchvision EfficientNet-B0, random weights, scripted, 1x3x224x224
  efficientnet_b0_trace.pt  same, traced
  toniot.csv              a synthetic TON_IoT-like network table (scripts/make_toniot_csv.py,
                          5000 records, seed 0): the data source of the two record models
  toniot_mlp.pt           MLP over the flat encoded record, input 1x44 (scripted), trained to
                          tell attacks from normal traffic (`label`); held-out accuracy printed
  toniot_cnn8.pt          small CNN over the record laid out as 1x1x8x8 (44 values, zero-padded,
                          row-major), same task
  vit_tiny.pt             torch >= 2 only: a small vision transformer over Fashion-MNIST, input
                          1x1x28x28 (4x4 patches, 49 tokens of width 32, two nn.TransformerEncoder
                          layers, mean-pooled head), scripted; since torch 2.0 nn.MultiheadAttention
                          calls aten::scaled_dot_product_attention, which LibTorch 1.13 cannot load

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


class TinyViT(nn.Module):
    """4x4 patch embedding - positional embedding - 2 x TransformerEncoderLayer - LayerNorm -
    mean over tokens - fc(10)."""

    def __init__(self, width=32, heads=4, layers=2):
        super().__init__()
        self.patch = nn.Conv2d(1, width, 4, stride=4)
        self.pos = nn.Parameter(torch.zeros(1, 49, width))
        layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=2 * width, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        self.head = nn.Linear(width, 10)

    def forward(self, x):
        tokens = self.patch(x).flatten(2).transpose(1, 2) + self.pos
        return self.head(self.norm(self.encoder(tokens)).mean(1))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack(">I", data[:4])[0]
    ndim = magic & 0xFF
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    t = torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8)
    return t.reshape(dims)


def train_classifier(model, inputs, labels, train, epochs, batch, lr):
    """Adam on cross-entropy over the rows `train` of inputs, in batches drawn from a seeded
    permutation per epoch (generator seed 0); leaves the model in eval mode."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    model.train()
    for _ in range(epochs):
        order = train[torch.randperm(train.shape[0], generator=g)]
        for i in range(0, order.shape[0], batch):
            idx = order[i:i + batch]
            loss = F.cross_entropy(model(inputs[idx]), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()


def save(module, path, input_shape, **info):
    """info: more keys of partplan.json, e.g. record_features for a model over CSV records."""
    extra = {"partplan.json": json.dumps({"input_shape": list(input_shape), **info})}
    torch.jit.save(module, path, _extra_files=extra)


def export_fmnist(out, force, train_images, name="fmnist_cnn", make=FashionCNN, lr=2e-3):
    """Train `make()` for 2 epochs on the first train_images Fashion-MNIST images, script it."""
    path = os.path.join(out, name + ".pt")
    if os.path.exists(path) and not force:
        print(f"keep {path}", file=sys.stderr)
        return
    torch.manual_seed(0)
    xs = read_idx(os.path.join(FMNIST_DIR, "train-images-idx3-ubyte.gz")).float().div_(255).unsqueeze(1)
    ys = read_idx(os.path.join(FMNIST_DIR, "train-labels-idx1-ubyte.gz")).long()
    xt = read_idx(os.path.join(FMNIST_DIR, "t10k-images-idx3-ubyte.gz")).float().div_(255).unsqueeze(1)
    yt = read_idx(os.path.join(FMNIST_DIR, "t10k-labels-idx1-ubyte.gz")).long()
    xs, ys = xs[:train_images], ys[:train_images]
    model = make()
    t0 = time.time()
    train_classifier(model, xs, ys, torch.arange(xs.shape[0]), epochs=2, batch=128, lr=lr)
    with torch.no_grad():
        acc = (model(xt).argmax(1) == yt).float().mean().item()
    print(f"{name}: trained 2 epochs on {xs.shape[0]} images in {time.time() - t0:.1f} s, "
          f"test accuracy {acc * 100:.2f}% on 10000 t10k images")
    save(torch.jit.script(model), path, [1, 1, 28, 28])


class RecordMLP(nn.Module):
    """fc(64) - fc(32) - fc(2) over the encoded record."""

    def __init__(self, features):
        super().__init__()
        self.fc1 = nn.Linear(features, 64)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(64, 32)
        self.relu2 = nn.ReLU()
        self.fc3 = nn.Linear(32, 2)

    def forward(self, x):
        return self.fc3(self.relu2(self.fc2(self.relu1(self.fc1(x)))))


class RecordCNN8(nn.Module):
    """conv(16) - conv(32) - pool - fc(64) - fc(2) over the record as a 1x8x8 grid."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(64, 2)

    def forward(self, x):
        x = self.pool(self.relu2(self.conv2(self.relu1(self.conv1(x)))))
        return self.fc2(self.relu3(self.fc1(self.flatten(x))))


def export_toniot(out, force, rows=5000):
    import csv
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import make_toniot_csv
    csv_path = os.path.join(out, "toniot.csv")
    paths = [csv_path, os.path.join(out, "toniot_mlp.pt"), os.path.join(out, "toniot_cnn8.pt")]
    if all(os.path.exists(p) for p in paths) and not force:
        print(f"keep {', '.join(paths)}", file=sys.stderr)
        return
    rng = make_toniot_csv.SplitMix64(0)
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(make_toniot_csv.COLUMNS)
        ts = 1554198358
        for _ in range(rows):
            ts += rng.below(5)
            w.writerow(make_toniot_csv.record(rng, ts))
    with open(csv_path, newline="") as f:
        table = list(csv.reader(f))
    feats, labels, names = make_toniot_csv.encode_records(table[0], table[1:])
    x = torch.tensor(feats, dtype=torch.float32)
    y = torch.tensor(labels, dtype=torch.long)
    n_features = x.shape[1]
    perm = torch.randperm(x.shape[0], generator=torch.Generator().manual_seed(0))
    test, train = perm[: x.shape[0] // 5], perm[x.shape[0] // 5:]
    grid = F.pad(x, (0, 64 - n_features)).view(-1, 1, 8, 8)
    for name, make, inputs, shape in (("toniot_mlp", lambda: RecordMLP(n_features), x, [1, n_features]),
                                      ("toniot_cnn8", RecordCNN8, grid, [1, 1, 8, 8])):
        torch.manual_seed(0)  # before the weights are drawn: the same model on every run
        model = make()
        t0 = time.time()
        train_classifier(model, inputs, y, train, epochs=30, batch=64, lr=3e-3)
        with torch.no_grad():
            acc = (model(inputs[test]).argmax(1) == y[test]).float().mean().item()
        majority = max(y[test].float().mean().item(), 1 - y[test].float().mean().item())
        print(f"{name}: trained 30 epochs on {train.shape[0]} records ({n_features} features) in "
              f"{time.time() - t0:.1f} s, held-out accuracy {acc * 100:.2f}% on {test.shape[0]} records "
              f"(majority class {majority * 100:.1f}%)")
        save(torch.jit.script(model), os.path.join(out, name + ".pt"), shape, record_features=n_features)


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
    ap.add_argument("--only", default="",
                    help="comma list of: fmnist_cnn,toniot,vgg16,resnet50,efficientnet_b0,vit_tiny (torch >= 2)")
    ap.add_argument("--train-images", type=int, default=20000,
                    help="Fashion-MNIST training images for the small CNN (default 20000)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    torch2 = int(torch.__version__.split(".")[0]) >= 2
    wanted = set(filter(None, args.only.split(","))) or {"fmnist_cnn", "toniot", "vgg16", "resnet50",
                                                         "efficientnet_b0"} | ({"vit_tiny"} if torch2 else set())
    if "vit_tiny" in wanted and not torch2:
        raise SystemExit(f"vit_tiny needs torch >= 2 (this is {torch.__version__}): run under the torch 2.x "
                         "environment of scripts/setup_torch2.sh")
    print(f"exporting with torch {torch.__version__} into {args.out}", file=sys.stderr)
    if "fmnist_cnn" in wanted:
        export_fmnist(args.out, args.force, args.train_images)
    if "vit_tiny" in wanted:
        export_fmnist(args.out, args.force, args.train_images, name="vit_tiny", make=TinyViT, lr=1e-3)
    if "toniot" in wanted:
        export_toniot(args.out, args.force)
    for name in ("vgg16", "resnet50", "efficientnet_b0"):
        if name in wanted:
            export_torchvision(args.out, args.force, name)


if __name__ == "__main__":
    main()
