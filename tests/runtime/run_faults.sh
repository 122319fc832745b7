#!/usr/bin/env bash
# partplan run as a deployment meets it: load, faults and bad plans, on the example CNN's
# parts. Usage: run_faults.sh PARTPLAN MODELS_DIR WORK CASE. "setup" splits the model once
# (binary at pool2, ternary at pool1 and fc1); every other case runs against those parts and
# asserts on the exit code, the one stderr line and runtime.json. ctest bounds each in time.
set -uo pipefail
pp=$1 models=$2 work=$3 case=$4
data=builtin:fashion-mnist:test
root=$(cd "$(dirname "$0")/../.." && pwd)
fail() { echo "FAIL [$case]: $*" >&2; exit 1; }
json() { python3 -c "import json,sys; d=json.load(open('$1')); print($2)"; }
no_orphans() {  # every worker of this run was reaped
  sleep 0.2
  if pgrep -f "__worker.*$work" > /dev/null; then pgrep -af "__worker.*$work" >&2; fail "a worker outlived the run"; fi
}
expect() {  # expect RC PATTERN -- ARGS...: run partplan, check the exit code and one stderr pattern
  local want=$1 pattern=$2; shift 3
  "$pp" "$@" > "$work/$case.out" 2> "$work/$case.err"
  local rc=$?
  [[ $rc == "$want" ]] || { cat "$work/$case.err" >&2; fail "exit $rc, expected $want"; }
  [[ -z $pattern ]] || grep -q -- "$pattern" "$work/$case.err" || { cat "$work/$case.err" >&2; fail "stderr lacks '$pattern'"; }
}
case $case in
  setup)
    rm -rf "$work" && mkdir -p "$work"
    "$pp" -q split "$models/fmnist_cnn.pt" --cuts pool2 --out "$work/bin" || fail "split pool2"
    "$pp" -q split "$models/fmnist_cnn.pt" --cuts pool1,fc1 --out "$work/ter" || fail "split pool1,fc1"
    ;;
  load)  # 1,000 requests at concurrency 4: each once, in order, equal to the unsplit model
    expect 0 "" -- run "$work/bin/partition.json" --data $data --requests 1000 --concurrency 4 -o "$work/load.json"
    [[ $(json "$work/load.json" "d['requests']['completed']") == 1000 ]] || fail "not 1000 completed"
    [[ $(json "$work/load.json" "d['faithful']['passed'] and d['faithful']['top1_agreement'] == 1.0") == True ]] ||
      fail "outputs differ from the unsplit model"
    [[ $(json "$work/load.json" "d['failure']") == None ]] || fail "a failure was recorded"
    /usr/bin/python3 "$root/scripts/validate_json.py" "$root/docs/schemas/runtime.schema.json" "$work/load.json" > /dev/null ||
      fail "runtime.json does not validate against docs/schemas/runtime.schema.json"
    grep -q "end to end" "$work/$case.out" || fail "no table on stdout"
    no_orphans ;;
  ternary)  # front and back in the enclave worker, the middle untrusted
    expect 0 "" -- run "$work/ter/partition.json" --data $data --requests 100 --concurrency 2 -o "$work/ter.json"
    [[ $(json "$work/ter.json" "[p['name'] for p in d['parts']]") == "['front', 'middle', 'back']" ]] || fail "parts"
    [[ $(json "$work/ter.json" "[w['parts'] for w in d['workers']]") == "[['front', 'back'], ['middle']]" ]] ||
      fail "the enclave worker does not hold front and back"
    [[ $(json "$work/ter.json" "d['requests']['completed']") == 100 ]] || fail "not 100 completed"
    /usr/bin/python3 "$root/scripts/validate_json.py" "$root/docs/schemas/runtime.schema.json" "$work/ter.json" > /dev/null ||
      fail "runtime.json does not validate"
    no_orphans ;;
  sandbox)  # the enclave worker says what was put in place
    expect 0 "" -- run "$work/bin/partition.json" --data $data --requests 10 -o "$work/sandbox.json"
    [[ $(json "$work/sandbox.json" "d['workers'][0]['sandbox']['core_dumps_off']") == True ]] || fail "core dumps"
    json "$work/sandbox.json" "d['workers'][0]['sandbox']['network']" | grep -q "own network namespace" || fail "network"
    json "$work/sandbox.json" "d['workers'][0]['sandbox']['seccomp']" | grep -q "allow-list of" || fail "seccomp"
    [[ $(json "$work/sandbox.json" "d['workers'][0]['peak_rss_bytes'] > 0") == True ]] || fail "no peak RSS" ;;
  untrusted_killed)  # killed mid-run: bounded, named, non-zero, completed requests kept
    expect 1 "untrusted worker" -- run "$work/bin/partition.json" --data $data --requests 200 --fault untrusted:kill@50 \
      -o "$work/killed.json"
    grep -q "request 50" "$work/$case.err" || fail "the request is not named"
    grep -q "SIGKILL" "$work/$case.err" || fail "the signal is not named"
    [[ $(json "$work/killed.json" "d['requests']['completed']") == 50 ]] || fail "the 50 completed requests were not kept"
    no_orphans ;;
  enclave_crashed)
    expect 1 "enclave worker" -- run "$work/ter/partition.json" --data $data --requests 200 --concurrency 4 \
      --fault enclave:crash@30 -o "$work/crashed.json"
    grep -q "SIGSEGV" "$work/$case.err" || fail "the signal is not named"
    [[ $(json "$work/crashed.json" "d['requests']['completed'] <= 30 and d['failure']['worker'] == 'enclave'") == True ]] ||
      fail "completed or failure wrong"
    no_orphans ;;
  unfaithful)  # an untrusted part that answers wrongly: exit 5, the error measured
    expect 5 "differ from the unsplit model" -- run "$work/bin/partition.json" --data $data --requests 20 \
      --fault untrusted:perturb@7 -o "$work/unfaithful.json"
    [[ $(json "$work/unfaithful.json" "d['faithful']['max_abs_error'] >= 0.99") == True ]] || fail "error not measured" ;;
  tampered)  # one byte of the front changed: exit 4, both hashes, nothing run
    rm -rf "$work/tampered" && cp -r "$work/bin" "$work/tampered"
    python3 -c "f = open('$work/tampered/front.pt', 'r+b'); f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 0xff]))"
    expect 4 "does not match the plan's SHA-256" -- run "$work/tampered/partition.json" --data $data -o "$work/tampered.json"
    [[ $(wc -l < "$work/$case.err") == 1 ]] || fail "more than one line"
    [[ ! -e $work/tampered.json ]] || fail "runtime.json written for a tampered plan" ;;
  missing)
    rm -rf "$work/missing" && cp -r "$work/bin" "$work/missing" && rm "$work/missing/back.pt"
    expect 1 "not found" -- run "$work/missing/partition.json" --data $data -o "$work/missing.json"
    [[ $(wc -l < "$work/$case.err") == 1 ]] || fail "more than one line"
    [[ ! -e $work/missing.json ]] || fail "runtime.json written" ;;
  no_cut)  # a real plan whose decision is "none"
    "$pp" -q --threads 1 assess "$models/fmnist_cnn.pt" --data builtin:fashion-mnist --cuts pool2 --attack inverse \
      --set data.attacker_train=1000 --set data.eval=200 --threshold 0 -o "$work/none.json" > /dev/null 2>&1
    [[ -f $work/none.json ]] || fail "the no-cut plan was not written"
    expect 2 "no chosen cut" -- run "$work/none.json" --data $data -o "$work/nocut.json"
    [[ $(wc -l < "$work/$case.err") == 1 ]] || fail "more than one line" ;;
  timings)  # a plan with estimates: run measures beside them, and assess --timings takes them back
    "$pp" -q --threads 1 assess "$models/fmnist_cnn.pt" --data builtin:fashion-mnist --cuts pool2 --attack inverse \
      --set data.attacker_train=1000 --set data.eval=200 --threshold 1 --export "$work/plan_parts" \
      -o "$work/plan.json" > /dev/null 2> "$work/$case.assess.err" || { cat "$work/$case.assess.err" >&2; fail "assess"; }
    expect 0 "" -- run "$work/plan.json" --data $data --requests 50 -o "$work/timed.json" --gramine "$work/gramine"
    [[ $(json "$work/timed.json" "all(p['estimated_ms'] is not None for p in d['parts'])") == True ]] ||
      fail "no cost-model estimate beside a part"
    [[ $(json "$work/timed.json" "d['end_to_end']['estimated_ms'] is not None and d['enclave_memory']['budget_bytes'] > 0") == True ]] ||
      fail "no end-to-end estimate or no enclave budget"
    "$pp" -q --threads 1 assess "$models/fmnist_cnn.pt" --data builtin:fashion-mnist --cuts pool2 --attack inverse \
      --set data.attacker_train=1000 --set data.eval=200 --threshold 1 --timings "$work/timed.json" \
      -o "$work/retimed.json" > /dev/null 2> "$work/$case.assess.err" || { cat "$work/$case.assess.err" >&2; fail "assess --timings"; }
    python3 - "$work/timed.json" "$work/retimed.json" <<'PY' || fail "assess --timings did not take the measured times"
