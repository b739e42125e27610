#!/usr/bin/env bash
# One general English model: prepare every corpus -> pool -> train -> score each corpus's
# held-out speakers (greedy, then one word 3-gram of all the LM text, tuned on the pooled dev
# set) -> pocketsphinx on the same test sets. Stages are safe to re-run.
#   bash recipes/english/run.sh [--an4-dir DIR] [--librispeech-dir DIR] [--ljspeech-dir DIR]
#                               [--fsdd-dir DIR] [--download] [--tts-hours H]
#                               [--stage N] [--stop-stage N] [--exp-dir DIR] [--seed N] [--phones]
# Each DIR is what that corpus's own recipe takes as --data-dir (recipes/<corpus>/README.md);
# on these machines: --an4-dir ../shared/data/an4 --librispeech-dir ../shared/data/librispeech_part
# --ljspeech-dir ../shared/data/ljspeech_part --fsdd-dir ../shared/data/fsdd. --download has
# each corpus's prepare.py fetch what is missing (LJ Speech is 2.6 GB).
# --phones trains on phones instead of letters, 40 epochs (conf/phones.yaml; exp dir exp/english_phones).
set -euo pipefail
cd "$(dirname "$0")/../.."
an4_dir=download/an4; librispeech_dir=download/librispeech; ljspeech_dir=download/LJSpeech-1.1; fsdd_dir=download/fsdd
download=false; tts_hours=1.0; out_dir=data/english; exp_dir=; stage=0; stop_stage=3; seed=; phones=false
. recipes/parse_options.sh
[ -n "$exp_dir" ] || exp_dir=exp/english$($phones && echo _phones || true)
here=recipes/english
tests="an4 librispeech ljspeech fsdd tts"
get=$($download && echo --download || true)

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "== stage 0: each corpus's manifests (its own recipe's split and LM text), the TTS corpus, then the pool"
  $python recipes/an4/prepare.py --data-dir "$an4_dir" --out-dir data/an4 $get
  $python recipes/librispeech/prepare.py --data-dir "$librispeech_dir" --out-dir data/librispeech $get
  $python recipes/ljspeech/prepare.py --data-dir "$ljspeech_dir" --out-dir data/ljspeech $get
  $python recipes/fsdd/prepare.py --data-dir "$fsdd_dir" --out-dir data/fsdd
  $python recipes/synth/prepare.py --out-dir data/synth --voice-set basic --rms-in-training
  $python $here/prepare.py --out-dir "$out_dir" --corpus an4=data/an4 --corpus librispeech=data/librispeech \
    --corpus ljspeech=data/ljspeech --corpus fsdd=data/fsdd --tts data/synth --tts-hours "$tts_hours" ${seed:+--seed "$seed"}
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "== stage 1: train"
  if [ -f "$exp_dir/last.pt" ]; then resume=--resume; else resume=; fi
  # One torch thread, as the recipe was timed; set OMP_NUM_THREADS for more.
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} asr train --config $here/conf/train.yaml --train "$out_dir/train.jsonl" \
    --dev "$out_dir/dev.jsonl" --exp-dir "$exp_dir" $resume ${seed:+--seed "$seed"} $($phones && echo --config $here/conf/phones.yaml || true)
fi
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "== stage 2: score each corpus's test set: greedy, then beam search with one 3-gram of all the LM text"
  asr lm build "$out_dir/lm_text.txt" --order 3 -o "$exp_dir/lm.arpa"
  asr tune-lm "$exp_dir/best.pt" "$out_dir/dev.jsonl" --config $here/conf/decode.yaml --lm "$exp_dir/lm.arpa" \
    -o "$exp_dir/decode-lm.yaml" | tee "$exp_dir/tune-lm.txt"
  for t in $tests; do
    asr eval "$exp_dir/best.pt" "$out_dir/test_$t.jsonl" --details "$exp_dir/eval-$t-greedy.tsv" | tee "$exp_dir/eval-$t-greedy.txt"
    asr eval "$exp_dir/best.pt" "$out_dir/test_$t.jsonl" --config "$exp_dir/decode-lm.yaml" \
      --details "$exp_dir/eval-$t-lm.tsv" | tee "$exp_dir/eval-$t-lm.txt"
  done
  echo "== stage 2: AN4's test set again, as a live stream (160 ms chunks, endpointing): what asr live would say"
  asr eval "$exp_dir/best.pt" "$out_dir/test_an4.jsonl" --config "$exp_dir/decode-lm.yaml" --streaming | tee "$exp_dir/eval-an4-lm-streamed.txt"
fi
if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "== stage 3: pocketsphinx 5.1.1 (pip install pocketsphinx==5.1.1), its own en-us model and 3-gram, on the same test sets"
  for t in $tests; do
    $python tools/pocketsphinx_eval.py "$out_dir/test_$t.jsonl" --details "$exp_dir/pocketsphinx-$t.tsv" | tee "$exp_dir/pocketsphinx-$t.txt"
  done
fi
