#!/usr/bin/env bash
# report.html and compare.html as a person sees them: headless Chromium loads each page from
# its file (no server, no network), and the test checks that the page's script ran without an
# error (it sets body[data-ready] to the number of charts), that no console message was
# logged, that nothing is fetched from the network, and that the key elements are there: the
# decision sentence, the leakage curve, one reconstruction grid per cut, the comparison table.
# The screenshots stay in WORKDIR as the test's artifacts.
# With a records CSV, a record model's report (re-identification, no grids) is checked too.
#   browser_report.sh PARTPLAN MAKE_TINY_MODEL WORKDIR [RECORDS_CSV]
set -uo pipefail
pp=$1 make_model=$2 work=$3 records_csv=${4:-${PARTPLAN_RECORDS_CSV:-}}
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser) || fail "chromium is not installed: run scripts/setup.sh"
"$make_model" "$work/tiny.pt" mnist > /dev/null || fail "make_tiny_model"
small=(--data builtin:fashion-mnist:test --steps 30 --set data.attacker_train=300 --set data.attacker_val=40
       --set data.eval=60 --set budget.eval_every=15 --set cgan.width=32 --set cgan.disc_width=16
       --set whitebox.images=8 --set whitebox.iterations=30 --cuts all)
"$pp" -q assess "$work/tiny.pt" "${small[@]}" -o "$work/plan.json" --report "$work/report" > /dev/null \
  || fail "assess (binary split)"
"$pp" -q assess "$work/tiny.pt" "${small[@]}" --ternary --threshold 0.99 -o "$work/ternary.json" \
  --report "$work/report-ternary" > /dev/null || fail "assess (ternary split)"
"$pp" -q compare "$work/plan.json" "$work/ternary.json" --out "$work/compare" > /dev/null || fail "compare"

# render PAGE NAME: DOM to NAME.dom, console to NAME.log, screenshot to NAME.png
render() {
  "$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --enable-logging=stderr --v=0 \
    --window-size=1100,2400 --dump-dom "file://$1" > "$work/$2.dom" 2> "$work/$2.log" \
    || fail "$2: chromium failed: $(tail -2 "$work/$2.log")"
  "$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,2400 \
    --screenshot="$work/$2.png" "file://$1" > /dev/null 2>&1 || fail "$2: no screenshot"
  [[ $(stat -c %s "$work/$2.png") -gt 20000 ]] || fail "$2: the screenshot is blank ($(stat -c %s "$work/$2.png") bytes)"
  if grep -E "CONSOLE|Uncaught" "$work/$2.log"; then fail "$2: console messages (above)"; fi
  if grep -Eo "(src|href|srcset|action)=[\"']?(https?:)?//[^\"' >]*|url\([\"']?(https?:)?//[^)]*|@import" "$1"; then
    fail "$2: the page fetches from the network (above)"
  fi
}
expect() {  # expect NAME PATTERN COUNT: the DOM has COUNT matches of PATTERN
  local n
  n=$(grep -o "$2" "$work/$1.dom" | wc -l)
  [[ $n -eq $3 ]] || fail "$1: $n matches of '$2', want $3"
}
cuts=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["cuts"]))' "$work/plan.json")
render "$work/report/report.html" report
expect report 'data-ready="2"' 1                  # the script ran: two charts
expect report 'id="decision"' 1
expect report 'id="leakage-curve"' 1
expect report 'id="pareto"' 1
expect report '<details class="grid"' "$cuts"     # one grid per cut
expect report 'src="data:image/png;base64,' "$cuts"
render "$work/report-ternary/report.html" ternary
expect ternary 'data-ready="2"' 1
expect ternary 'id="decision"' 1
expect ternary 'id="ternary"' 1
render "$work/compare/compare.html" compare
expect compare 'data-ready="1"' 1
expect compare 'id="compare-table"' 1
expect compare 'id="differences"' 1                # the ternary plan differs in settings: said plainly
expect compare '<g class="series"' 2
if [[ -n $records_csv ]]; then
  "$make_model" "$work/records.pt" records > /dev/null || fail "make_tiny_model records"
  "$pp" -q assess "$work/records.pt" --data "$records_csv" --steps 40 --set budget.eval_every=20 --cuts all \
    -o "$work/records.json" --report "$work/report-records" > /dev/null || fail "assess (records)"
  render "$work/report-records/report.html" records
  expect records 'data-ready="2"' 1
  expect records 'id="decision"' 1
  expect records 'id="leakage-curve"' 1
  expect records '<details class="grid"' 0         # records have no image grids
  expect records 'envelope re-identification' 2    # the decision sentence and the Pareto axis
fi
echo "ok: screenshots in $work (report.png, ternary.png, compare.png${records_csv:+, records.png})"
