#!/usr/bin/env bash
# CMU AN4 recipe: prepare -> [synthesise + pre-train on TTS] -> train -> evaluate (greedy, then a
# word 3-gram of the training transcripts tuned on dev) -> pocketsphinx on the same test set.
# Stages are safe to re-run.
#   bash recipes/an4/run.sh [--data-dir DIR] [--download] [--stage N] [--stop-stage N] [--exp-dir DIR]
#                           [--seed N] [--tts] [--tts-reads N] [--streaming]
# DIR is the an4_sphere folder (etc/, wav/); --download fetches it from CMU first. --tts has
# Debian's TTS engines read the training transcripts N times (stage 1), pre-trains on that
# (conf/pretrain.yaml) and fine-tunes on AN4 from it (conf/finetune.yaml); exp dir exp/an4_tts.
# --streaming trains the unidirectional model of conf/stream.yaml (exp dir with a _stream
# suffix) and also scores it as a stream (160 ms chunks, endpointing on).
set -euo pipefail
cd "$(dirname "$0")/../.."
data_dir=download/an4; out_dir=data/an4; exp_dir=; stage=0; stop_stage=4; seed=; download=false; tts=false; tts_reads=2
streaming=false
. recipes/parse_options.sh
here=recipes/an4
if [ -z "$exp_dir" ]; then
  if $tts; then exp_dir=exp/an4_tts; else exp_dir=exp/an4; fi
  if $streaming; then exp_dir=${exp_dir}_stream; fi
fi
model_config=; if $streaming; then model_config="--config $here/conf/stream.yaml"; fi

train() {  # train EXP_DIR TRAIN_MANIFEST CONFIG... : resumes when EXP_DIR has a checkpoint
  local exp=$1 manifest=$2; shift 2
  if [ -f "$exp/last.pt" ]; then resume=--resume; else resume=; fi
  # One torch thread, as the recipe was timed: on 2 cores it trains this model as fast as two
  # and leaves a core for data loading. Set OMP_NUM_THREADS for more.
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} asr train --config $here/conf/train.yaml $model_config "$@" --train "$manifest" --dev "$out_dir/dev.jsonl" --exp-dir "$exp" \
    $resume ${seed:+--seed "$seed"}
}

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "== stage 0: manifests (4 training speakers held out as dev; the official test set)"
  $python $here/prepare.py --data-dir "$data_dir" --out-dir "$out_dir" $($download && echo --download)
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ] && $tts; then
  echo "== stage 1: TTS: the training transcripts read $tts_reads times by the synthetic corpus' training voices"
  $python $here/prepare.py --data-dir "$data_dir" --out-dir "$out_dir" --tts-reads "$tts_reads"
fi
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  if $tts; then
    echo "== stage 2: pre-train on the TTS speech, then fine-tune on AN4"
    train "${exp_dir}_pretrain" "$out_dir/tts/train.jsonl" --config $here/conf/pretrain.yaml
    train "$exp_dir" "$out_dir/train.jsonl" --config $here/conf/finetune.yaml --init-from "${exp_dir}_pretrain/best.pt"
  else
    echo "== stage 2: train (about 40 minutes on 2 CPU cores)"
    train "$exp_dir" "$out_dir/train.jsonl"
  fi
fi
if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "== stage 3: evaluate on test: greedy, then beam search with a word 3-gram of the training transcripts"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-greedy.tsv" | tee "$exp_dir/eval-test-greedy.txt"
  asr lm build "$out_dir/lm_text.txt" --order 3 -o "$exp_dir/lm.arpa"
  asr tune-lm "$exp_dir/best.pt" "$out_dir/dev.jsonl" --config $here/conf/decode.yaml --lm "$exp_dir/lm.arpa" \
    -o "$exp_dir/decode-lm.yaml" | tee "$exp_dir/tune-lm.txt"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-lm.tsv" --config "$exp_dir/decode-lm.yaml" \
    | tee "$exp_dir/eval-test-lm.txt"
  echo "== stage 3: the same with the lexicon of the training words (the search may output no other word)"
  tr ' ' '\n' < "$out_dir/lm_text.txt" | sed '/^$/d' | sort -u > "$exp_dir/lexicon.txt"
  asr tune-lm "$exp_dir/best.pt" "$out_dir/dev.jsonl" --config $here/conf/decode.yaml --lm "$exp_dir/lm.arpa" \
    --lexicon "$exp_dir/lexicon.txt" -o "$exp_dir/decode-lm-lexicon.yaml" | tee "$exp_dir/tune-lm-lexicon.txt"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-lm-lexicon.tsv" \
    --config "$exp_dir/decode-lm-lexicon.yaml" | tee "$exp_dir/eval-test-lm-lexicon.txt"
  if $streaming; then
    echo "== stage 3: the 3-gram decoder again, the test files streamed in 160 ms chunks"
    asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-stream.tsv" --config "$exp_dir/decode-lm.yaml" \
      --streaming | tee "$exp_dir/eval-test-stream.txt"
  fi
fi
if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  echo "== stage 4: pocketsphinx 5.1.1 (pip install pocketsphinx==5.1.1) on the same test set"
  $python tools/pocketsphinx_eval.py "$out_dir/test.jsonl" --details "$exp_dir/pocketsphinx-test.tsv" | tee "$exp_dir/pocketsphinx-test.txt"
  $python tools/pocketsphinx_eval.py "$out_dir/test.jsonl" --lm "$exp_dir/lm.arpa" | tee "$exp_dir/pocketsphinx-test-our-lm.txt"
fi
