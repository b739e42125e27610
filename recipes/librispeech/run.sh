#!/usr/bin/env bash
# LibriSpeech recipe: prepare -> train -> evaluate (greedy, then a word 3-gram tuned on dev)
# -> pocketsphinx on the same test set. Stages are safe to re-run.
#   bash recipes/librispeech/run.sh [--data-dir DIR] [--download] [--stage N] [--stop-stage N]
#                                   [--exp-dir DIR] [--seed N] [--extra-text FILE]
#                                   [--full] [--size eesen|large] [--tts]
#                                   [--an4-dir DIR] [--ljspeech-dir DIR] [--init-from CKPT]
# DIR holds LibriSpeech/. Default: the train-clean-5 subset split by speaker (test 1970 and
# 2136, dev 4640), conf/train.yaml. --full: the standard split (train on train-clean-100,
# train-clean-360 and train-other-500, select on dev-clean, score test-clean and test-other)
# with conf/<size>.yaml over conf/train.yaml (on several GPUs: README.md's torchrun line).
# --extra-text adds a text file (one sentence per line) to the LM's training text.
# --tts has Debian's TTS engines read 1,000 lines of the LM text, pre-trains on that
# (conf/pretrain.yaml) and fine-tunes on the recordings from it (conf/finetune.yaml); exp dir
# exp/librispeech_tts (exp/librispeech_<size>_tts with --full).
# --an4-dir and/or --ljspeech-dir (what those recipes take as --data-dir) pre-train on the
# training speakers of those corpora plus LibriSpeech's own training speakers
# (conf/pretrain_real.yaml; their own recipes' splits, so no LJ Speech test clip is heard) and
# fine-tune on the LibriSpeech recordings from it (conf/finetune_real.yaml); exp dir
# exp/librispeech_real. Not with --tts.
# --init-from CKPT fine-tunes the general English model (recipes/english: exp/english/best.pt,
# trained on these training speakers among others, never on the dev or test ones) on the
# LibriSpeech recordings (conf/finetune_english.yaml: the English model's streaming shape);
# exp dir exp/librispeech_ft. Not with --tts, --an4-dir/--ljspeech-dir or --full.
set -euo pipefail
cd "$(dirname "$0")/../.."
data_dir=download/librispeech; out_dir=; exp_dir=; stage=0; stop_stage=3; seed=; download=false
full=false; size=eesen; extra_text=; tts=false; an4_dir=; ljspeech_dir=; init_from=
. recipes/parse_options.sh
. recipes/pool_speakers.sh
here=recipes/librispeech
configs="--config $here/conf/train.yaml"
real=$([ -n "$an4_dir$ljspeech_dir" ] && echo true || echo false)
if $real && $tts; then echo "$0: --tts pre-trains on TTS speech, --an4-dir/--ljspeech-dir on real speech: choose one" >&2; exit 2; fi
get=$($download && echo --download || true)
if [ -n "$init_from" ]; then
  if $real || $tts || $full; then echo "$0: --init-from fine-tunes the English model on the Mini LibriSpeech speakers: drop --tts, --an4-dir/--ljspeech-dir and --full" >&2; exit 2; fi
  [ -f "$init_from" ] || { echo "$0: --init-from $init_from: no such checkpoint (train it with recipes/english/run.sh)" >&2; exit 2; }
fi
if [ -n "$init_from" ]; then suffix=_ft; elif $real; then suffix=_real; elif $tts; then suffix=_tts; else suffix=; fi
if $full; then
  split="--train train-clean-100,train-clean-360,train-other-500 --dev dev-clean --test test-clean,test-other --test-speakers= --dev-speakers="
  configs="$configs --config $here/conf/$size.yaml"
  tests="test-clean test-other"
  out_dir=${out_dir:-data/librispeech_full}; exp_dir=${exp_dir:-exp/librispeech_$size$suffix}
else
  split=
  tests=test
  out_dir=${out_dir:-data/librispeech}; exp_dir=${exp_dir:-exp/librispeech$suffix}
