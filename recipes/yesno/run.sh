#!/usr/bin/env bash
# yes/no recipe: prepare -> train -> evaluate. Stages are safe to re-run.
#   bash recipes/yesno/run.sh [--data-dir DIR] [--stage N] [--stop-stage N] [--exp-dir DIR]
# DIR holds waves_yesno/ (default: download from OpenSLR into download/yesno).
set -euo pipefail
cd "$(dirname "$0")/../.."
data_dir=download/yesno; out_dir=data/yesno; exp_dir=exp/yesno; stage=0; stop_stage=2
. recipes/parse_options.sh
here=recipes/yesno

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "== stage 0: prepare manifests"
  python $here/prepare.py --data-dir "$data_dir" --out-dir "$out_dir"
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "== stage 1: train"
  if [ -f "$exp_dir/last.pt" ]; then resume=--resume; else resume=; fi
  # No dev set in this corpus: select on training WER, never on test.
  asr train --config $here/conf/train.yaml --train "$out_dir/train.jsonl" --dev "$out_dir/train.jsonl" --exp-dir "$exp_dir" $resume
fi
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "== stage 2: evaluate on the 29 test files (greedy, then beam search with the two-word lexicon)"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-greedy.tsv"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test.tsv" --lexicon $here/lexicon.txt --beam 8
fi
