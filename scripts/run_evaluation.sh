#!/usr/bin/env bash
# The whole evaluation protocol in one command: build the data, train every variant under one
# budget, evaluate them on held-out persons, write the report.
#
#   scripts/run_evaluation.sh                          # defaults below
#   STEPS=3000 HOURS=3 scripts/run_evaluation.sh       # a bigger budget
#   SHIPPED=src/talkstyle/assets/model scripts/run_evaluation.sh   # also score the shipped model
#
# Every step is resumable: run it again after an interruption and it continues.
# The training data is built with seed 0 and the default person pool, so its TEST persons are
# the shipped model's test persons too; the style evaluator's data uses seed 1 (other persons).
set -euo pipefail
cd "$(dirname "$0")/.."

OUT=${OUT:-runs/eval}
HOURS=${HOURS:-0.4}                 # training data (80 % train, 10 % val, 10 % test persons)
EVAL_HOURS=${EVAL_HOURS:-0.2}       # style evaluator data, another seed
STEPS=${STEPS:-200}                 # training steps, the same for every variant
BATCH=${BATCH:-8}                   # window pairs per step
SIZE=${SIZE:-small}                 # size of every variant but `base`
ENCODER=${ENCODER:-whisper}
THREADS=${THREADS:-1}
WORKERS=${WORKERS:-1}
MAX_CLIPS=${MAX_CLIPS:-40}
SAMPLE_STEPS=${SAMPLE_STEPS:-10}
EVALUATOR_STEPS=${EVALUATOR_STEPS:-1500}
VARIANTS=${VARIANTS:-"talkstyle unconditioned diffposetalk vae regression no_basis no_cross base"}
TS=${TALKSTYLE:-.venv/bin/talkstyle}

$TS data build --hours "$HOURS" --seed 0 --workers "$WORKERS" --out "$OUT/data"
$TS data build --hours "$EVAL_HOURS" --seed 1 --workers "$WORKERS" --out "$OUT/eval_data"

checkpoints=""
for v in $VARIANTS; do
    $TS train-variant "$v" --data "$OUT/data" -o "$OUT/runs/$v" --steps "$STEPS" --batch-size "$BATCH" \
        --size "$SIZE" --audio-encoder "$ENCODER" --threads "$THREADS"
    checkpoints="$checkpoints${checkpoints:+,}$v=$OUT/runs/$v"
done
if [ -n "${SHIPPED:-}" ]; then
    checkpoints="$checkpoints,shipped=$SHIPPED"
fi

$TS evaluate --data "$OUT/data" --eval-data "$OUT/eval_data" -c "$checkpoints" -o "$OUT/report" \
    --max-clips "$MAX_CLIPS" --steps "$SAMPLE_STEPS" --evaluator-steps "$EVALUATOR_STEPS" \
    --note "budget: every variant $STEPS steps x batch $BATCH window pairs on $HOURS h (seed 0), $THREADS CPU thread(s); code $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "report: $OUT/report/report.md"
