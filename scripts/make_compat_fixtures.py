#!/usr/bin/env python3
"""Write the cross-version TorchScript fixtures of tests/fixtures/ (checked in, small).

Run under torch 2.x (the environment of scripts/setup_torch2.sh):
  .venv-torch2/bin/python scripts/make_compat_fixtures.py

  vit_tiny_torch2.pt  export_models.TinyViT with seeded, untrained weights, scripted by torch 2.x:
                      its attention calls aten::scaled_dot_product_attention, which LibTorch 1.13
                      does not have
  future_format.pt    a one-layer model whose archive records file format version 99, above what
                      any LibTorch reads
"""
import io
import json
import os
import sys
import zipfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_models import TinyViT  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures")


def main():
    if int(torch.__version__.split(".")[0]) < 2:
        raise SystemExit(f"run under torch >= 2 (this is {torch.__version__})")
    os.makedirs(OUT, exist_ok=True)
    extra = {"partplan.json": json.dumps({"input_shape": [1, 1, 28, 28]})}
    torch.manual_seed(0)
    torch.jit.save(torch.jit.script(TinyViT().eval()), os.path.join(OUT, "vit_tiny_torch2.pt"), _extra_files=extra)

    buf = io.BytesIO()
    torch.manual_seed(0)
    torch.jit.save(torch.jit.script(torch.nn.Linear(4, 2).eval()), buf,
                   _extra_files={"partplan.json": json.dumps({"input_shape": [1, 4]})})
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    with zipfile.ZipFile(os.path.join(OUT, "future_format.pt"), "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("/version") or info.filename.endswith("/.data/version"):
                data = b"99\n"
            dst.writestr(info, data)
    print(f"wrote {OUT}/vit_tiny_torch2.pt and future_format.pt with torch {torch.__version__}")


if __name__ == "__main__":
    main()
