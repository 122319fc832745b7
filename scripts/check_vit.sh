#!/usr/bin/env bash
# The torch 2.x build on a model only torch 2.x can load: the small ViT of export_models.py
# (4x4 patches, two nn.TransformerEncoder layers whose attention calls
# aten::scaled_dot_product_attention), scripted by torch 2.x. It inspects, splits at a token
# cut and verifies, and is assessed on Fashion-MNIST with the default preset; the attack must
# really work on tokens: the patch embedding (the first cut) leaks almost everything (SSIM >= 0.9),
# and the envelope does not rise with depth.
# Usage: scripts/check_vit.sh PARTPLAN_BIN VIT_MODEL OUT_DIR
set -euo pipefail
bin=$1 model=$2 out=$3
root=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
rm -rf "$out"; mkdir -p "$out"

"$bin" -q inspect "$model" --cuts all --json > "$out/inspect.json"
read -r count first token_cut last <<<"$($py - "$out/inspect.json" <<'PY'
import json, sys
cuts = json.load(open(sys.argv[1]))["cuts"]
names = [c["name"] for c in cuts]
# A cut between the two encoder layers (named by the block it exits, encoder.0) and the
# encoder's output.
assert "encoder.0" in names and "encoder" in names, names
token = next(c for c in cuts if c["name"] == "encoder.0")
assert len(token["shape"]) == 3, token
print(len(cuts), cuts[0]["name"], token["name"], cuts[-1]["name"])
PY
)"
echo "vit: $count cuts, first $first, a token cut $token_cut, last $last"

"$bin" -q split "$model" --cuts "$token_cut" --out "$out/split" > /dev/null
"$bin" -q verify "$out/split/partition.json" --samples 4 | grep -q '^PASS$'
echo "vit: split at $token_cut, verify PASS"

"$bin" -q assess "$model" --data builtin:fashion-mnist --cuts "$first,$token_cut,$last" -o "$out/plan.json" \
  --report "$out/report" > "$out/assess.txt"
$py "$root/scripts/validate_json.py" "$root/docs/schemas/plan.schema.json" "$out/plan.json"
$py - "$out/plan.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
cuts = p["cuts"]
curve = ", ".join(f"{c['name']} {c['envelope']:.3f}" for c in cuts)
print(f"vit: assessed with LibTorch {p['tool']['libtorch']}: envelope {curve}; decision {p['decision']['kind']}")
assert p["tool"]["libtorch"].startswith("2."), p["tool"]
assert cuts[0]["envelope"] >= 0.9, f"the patch embedding must leak almost everything, got {cuts[0]['envelope']:.3f}"
assert all(a["envelope"] >= b["envelope"] for a, b in zip(cuts, cuts[1:]))
PY
[[ -s $out/report/report.html ]] || { echo "vit: no report.html" >&2; exit 1; }
echo "vit checks passed"
