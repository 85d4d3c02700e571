#!/usr/bin/env bash
# One call on a lent GPU: time the network's passes, continue training the shipped `fast` FLAIR and T1
# models there, and train the `paper` profile (T1) for a short while to record its speed and memory.
# The device's python3 has torch with CUDA but not monai, nibabel or nilearn (the template), so their
# wheels travel in .whl/ (ignored by git). Here, once:
#   python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux2014_x86_64 -d .whl monai==1.6.1 nibabel==5.4.2 nilearn==0.14.1
# then, with the device tool: run(command="bash scripts/device_train.sh 3 1.25", carry=[".whl"], timeout_s=590)
# (minutes of training per fast model, then for the paper model; a drawn task has 15 device minutes in all,
# the machine's start included). Each stage ends in its own archive under $OUT, so a stage that fails or
# a call cut short still returns the stages before it.
# Back here: fold a returned run into a copy of the shipped weights (scripts/merge_continued_training.py), then
# `itermask3d calibrate` and `itermask3d benchmark --model` it before shipping (ml/README.md).
# Locally, PYTHON=.venv/bin/python DEVICE=cpu WORKERS=1 PASS_PROFILES=fast bash scripts/device_train.sh 0.2 0
# checks the script end to end (PAPER 0 skips the paper stage, whose float32 training outgrows 24 GiB of memory).
set -uo pipefail
fast_minutes=${1:-3}
paper_minutes=${2:-1.25}
device=${DEVICE:-cuda}
workers=${WORKERS:-14}
out=${OUT:-$(mktemp -d)}
work=$(mktemp -d)
if compgen -G ".whl/*.whl" >/dev/null; then
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD/ml${PYTHONPATH:+:$PYTHONPATH}
fi
python=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
if command -v nvidia-smi >/dev/null && [ "$device" = cuda ]; then
  # GPU memory and load every 5 s through the whole call: the training's peak memory is read from it
  nvidia-smi --query-gpu=timestamp,memory.used,utilization.gpu --format=csv,noheader -l 5 >"$out/gpu.csv" &
  trap "kill $! 2>/dev/null" EXIT
fi
"$python" scripts/time_network_passes.py --device "$device" --profiles "${PASS_PROFILES:-fast,paper}" \
  --repeats 10 --out "$out/passes.json" || echo "passes: failed"

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

for sequence in flair t1; do
  train_stage "fast_$sequence" fast "$sequence" "$fast_minutes" 8 $((8 * workers)) \
    --init "ml/itermask3d/weights/fast_$sequence.pt"
done
# 1 mm volumes take about 7 s each to generate on one core: a small pool lets the first steps start soon.
# From scratch, so the spec's learning rate (the last --lr wins).
if awk "BEGIN{exit !($paper_minutes > 0)}"; then
  train_stage paper_t1 paper t1 "$paper_minutes" 2 $((2 * workers)) --lr 1e-3
fi
ls -la "$out"
