#!/usr/bin/env bash
# SIGTERM / SIGINT during assess: one line, exit 143 / 130, no plan and no temporary file
# left; a staging directory of a process killed with SIGKILL is removed by the next split
# into the same directory, while one of a live process stays.
#   smoke_interrupt.sh PARTPLAN MAKE_TINY_MODEL WORKDIR
set -uo pipefail
pp=$1 make_model=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
"$make_model" "$work/tiny.pt" mnist > /dev/null || fail "make_tiny_model"
for sig in TERM INT; do
  want=$([[ $sig == TERM ]] && echo 143 || echo 130)
  "$pp" assess "$work/tiny.pt" --data builtin:fashion-mnist --steps 100000 -o "$work/plan-$sig.json" \
    --report "$work/report-$sig" > "$work/out-$sig" 2> "$work/err-$sig" &
  pid=$!
  # Wait until training has started (progress on stderr needs --log; poll the process instead).
  sleep 8
  kill -s "$sig" "$pid"
  wait "$pid"; rc=$?
  [[ $rc == "$want" ]] || fail "SIG$sig: exit $rc, want $want; stderr: $(tail -3 "$work/err-$sig")"
  grep -q "interrupted by SIG$sig" "$work/err-$sig" || fail "SIG$sig: no 'interrupted' line: $(tail -3 "$work/err-$sig")"
  [[ ! -e $work/plan-$sig.json ]] || fail "SIG$sig: a plan was written"
  ls -a "$work" | grep -q '\.tmp-' && fail "SIG$sig: a temporary file was left: $(ls -a "$work")"
done
# Stale staging (dead pid 999999999, and an old-style name) goes; a live one (this shell) stays.
mkdir -p "$work/split/.partplan-staging-999999999-1/x" "$work/split/.partplan-staging-12345" \
  "$work/split/.partplan-staging-$$-7"
"$pp" -q split "$work/tiny.pt" --cuts 0 --out "$work/split" > /dev/null || fail "split"
[[ ! -e $work/split/.partplan-staging-999999999-1 ]] || fail "a dead process's staging directory stayed"
[[ ! -e $work/split/.partplan-staging-12345 ]] || fail "an old-style staging directory stayed"
[[ -d $work/split/.partplan-staging-$$-7 ]] || fail "a live process's staging directory was removed"
[[ -f $work/split/partition.json ]] || fail "split wrote no partition.json"
echo "interrupts: ok"
