#!/usr/bin/env bash
# Submit a sharded assessment to Slurm: an array of N tasks (one shard and one GPU each),
# then a merge job that starts when every shard succeeded.
#
#   scripts/slurm/submit.sh MODEL RUN_DIR N [assess flags...]
#   e.g. scripts/slurm/submit.sh models/resnet50_script.pt /shared/runs/r50 8 --data /shared/photos --config thorough
#
# RUN_DIR must be on a file system every node sees. Environment: PARTPLAN (the binary,
# default build/partplan), SBATCH_EXTRA (e.g. "--partition=gpu --account=me"), GPUS_PER_TASK
# (default 1; 0 for CPU-only clusters), MERGE_FLAGS (e.g. "--report $RUN_DIR/report --fail-above 0.3").
# Prints the two job ids; the merge job's log says where the plan is.
set -euo pipefail
[[ $# -ge 3 ]] || { sed -n 2,12p "$0" >&2; exit 2; }
model=$1 run_dir=$2 n=$3
shift 3
[[ $n =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: N '$n' must be a positive integer" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
export PARTPLAN=${PARTPLAN:-$(pwd)/build/partplan}
mkdir -p "$run_dir/logs"
gpus=${GPUS_PER_TASK:-1}
gres=()
(( gpus > 0 )) && gres=(--gres="gpu:$gpus")
# shellcheck disable=SC2086
array=$(sbatch --parsable ${SBATCH_EXTRA:-} "${gres[@]}" --array="0-$((n - 1))" --job-name=partplan-shard \
  --output="$run_dir/logs/shard-%a.log" "$here/assess_array.sbatch" "$model" "$run_dir" "$@")
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_EXTRA:-} --dependency="afterok:${array%%;*}" --kill-on-invalid-dep=yes --job-name=partplan-merge \
  --output="$run_dir/logs/merge.log" "$here/merge.sbatch" "$run_dir" ${MERGE_FLAGS:-})
echo "shards: job $array (array 0-$((n - 1))); merge: job $merge -> $run_dir/plan.json"
