#!/usr/bin/env bash
# CMU AN4 recipe: prepare -> train -> evaluate (greedy, then a word 3-gram of the training
# transcripts tuned on dev) -> pocketsphinx on the same test set. Stages are safe to re-run.
#   bash recipes/an4/run.sh [--data-dir DIR] [--download] [--stage N] [--stop-stage N] [--exp-dir DIR] [--seed N]
# DIR is the an4_sphere folder (etc/, wav/); --download fetches it from CMU first.
set -euo pipefail
cd "$(dirname "$0")/../.."
data_dir=download/an4; out_dir=data/an4; exp_dir=exp/an4; stage=0; stop_stage=3; seed=; download=false
. recipes/parse_options.sh
here=recipes/an4

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "== stage 0: manifests (4 training speakers held out as dev; the official test set)"
  $python $here/prepare.py --data-dir "$data_dir" --out-dir "$out_dir" $($download && echo --download)
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "== stage 1: train (about an hour on 2 CPU cores)"
  if [ -f "$exp_dir/last.pt" ]; then resume=--resume; else resume=; fi
  asr train --config $here/conf/train.yaml --train "$out_dir/train.jsonl" --dev "$out_dir/dev.jsonl" --exp-dir "$exp_dir" \
    $resume ${seed:+--seed "$seed"}
fi
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "== stage 2: evaluate on test: greedy, then beam search with a word 3-gram of the training transcripts"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-greedy.tsv" | tee "$exp_dir/eval-test-greedy.txt"
  asr lm build "$out_dir/lm_text.txt" --order 3 -o "$exp_dir/lm.arpa"
  asr tune-lm "$exp_dir/best.pt" "$out_dir/dev.jsonl" --config $here/conf/decode.yaml --lm "$exp_dir/lm.arpa" \
    -o "$exp_dir/decode-lm.yaml" | tee "$exp_dir/tune-lm.txt"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-lm.tsv" --config "$exp_dir/decode-lm.yaml" \
    | tee "$exp_dir/eval-test-lm.txt"
fi
if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "== stage 3: pocketsphinx 5.1.1 (its en-us model, dictionary and 3-gram) on the same test set"
  $python tools/pocketsphinx_eval.py "$out_dir/test.jsonl" --details "$exp_dir/pocketsphinx-test.tsv" | tee "$exp_dir/pocketsphinx-test.txt"
fi
