#!/usr/bin/env bash
# Benchmark: big inputs stay bounded (docs/benchmarks.md, "Big inputs"). One cut, --steps 10,
# default caps (the quick preset loads at most attacker-train + attacker-val + eval samples):
#   - TON_IoT-like CSVs of 1,000,000 and 10,000,000 records (scripts/make_toniot_csv.py writes
#     the first million; the 10M file repeats its records ten times) on models/toniot_mlp.pt;
#   - a folder of 50,000 PNG files (32x32 RGB, written here) on models/fmnist_cnn.pt.
# Prints a Markdown table: records or files, file size, wall seconds, peak RSS (GNU time).
# Usage: scripts/bench_big_inputs.sh [BIN] [WORK_DIR]   (WORK_DIR needs about 1.5 GB; kept, so
# a second run reuses the inputs; PARTPLAN_BIG_SIZES="1000000" runs fewer sizes)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/partplan}
work=${2:-out/bench_big}
py=/usr/bin/python3
sizes=${PARTPLAN_BIG_SIZES:-1000000 10000000}
mkdir -p "$work"
for m in models/toniot_mlp.pt models/fmnist_cnn.pt; do
  [[ -f $m ]] || { echo "bench_big_inputs: $m is missing: run scripts/setup.sh" >&2; exit 2; }
done

csv_1m=$work/toniot_1000000.csv
if [[ ! -s $csv_1m ]]; then
  echo "bench_big_inputs: writing $csv_1m" >&2
  $py scripts/make_toniot_csv.py --rows 1000000 --seed 7 --out "$csv_1m.tmp" && mv "$csv_1m.tmp" "$csv_1m"
fi
csv_for() {  # the CSV of $1 records: a multiple of the million's records
  local n=$1 f=$work/toniot_$1.csv
  if [[ ! -s $f ]]; then
    echo "bench_big_inputs: writing $f" >&2
    { head -1 "$csv_1m"; for ((i = 0; i < n / 1000000; i++)); do tail -n +2 "$csv_1m"; done; } >"$f.tmp"
    mv "$f.tmp" "$f"
  fi
  echo "$f"
}

folder=$work/photos_50000
if [[ ! -f $folder/.done ]]; then
  echo "bench_big_inputs: writing 50,000 PNG files to $folder" >&2
  rm -rf "$folder"
  $py - "$folder" <<'PY'
import os, struct, sys, zlib
root = sys.argv[1]
def png(w, h, rows):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\0" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))
for c in range(10):
    os.makedirs(f"{root}/class{c}", exist_ok=True)
for i in range(50000):
    pixels = os.urandom(32 * 32 * 3)  # noise: every file decodes to a different image
    rows = [pixels[y * 96:(y + 1) * 96] for y in range(32)]
    with open(f"{root}/class{i % 10}/img{i:05d}.png", "wb") as f:
        f.write(png(32, 32, rows))
open(f"{root}/.done", "w").close()
PY
fi

measure() {  # label, model, data: one row of the table
  local label=$1 model=$2 data=$3 log=$work/time.log size
  size=$(du -sh --apparent-size "$data" | cut -f1)
  if ! /usr/bin/time -v "$bin" -q assess "$model" --data "$data" --cuts 0 --steps 10 -o "$work/plan.json" \
      >/dev/null 2>"$log"; then
    echo "bench_big_inputs: assess on $data failed:" >&2
    tail -5 "$log" >&2
    exit 1
  fi
  local wall rss
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$log" |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; printf "%.1f", s }')
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$log")
  local loaded
  loaded=$($py -c 'import json,sys; p=json.load(open(sys.argv[1])); print(p["data"]["size"])' "$work/plan.json" 2>/dev/null || echo "?")
  printf '| %s | %s | %s | %s s | %d MiB |\n' "$label" "$size" "$loaded" "$wall" $((rss / 1024))
}

echo "| input | on disk | samples loaded | wall | peak RSS |"
echo "|---|---|---|---|---|"
for n in $sizes; do
  measure "CSV, $(printf "%'d" "$n") records" models/toniot_mlp.pt "$(csv_for "$n")"
done
measure "image folder, 50,000 PNG files" models/fmnist_cnn.pt "$folder"
