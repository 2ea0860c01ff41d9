#!/usr/bin/env bash
# Reproduce the shipped checkpoint cliport_ros/checkpoints/put-block-in-bowl-cpu.pt on a 2-core CPU:
# 300 oracle demonstrations (train seeds 0, 2, ...), then the `cpu` preset trained by two DDP processes of
# one thread each (gloo), 110 minutes of wall clock, validated on 10 val episodes every 250 steps, and the
# best validation checkpoint stored in fp16. Resumable: run it again after an interruption.
# Frozen weights: CLIP RN50 image stream with random:0 weights (no pretrained CLIP can be had offline),
# sentences from the pretrained all-MiniLM-L6-v2.
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
tools/setup.sh || exit 1
# shellcheck disable=SC1091
. install/setup.bash  # (colcon's scripts are not written for `set -u`)
set -euo pipefail
task=put-block-in-bowl-seen-colors
cliport collect --task "$task" --n 300 --split train --out data
OMP_NUM_THREADS=1 torchrun --standalone --nproc_per_node 2 -m cliport_ros.cli train --task "$task" \
  --data data --demos 300 --preset cpu --clip-weights random:0 --text-encoder minilm \
  --batch-size 4 --lr 2e-4 --channels-last --steps 100000 --max-minutes 110 --save-every 50 \
  --eval-every 250 --eval-episodes 10 --seed 0 --out runs
cliport export-checkpoint "runs/$task-cpu-n300/best.pt" cliport_ros/checkpoints/put-block-in-bowl-cpu.pt
