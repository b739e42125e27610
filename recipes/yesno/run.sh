#!/usr/bin/env bash
# yes/no recipe: prepare -> train -> evaluate. Stages are safe to re-run.
#   bash recipes/yesno/run.sh [--data-dir DIR] [--stage N] [--stop-stage N] [--out-dir DIR] [--exp-dir DIR] [--seed N]
#                             [--streaming]
# DIR holds waves_yesno/ (default: download from OpenSLR into download/yesno). --streaming trains
# the unidirectional model of conf/stream.yaml (in exp/yesno_stream) and also scores it as a stream.
# Training uses one torch thread (timed that way on 2 shared cores); set OMP_NUM_THREADS for more.
set -euo pipefail
cd "$(dirname "$0")/../.."
data_dir=download/yesno; out_dir=data/yesno; exp_dir=; stage=0; stop_stage=2; seed=; streaming=false
. recipes/parse_options.sh
here=recipes/yesno
configs="--config $here/conf/train.yaml"
if $streaming; then configs="$configs --config $here/conf/stream.yaml"; fi
if [ -z "$exp_dir" ]; then if $streaming; then exp_dir=exp/yesno_stream; else exp_dir=exp/yesno; fi; fi

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "== stage 0: prepare manifests"
  $python $here/prepare.py --data-dir "$data_dir" --out-dir "$out_dir"
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "== stage 1: train"
  if [ -f "$exp_dir/last.pt" ]; then resume=--resume; else resume=; fi
  # The training files plus their crops (prepare.py says why). No dev set in this corpus:
  # select on the whole training files' WER, never on test.
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
    asr train $configs --train "$out_dir/train_crops.jsonl" --dev "$out_dir/train.jsonl" \
      --exp-dir "$exp_dir" $resume ${seed:+--seed "$seed"}
fi
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "== stage 2: evaluate on the 29 test files (greedy, then beam search: conf/decode.yaml)"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-greedy.tsv"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test.tsv" --config $here/conf/decode.yaml
  if $streaming; then
    echo "== stage 2: the same beam search as a stream (160 ms chunks, segments ended at pauses)"
    asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-stream.tsv" --config $here/conf/decode.yaml --streaming
  fi
fi
