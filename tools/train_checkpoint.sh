#!/usr/bin/env bash
# Reproduce the shipped checkpoint cliport_ros/checkpoints/put-block-in-bowl-cpu.pt on a 2-core CPU:
# 1000 oracle demonstrations (train seeds 0, 2, ...), then the `cpu` preset trained by two DDP processes of
# one thread each (gloo), 110 minutes of wall clock, validated on 10 val episodes every 250 steps; then the
# best of those validations and the final weights, each stored in fp16, are scored on 50 val episodes and
# the better one (the final weights on a tie) is shipped. Resumable: run it again after an interruption.
# Frozen weights: CLIP RN50 image stream with random:0 weights (no pretrained CLIP can be had offline),
# sentences from the pretrained all-MiniLM-L6-v2.
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
tools/setup.sh || exit 1
# shellcheck disable=SC1091
. install/setup.bash  # (colcon's scripts are not written for `set -u`)
set -euo pipefail
task=put-block-in-bowl-seen-colors
demos=1000
run=runs/$task-cpu-n$demos
cliport collect --task "$task" --n "$demos" --split train --out data
OMP_NUM_THREADS=1 torchrun --standalone --nproc_per_node 2 -m cliport_ros.cli train --task "$task" \
  --data data --demos "$demos" --preset cpu --clip-weights random:0 --text-encoder minilm \
  --batch-size 4 --lr 2e-4 --channels-last --steps 100000 --max-minutes 110 --save-every 50 \
  --eval-every 250 --eval-episodes 10 --seed 0 --out runs
for which in best last; do
  cliport export-checkpoint "$run/$which.pt" "$run/$which-fp16.pt"
  cliport eval --task "$task" --checkpoint "$run/$which-fp16.pt" --split val --episodes 50
done
pick=$(python3 -c "
import json, sys
score = {w: json.load(open(f'$run/{w}-fp16.pt.eval-$task-val.json'))['score'] for w in ('best', 'last')}
print('last' if score['last'] >= score['best'] else 'best')")
cp "$run/$pick-fp16.pt" cliport_ros/checkpoints/put-block-in-bowl-cpu.pt
echo "shipped the $pick weights: cliport_ros/checkpoints/put-block-in-bowl-cpu.pt"
