#!/usr/bin/env bash
# Benchmark: partplan run on the example CNN's and ResNet-50's plans, binary and ternary. Each
# plan comes from a short assess (the learned inverse attacker for 20 steps, a threshold that
# accepts the cut, --export): its leakage figures do not matter here, only that it carries the
# cost model's estimates and the exported parts; run then serves it across
# processes and prints measured against estimated per part, the transfer per request and the
# enclave worker's peak memory. Prints one markdown table (docs/benchmarks.md, "partplan run").
#
#   bash scripts/bench_run.sh                         # both models, binary and ternary
#   REQUESTS=200 CONCURRENCY=2 bash scripts/bench_run.sh
#   MODELS=resnet50_script KINDS=ternary bash scripts/bench_run.sh   # one row
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${BIN:-build/partplan}
out=${OUT:-$(mktemp -d)}
requests=${REQUESTS:-100}
concurrency=${CONCURRENCY:-1}
# At concurrency 1 one worker computes at a time, so each may use every core, as the cost
# model's timing did; at higher concurrency set THREADS to the cores / 2.
threads=${THREADS:-$(nproc)}
models=${MODELS:-"fmnist_cnn resnet50_script"}
kinds=${KINDS:-"binary ternary"}
mkdir -p "$out"
# model | data | binary cut | ternary cuts (front, back) | extra assess flags
specs=(
  "fmnist_cnn|builtin:fashion-mnist|pool2|pool1 fc1|--set data.attacker_train=2000"
  "resnet50_script|models/photos|layer2|layer2 avgpool|--set data.crops_per_image=4"
)
rows=()
for spec in "${specs[@]}"; do
  IFS='|' read -r m data cut tern extra <<< "$spec"
  [[ " $models " == *" $m "* ]] || continue
  [[ -f models/$m.pt ]] || { echo "bench_run: models/$m.pt missing: run scripts/setup.sh" >&2; exit 2; }
  read -r front back <<< "$tern"
  for kind in $kinds; do
    dir=$out/$m-$kind
    rm -rf "$dir"
    if [[ $kind == binary ]]; then flags=(--cuts "$cut"); else flags=(--cuts "$front" --ternary --back-cut "$back"); fi
    echo "bench_run: $m $kind: assess ..." >&2
    # shellcheck disable=SC2086
    "$bin" -q assess "models/$m.pt" --data "$data" "${flags[@]}" --attack inverse --steps 20 --threshold 1.0 $extra \
      --export "$dir/parts" -o "$dir/plan.json" > /dev/null
    echo "bench_run: $m $kind: run, $requests requests at concurrency $concurrency ..." >&2
    "$bin" -q run "$dir/plan.json" --data "${data/%fashion-mnist/fashion-mnist:test}" --requests "$requests" \
      --concurrency "$concurrency" --worker-threads "$threads" -o "$dir/runtime.json" > "$dir/run.txt"
    rows+=("$(/usr/bin/python3 - "$m" "$kind" "$dir/runtime.json" <<'PY'
import json, sys
m, kind, path = sys.argv[1:4]
d = json.load(open(path))
def f(v): return "-" if v is None else (f"{v:.3f}" if v < 10 else f"{v:.1f}")
parts = "; ".join(f"{p['name']} {f(p['measured']['p50_ms'])} / {f(p['estimated_ms'])} ms" for p in d["parts"])
cross = [h for h in d["hops"] if h["from"] != "client" and h["to"] != "client"]
hops = "; ".join(f"{h['from']}->{h['to']} {h['bytes_per_request'] / 1024:.1f} KiB {f(h['measured']['p50_ms'])} ms" for h in cross)
e = d["end_to_end"]
mem = d["enclave_memory"]
print(f"| {m} | {kind} {'+'.join(d['plan']['cut_names'])} | {parts} | {hops} | "
      f"{f(e['measured']['p50_ms'])} / {f(e['estimated_ms'])} | {d['throughput_rps']:.1f} | "
      f"{mem['peak_rss_bytes'] / 2**20:.0f} MiB (budget {mem['budget_bytes'] / 2**20:.0f}) | "
      f"{d['faithful']['max_rel_error']:.2g} |")
PY
)")
  done
done
echo "| model | split | per part p50 measured / estimated | crossing hops: bytes, p50 | end to end p50 ms measured / estimated | requests/s | enclave worker peak RSS | max rel error |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
echo
echo "machine: $(nproc) cores; $("$bin" --version); $requests requests at concurrency $concurrency, $threads threads per worker; estimates: the plan's cost model (enclave / cost.tee_slowdown, untrusted x cost.gpu_speedup on a CPU run); outputs in $out"
