#!/usr/bin/env bash
# End-to-end check of `assess` on TON_IoT-like records with the default (quick) preset: the
# flat MLP and the 8x8 CNN from scripts/export_models.py, on models/toniot.csv. It asserts
# that the attacks really work on records: the first cut re-identifies most eval records
# (>= 0.9) and the last cut's envelope is lower than the first's; the plans measure
# re-identification, carry every record measure with CIs and the column encoding, validate
# against docs/schemas/plan.schema.json, and the reports are written.
# Usage: scripts/check_records.sh PARTPLAN_BIN MODELS_DIR OUT_DIR
set -euo pipefail
bin=$1 models=$2 out=$3
root=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
rm -rf "$out"; mkdir -p "$out"

for m in toniot_mlp toniot_cnn8; do
  "$bin" -q assess "$models/$m.pt" --data "$models/toniot.csv" --cuts all -o "$out/$m.json" --report "$out/$m" \
    > "$out/$m.txt"
  $py "$root/scripts/validate_json.py" "$root/docs/schemas/plan.schema.json" "$out/$m.json"
  [[ -s $out/$m/summary.md && -s $out/$m/leakage.png && -s $out/$m/report.html ]] \
    || { echo "$m: the report is incomplete" >&2; exit 1; }
  $py - "$out/$m.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["measure"] == "reidentification", p["measure"]
cuts = p["cuts"]
first, last = cuts[0], cuts[-1]
n_eval = p["data"]["splits"]["eval"]
for c in cuts:
    for a in c["attacks"]:
        r = a["records"]
        for k in ("reidentification", "numeric_error", "numeric_within_tolerance", "categorical_accuracy"):
            assert r[k] is not None and r[k]["ci_low"] <= r[k]["mean"] <= r[k]["ci_high"], (c["name"], a["attack"], k)
    assert c["measured"] == max(a["records"]["reidentification"]["mean"] for a in c["attacks"]) or \
        c["worst_attack"] == "label-prototype"
mean_record = next(b for b in p["baselines"] if b["name"] == "mean-record")["records"]
curve = " ".join(f"{c['name']} {c['envelope']:.3f}" for c in cuts)
print(f"{p['model']['path']}: envelope {curve}; mean-record re-identifies {mean_record['reidentification']['mean']:.3f} "
      f"(chance {1 / n_eval:.4f}); decision {p['decision']['kind']} {p['decision']['cut_name']}")
assert first["measured"] >= 0.9, f"the first cut must re-identify most records, got {first['measured']:.3f}"
assert last["envelope"] < first["envelope"], "the envelope must fall with depth"
assert mean_record["reidentification"]["mean"] < 0.05
assert any(col["kind"] == "dropped" and col["name"] == "type" for col in p["data"]["columns"])
assert p["config"]["data"]["csv"]["label"] == "auto"
PY
done

# The 8x8 CNN's archive says it was trained on 44-feature records: a table encoded to 43
# (ts dropped) fits the 64 cells but would shift every field, so it is refused, writing nothing.
set +e
"$bin" -q assess "$models/toniot_cnn8.pt" --data "$models/toniot.csv" --set 'data.csv.drop=["auto","ts"]' \
  -o "$out/short.json" > /dev/null 2> "$out/short.err"
rc=$?
set -e
[[ $rc -eq 2 ]] || { echo "a 43-feature table for a 44-feature model: exit $rc, expected 2" >&2; exit 1; }
grep -q "records of 44 features" "$out/short.err" || { cat "$out/short.err" >&2; exit 1; }
[[ ! -e $out/short.json ]] || { echo "a refused run wrote a plan" >&2; exit 1; }
echo "refused as expected: $(cat "$out/short.err")"
