#!/usr/bin/env bash
# A real Slurm run of a sharded assessment: a single-node cluster on localhost (munged,
# slurmctld and slurmd with a minimal slurm.conf, all under WORKDIR, on unused ports),
# scripts/slurm/submit.sh submits the shard array and the dependent merge, and the merged
# plan must equal an unsharded run's in every cut's numbers and in the decision. Every daemon
# it started is stopped by process id on exit.
#   slurm_shards.sh PARTPLAN MAKE_TINY_MODEL WORKDIR [SHARDS]
set -uo pipefail
pp=$(readlink -f "$1") make_model=$2 work=$3 shards=${4:-2}
root=$(cd "$(dirname "$0")/.." && pwd)
fail() {
  echo "FAIL: $*" >&2
  for f in "$work"/run/logs/*.log "$work"/logs/*.out "$work"/state/*.log; do
    [[ -f $f ]] && { echo "== $f"; tail -5 "$f"; } >&2
  done
  exit 1
}
for b in munged mungekey slurmctld slurmd sbatch squeue; do
  command -v "$b" > /dev/null || fail "$b is not installed: run scripts/setup.sh (Debian packages slurm-wlm, munge)"
done
rm -rf "$work" && mkdir -p "$work"/{state,spool,munge,logs}
pids=()
cleanup() {
  [[ -n ${SLURM_CONF:-} ]] && scancel --user="$(id -un)" > /dev/null 2>&1  # jobs first, then the daemons
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null; done
  sleep 1
  for p in "${pids[@]}"; do kill -9 "$p" 2> /dev/null; done
}
trap cleanup EXIT
chmod 700 "$work/munge"
mungekey --create --keyfile="$work/munge/munge.key" > /dev/null 2>&1 || fail "mungekey"
chmod 600 "$work/munge/munge.key"
socket=$work/munge/munge.socket
munged --force --foreground --socket="$socket" --key-file="$work/munge/munge.key" --pid-file="$work/munge/munged.pid" \
  --log-file="$work/munge/munged.log" --seed-file="$work/munge/seed" > /dev/null 2>&1 &
pids+=($!)
host=$(hostname -s)
port=$(( 20000 + RANDOM % 20000 ))
# Two free ports in a row (slurmctld, slurmd).
for _ in $(seq 20); do
  ss -ltn 2> /dev/null | grep -qE ":($port|$((port + 1)))\b" || break
  port=$(( 20000 + RANDOM % 20000 ))
done
cat > "$work/slurm.conf" <<CONF
ClusterName=partplan-test
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
SlurmUser=$(id -un)
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/state/slurmctld.pid
SlurmdPidFile=$work/state/slurmd.pid
SlurmctldLogFile=$work/state/slurmctld.log
SlurmdLogFile=$work/state/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
SlurmdTimeout=30
NodeName=$host CPUs=$(nproc) RealMemory=1000 State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
export SLURM_CONF=$work/slurm.conf
sleep 1
slurmctld -D -f "$SLURM_CONF" > "$work/logs/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" > "$work/logs/slurmd.out" 2>&1 &
pids+=($!)
for _ in $(seq 60); do
  sinfo -h -o %t 2> /dev/null | grep -qE '^(idle|mix|alloc)' && break
  sleep 1
done
sinfo -h -o %t 2> /dev/null | grep -qE '^(idle|mix|alloc)' || fail "the Slurm node did not come up: $(sinfo 2>&1 | tail -2)"

"$make_model" "$work/tiny.pt" mnist > /dev/null || fail "make_tiny_model"
small=(--data builtin:fashion-mnist:test --steps 30 --set data.attacker_train=300 --set data.attacker_val=40
       --set data.eval=60 --set budget.eval_every=15 --set cgan.width=32 --set cgan.disc_width=16
       --set whitebox.images=8 --set whitebox.iterations=30 --cuts all --threads 1 --device cpu)
"$pp" -q assess "$work/tiny.pt" "${small[@]}" -o "$work/unsharded.json" > /dev/null || fail "the unsharded assess"
start=$(date +%s)
out=$(cd "$work" && PARTPLAN=$pp GPUS_PER_TASK=0 SBATCH_EXTRA="--cpus-per-task=1" \
      bash "$root/scripts/slurm/submit.sh" "$work/tiny.pt" "$work/run" "$shards" "${small[@]}") || fail "submit: $out"
echo "$out"
merge_job=$(sed -n 's/.*merge: job \([0-9]*\).*/\1/p' <<< "$out")
[[ -n $merge_job ]] || fail "no merge job id in: $out"
for _ in $(seq 600); do
  [[ -z $(squeue -h 2> /dev/null) ]] && break
  sleep 1
done
[[ -z $(squeue -h) ]] || fail "jobs still queued after 10 minutes: $(squeue)"
echo "slurm: shards and merge took $(( $(date +%s) - start )) s"
[[ -f $work/run/plan.json ]] || fail "the merge job wrote no plan (see $work/run/logs)"
/usr/bin/python3 - "$work/unsharded.json" "$work/run/plan.json" <<'PY' || fail "merged plan differs from the unsharded one"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert len(a["cuts"]) == len(b["cuts"]), "cut count"
for x, y in zip(a["cuts"], b["cuts"]):
    for k in ("id", "measured", "envelope", "verdict"):
        assert x[k] == y[k], (x["name"], k, x[k], y[k])
    assert [s["ssim"] for s in x["attacks"]] == [s["ssim"] for s in y["attacks"]], x["name"]
for k in ("kind", "cut_ids", "leakage"):
    assert a["decision"][k] == b["decision"][k], ("decision", k)
print(f"ok: {len(a['cuts'])} cuts, decision {a['decision']['kind']} equal")
PY
