#!/usr/bin/env bash
# One call on a lent GPU: time the network's passes, benchmark the shipped `fast` models on the GPU, continue
# training the shipped `fast` models there, and train the `paper` profile (T1) for a short while to record
# its speed and memory. The device's python3 has torch with CUDA but not monai, nibabel, SimpleITK or
# nilearn's template, so they travel packed in .devsite/site.tar.xz (ignored by git); here, once:
#   bash scripts/make_device_site.sh
# then, with the device tool:
#   run(command="bash scripts/device_train.sh 6 0", carry=[".devsite"], timeout_s=590)
# FAST and PAPER are minutes of training per fast model and for the paper model (0 skips a stage); a drawn
# task has 15 device minutes in all, the machine's start included. Environment:
#   SEQUENCES      fast models to continue (default "flair t1")
#   PASS_PROFILES  profiles whose inference pass is timed (default "fast,paper"; empty: none)
#   BENCHMARKS     "SEQUENCE:SCHEDULES ..." to benchmark on the device beside the training, e.g.
#                  "flair:spec+rise t1:coarse-fine" (the shipped defaults; default: none), each stopped after
#                  BENCH_MINUTES (default 7.5); the same 40 cases as `itermask3d benchmark --seed 0` here,
#                  run by BENCH_SHARDS processes at once (default 1; scripts/device_benchmark.sh)
# Each stage ends in its own archive under $OUT, so a stage that fails or a call cut short still returns the
# stages before it. Back here: fold a returned run into a copy of the shipped weights
# (scripts/merge_continued_training.py), then `itermask3d calibrate` and `itermask3d benchmark --model` it
# before shipping (ml/README.md).
# Locally, PYTHON=.venv/bin/python DEVICE=cpu WORKERS=1 PASS_PROFILES=fast bash scripts/device_train.sh 0.2 0
# checks the script end to end (PAPER 0 skips the paper stage, whose float32 training outgrows 24 GiB of memory).
set -uo pipefail
fast_minutes=${1:-3}
paper_minutes=${2:-1.25}
device=${DEVICE:-cuda}
workers=${WORKERS:-14}
out=${OUT:-$(mktemp -d)}
work=$(mktemp -d)
if [ -f .devsite/site.tar.xz ]; then
  python3 -c "import tarfile; tarfile.open('.devsite/site.tar.xz').extractall('/tmp/site')"
  export PYTHONPATH=/tmp/site:$PWD/ml${PYTHONPATH:+:$PYTHONPATH}
fi
python=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
if command -v nvidia-smi >/dev/null && [ "$device" = cuda ]; then
  # GPU memory and load every 5 s through the whole call: the training's peak memory is read from it
  nvidia-smi --query-gpu=timestamp,memory.used,utilization.gpu --format=csv,noheader -l 5 >"$out/gpu.csv" &
  trap "kill $! 2>/dev/null" EXIT
fi
if [ -n "${PASS_PROFILES-fast,paper}" ]; then
  "$python" scripts/time_network_passes.py --device "$device" --profiles "${PASS_PROFILES-fast,paper}" \
    --repeats 10 --out "$out/passes.json" || echo "passes: failed"
fi

# train_stage NAME PROFILE SEQUENCE MINUTES BATCH POOL [--init WEIGHTS]: train, then archive weights,
# metadata, loss log and the output's last lines as $out/NAME.tar.
train_stage() {
  local name=$1 profile=$2 sequence=$3 minutes=$4 batch=$5 pool=$6
  shift 6
  # the time limit bounds a stage that hangs (data workers, say) at its budget plus two minutes
  timeout "$(awk "BEGIN{print int($minutes*60)+120}")" \
    "$python" -m itermask3d train --profile "$profile" --sequence "$sequence" --device "$device" --no-resume \
    --out "$work/$name.pt" --steps 1000000 --batch "$batch" --lr 3e-4 --max-minutes "$minutes" \
    --workers "$workers" --pool-size "$pool" --whole-grid --seed 31 "$@" 2>&1 \
    | tr '\r' '\n' | grep -v '^train' >"$work/${name}_output.txt"
  echo "$name: exit ${PIPESTATUS[0]}" >>"$work/${name}_output.txt"
  tail -4 "$work/${name}_output.txt"
  local kept="$name.json ${name}_loss.csv ${name}_output.txt"
  # a call returns files of at most 16 MiB: the paper model's 36 MB of weights stay behind, its log comes back
  if [ -f "$work/$name.pt" ] && [ "$(stat -c %s "$work/$name.pt")" -lt $((15 * 1024 * 1024)) ]; then
    kept="$name.pt $kept"
  fi
  (cd "$work" && tar -cf "$out/$name.tar" $(ls $kept 2>/dev/null))
}

# bench_start SEQUENCE SCHEDULES: the 40-case benchmark (seed 0) in the background, in BENCH_SHARDS processes
# (default 1) that each take their share of the CPU (scripts/device_benchmark.sh)
bench_pids=()
bench_start() {
  timeout "$(awk "BEGIN{print int(${BENCH_MINUTES:-7.5}*60)}")" \
    env PYTHON="$python" DEVICE="$device" bash scripts/device_benchmark.sh "$1" "$2" "${BENCH_SHARDS:-1}" "$work/bench_$1" &
  bench_pids+=($!)
}
for bench in ${BENCHMARKS:-}; do
  bench_start "${bench%%:*}" "${bench#*:}"
done

for sequence in ${SEQUENCES:-flair t1}; do
  awk "BEGIN{exit !($fast_minutes > 0)}" || break
  train_stage "fast_$sequence" fast "$sequence" "$fast_minutes" 8 $((8 * workers)) \
    --init "ml/itermask3d/weights/fast_$sequence.pt"
done
# 1 mm volumes take about 7 s each to generate on one core: a small pool lets the first steps start soon.
# From scratch, so the spec's learning rate (the last --lr wins).
if awk "BEGIN{exit !($paper_minutes > 0)}"; then
  train_stage paper_t1 paper t1 "$paper_minutes" 2 $((2 * workers)) --lr 1e-3
fi
for pid in "${bench_pids[@]}"; do
  wait "$pid"
done
# per benchmark: the report and its json when it finished, each case's result and evaluation, and the output
for bench in ${BENCHMARKS:-}; do
  b=bench_${bench%%:*}
  (cd "$work" && tar -cf "$out/$b.tar" $(ls -d $b/{report.md,benchmark.json,*.txt} $b/results/*/*/*.json 2>/dev/null))
done
ls -la "$out"
