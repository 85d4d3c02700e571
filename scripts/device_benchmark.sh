#!/usr/bin/env bash
# device_benchmark.sh SEQUENCE SCHEDULES SHARDS WORK [BENCHMARK OPTIONS]: the 40-case benchmark (seed 0, the
# cases `itermask3d benchmark --seed 0` builds anywhere) of the shipped `fast` model on $DEVICE (default cuda),
# split into SHARDS processes that share the machine's cores and GPU (`--shard I/N`; each also evaluates its
# cases), then one last run that finds every case's results and evaluations on disk and writes WORK/report.md.
# Per-case seconds are those of a case run beside the other shards. scripts/device_train.sh calls it
# (BENCHMARKS=...); it runs anywhere, e.g. here:
#   PYTHON=.venv/bin/python DEVICE=cpu bash scripts/device_benchmark.sh t1 coarse-fine 2 /tmp/b --profile tiny --limit 3
set -uo pipefail
sequence=$1 schedules=$2 shards=$3 work=$4
shift 4
extra=("$@")  # more `itermask3d benchmark` options, after (so over) the ones below
python=${PYTHON:-python3}
mkdir -p "$work"
# the CPU's share of each shard: torch's and SimpleITK's threads, and processes rendering its cases
threads=$(( $(nproc) / shards > 0 ? $(nproc) / shards : 1 ))
bench() {
  OMP_NUM_THREADS=$threads ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS=$threads "$python" -m itermask3d benchmark \
    --work "$work" --report "$work/report.md" --sequence "$sequence" --profile fast --device "${DEVICE:-cuda}" \
    --schedules "$schedules" --cases-per-group 2 --seed 0 --build-workers "$threads" "${extra[@]}" "$@"
}
pids=()
for ((i = 0; i < shards; i++)); do
  bench --shard "$i/$shards" >"$work/shard_$i.txt" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do
  wait "$pid" || echo "a shard failed: see $work/shard_*.txt"
done
bench >"$work/output.txt" 2>&1