import json, sys
run, plan = (json.load(open(p)) for p in sys.argv[1:3])
cut = next(c for c in plan["cuts"] if c["id"] == plan["decision"]["cut_ids"][0])
cost = cut["cost"]
front = next(p for p in run["parts"] if p["role"] == "enclave")["measured"]["p50_ms"] / 1e3
tee = plan["config"]["cost"]["tee_slowdown"]
assert cost["from_runtime"] is True, cost
assert abs(cost["enclave_seconds"] - tee * front) <= 1e-9 + 1e-6 * tee * front, (cost["enclave_seconds"], tee * front)
assert plan["config"]["cost"]["timings"].endswith("timed.json")
PY
    # --gramine: every enclave part a trusted file with the plan's hash, no insecure option
    manifest=$work/gramine/partplan-enclave.manifest.template
    [[ -f $manifest && -f $work/gramine/README.md ]] || fail "the Gramine template or its README is missing"
    front_sha=$(json "$work/plan.json" "[p['sha256'] for p in d['partitions'] if p['name'] == 'front'][0]")
    grep -q "sha256 = \"$front_sha\"" "$manifest" || fail "the front is not a trusted file with its hash"
    grep -q "sgx.max_threads = [4-9]" "$manifest" || fail "fewer than 4 threads"
    ! grep -q "insecure__" "$manifest" || fail "an insecure__ option" ;;
  bad_concurrency)
    expect 2 "concurrency" -- run "$work/bin/partition.json" --data $data --concurrency 0 ;;
  *) fail "unknown case" ;;
esac
echo "ok [$case]"