fi

train() {  # train EXP_DIR TRAIN_MANIFEST CONFIG... : resumes when EXP_DIR has a checkpoint
  local exp=$1 manifest=$2; shift 2
  if [ -f "$exp/last.pt" ]; then resume=--resume; else resume=; fi
  # One torch thread on the CPU, as the recipe was timed; set OMP_NUM_THREADS for more.
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} asr train $configs "$@" --train "$manifest" --dev "$out_dir/dev.jsonl" \
    --exp-dir "$exp" $resume ${seed:+--seed "$seed"}
}

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "== stage 0: manifests and LM text"
  $python $here/prepare.py --data-dir "$data_dir" --out-dir "$out_dir" $split ${extra_text:+--extra-text "$extra_text"} \
    $get $($tts && echo --tts)
  if $real; then
    echo "== stage 0: the other corpora's training speakers (their own recipes' splits), pooled with LibriSpeech's"
    pool_speakers "$out_dir" librispeech "$out_dir" an4 "$an4_dir" ljspeech "$ljspeech_dir"
  fi
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  if [ -n "$init_from" ]; then
    echo "== stage 1: fine-tune $init_from on the recordings"
    train "$exp_dir" "$out_dir/train.jsonl" --config $here/conf/finetune_english.yaml --init-from "$init_from"
  elif $real; then
    echo "== stage 1: pre-train on the pooled real speech, then fine-tune on the LibriSpeech recordings"
    train "${exp_dir}_pretrain" "$out_dir/pretrain_real/train.jsonl" --config $here/conf/pretrain_real.yaml
    train "$exp_dir" "$out_dir/train.jsonl" --config $here/conf/finetune_real.yaml --init-from "${exp_dir}_pretrain/best.pt"
  elif $tts; then
    echo "== stage 1: pre-train on the TTS speech, then fine-tune on the recordings"
    train "${exp_dir}_pretrain" "$out_dir/tts/train.jsonl" --config $here/conf/pretrain.yaml
    train "$exp_dir" "$out_dir/train.jsonl" --config $here/conf/finetune.yaml --init-from "${exp_dir}_pretrain/best.pt"
  else
    echo "== stage 1: train"
    train "$exp_dir" "$out_dir/train.jsonl"
  fi
fi
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "== stage 2: evaluate: greedy, then beam search with a word 3-gram of lm_text.txt (weights tuned on dev)"
  asr lm build "$out_dir/lm_text.txt" --order 3 -o "$exp_dir/lm.arpa"
  asr tune-lm "$exp_dir/best.pt" "$out_dir/dev.jsonl" --config $here/conf/decode.yaml --lm "$exp_dir/lm.arpa" \
    -o "$exp_dir/decode-lm.yaml" | tee "$exp_dir/tune-lm.txt"
  for t in $tests; do
    asr eval "$exp_dir/best.pt" "$out_dir/$t.jsonl" --details "$exp_dir/eval-$t-greedy.tsv" | tee "$exp_dir/eval-$t-greedy.txt"
    asr eval "$exp_dir/best.pt" "$out_dir/$t.jsonl" --details "$exp_dir/eval-$t-lm.tsv" --config "$exp_dir/decode-lm.yaml" \
      | tee "$exp_dir/eval-$t-lm.txt"
  done
fi
if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "== stage 3: pocketsphinx 5.1.1 (pip install pocketsphinx==5.1.1) on the same test set"
  for t in $tests; do
    $python tools/pocketsphinx_eval.py "$out_dir/$t.jsonl" --details "$exp_dir/pocketsphinx-$t.tsv" | tee "$exp_dir/pocketsphinx-$t.txt"
    $python tools/pocketsphinx_eval.py "$out_dir/$t.jsonl" --lm "$exp_dir/lm.arpa" | tee "$exp_dir/pocketsphinx-$t-our-lm.txt"
  done
fi
