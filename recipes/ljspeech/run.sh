#!/usr/bin/env bash
# LJ Speech recipe: prepare -> [synthesise + pre-train on TTS] -> train -> evaluate (greedy, then
# a word 3-gram of the text-only lines tuned on dev) -> pocketsphinx on the same test split.
# Stages are safe to re-run.
#   bash recipes/ljspeech/run.sh [--data-dir DIR] [--download] [--stage N] [--stop-stage N]
#                                [--exp-dir DIR] [--seed N] [--tts]
#                                [--an4-dir DIR] [--librispeech-dir DIR] [--init-from CKPT] [--phones]
# DIR is the LJSpeech-1.1 folder (metadata.csv, wavs/); --download fetches it first (2.6 GB).
# --tts has Debian's TTS engines read 3,000 text-only lines (stage 1), pre-trains on that
# (conf/pretrain.yaml) and fine-tunes on the recordings from it (conf/finetune.yaml); exp dir
# exp/ljspeech_tts.
# --an4-dir and/or --librispeech-dir (what those recipes take as --data-dir) pre-train on the
# training speakers of those corpora plus LJ Speech's training clips (conf/pretrain_real.yaml;
# their own recipes' splits, so no LibriSpeech test speaker is heard) and fine-tune on the
# recordings from it (conf/finetune_real.yaml); exp dir exp/ljspeech_real. Not with --tts.
# --init-from CKPT fine-tunes the general English model (recipes/english: exp/english/best.pt,
# trained on LJ Speech's training clips among others, never its dev or test ones) on the
# recordings (conf/finetune_english.yaml: the English model's streaming shape); exp dir
# exp/ljspeech_ft. Not with --tts or --an4-dir/--librispeech-dir.
# --phones trains on phones instead of letters (train.units: phone, asr/phonetic.py: the model
# speaks words all the same): from scratch (exp dir exp/ljspeech_phones), or with --init-from a
# phone model (recipes/english/run.sh --phones: exp/english_phones/best.pt; exp dir
# exp/ljspeech_ft_phones). Not with --tts or --an4-dir/--librispeech-dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
data_dir=download/LJSpeech-1.1; out_dir=data/ljspeech; exp_dir=; stage=0; stop_stage=4; seed=; download=false; tts=false
an4_dir=; librispeech_dir=; init_from=; phones=false
. recipes/parse_options.sh
. recipes/pool_speakers.sh
here=recipes/ljspeech
real=$([ -n "$an4_dir$librispeech_dir" ] && echo true || echo false)
if [ -z "$exp_dir" ]; then
  if [ -n "$init_from" ]; then exp_dir=exp/ljspeech_ft$($phones && echo _phones || true)
  elif $phones; then exp_dir=exp/ljspeech_phones
  elif $real; then exp_dir=exp/ljspeech_real; elif $tts; then exp_dir=exp/ljspeech_tts; else exp_dir=exp/ljspeech; fi
fi
get=$($download && echo --download || true)
if $real && $tts; then echo "$0: --tts pre-trains on TTS speech, --an4-dir/--librispeech-dir on real speech: choose one" >&2; exit 2; fi
if $phones && { $real || $tts; }; then
  echo "$0: --phones trains from scratch or from --init-from: drop --tts and --an4-dir/--librispeech-dir" >&2; exit 2
fi
if [ -n "$init_from" ]; then
  if $real || $tts; then echo "$0: --init-from starts from a trained model: drop --tts and --an4-dir/--librispeech-dir" >&2; exit 2; fi
  [ -f "$init_from" ] || { echo "$0: --init-from $init_from: no such checkpoint (train it with recipes/english/run.sh)" >&2; exit 2; }
fi

train() {  # train EXP_DIR TRAIN_MANIFEST CONFIG... : resumes when EXP_DIR has a checkpoint
  local exp=$1 manifest=$2; shift 2
  if [ -f "$exp/last.pt" ]; then resume=--resume; else resume=; fi
  # One torch thread, as the recipe was timed; set OMP_NUM_THREADS for more.
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} asr train --config $here/conf/train.yaml "$@" --train "$manifest" --dev "$out_dir/dev.jsonl" \
    --exp-dir "$exp" $resume ${seed:+--seed "$seed"}
}

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "== stage 0: manifests (by position: the last 60 utterances with audio are test, the 25 before them dev), LM and TTS text"
  $python $here/prepare.py --data-dir "$data_dir" --out-dir "$out_dir" $get
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ] && $tts; then
  echo "== stage 1: TTS: 3,000 text-only lines read by the synthetic corpus' training voices"
  $python $here/prepare.py --data-dir "$data_dir" --out-dir "$out_dir" --tts
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ] && $real; then
  echo "== stage 1: the other corpora's training speakers (their own recipes' splits), pooled with LJ Speech's training clips"
  pool_speakers "$out_dir" ljspeech "$out_dir" an4 "$an4_dir" librispeech "$librispeech_dir"
fi
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  if [ -n "$init_from" ]; then
    echo "== stage 2: fine-tune $init_from on the recordings"
    train "$exp_dir" "$out_dir/train.jsonl" --config $here/conf/finetune_english.yaml --init-from "$init_from" \
      $($phones && echo --units phone || true)
  elif $real; then
    echo "== stage 2: pre-train on the pooled real speech, then fine-tune on the LJ Speech recordings"
    train "${exp_dir}_pretrain" "$out_dir/pretrain_real/train.jsonl" --config $here/conf/pretrain_real.yaml
    train "$exp_dir" "$out_dir/train.jsonl" --config $here/conf/finetune_real.yaml --init-from "${exp_dir}_pretrain/best.pt"
  elif $tts; then
    echo "== stage 2: pre-train on the TTS speech, then fine-tune on the recordings"
    train "${exp_dir}_pretrain" "$out_dir/tts/train.jsonl" --config $here/conf/pretrain.yaml
    train "$exp_dir" "$out_dir/train.jsonl" --config $here/conf/finetune.yaml --init-from "${exp_dir}_pretrain/best.pt"
  elif $phones; then
    echo "== stage 2: train on the recordings alone, phones as the model's units"
    train "$exp_dir" "$out_dir/train.jsonl" --units phone
  else
    echo "== stage 2: train on the recordings alone"
    train "$exp_dir" "$out_dir/train.jsonl"
  fi
fi
if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "== stage 3: evaluate on test: greedy, then beam search with a word 3-gram of lm_text.txt"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-greedy.tsv" | tee "$exp_dir/eval-test-greedy.txt"
  asr lm build "$out_dir/lm_text.txt" --order 3 -o "$exp_dir/lm.arpa"
  asr tune-lm "$exp_dir/best.pt" "$out_dir/dev.jsonl" --config $here/conf/decode.yaml --lm "$exp_dir/lm.arpa" \
    -o "$exp_dir/decode-lm.yaml" | tee "$exp_dir/tune-lm.txt"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-lm.tsv" --config "$exp_dir/decode-lm.yaml" \
    | tee "$exp_dir/eval-test-lm.txt"
  echo "== stage 3: the same with the lexicon of lm_text.txt's words (the search may output no other word)"
  tr ' ' '\n' < "$out_dir/lm_text.txt" | sed '/^$/d' | sort -u > "$exp_dir/lexicon.txt"
  asr tune-lm "$exp_dir/best.pt" "$out_dir/dev.jsonl" --config $here/conf/decode.yaml --lm "$exp_dir/lm.arpa" \
    --lexicon "$exp_dir/lexicon.txt" -o "$exp_dir/decode-lm-lexicon.yaml" | tee "$exp_dir/tune-lm-lexicon.txt"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-lm-lexicon.tsv" \
    --config "$exp_dir/decode-lm-lexicon.yaml" | tee "$exp_dir/eval-test-lm-lexicon.txt"
fi
if [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ]; then
  echo "== stage 4: pocketsphinx 5.1.1 (pip install pocketsphinx==5.1.1) on the same test set"
  $python tools/pocketsphinx_eval.py "$out_dir/test.jsonl" --details "$exp_dir/pocketsphinx-test.tsv" | tee "$exp_dir/pocketsphinx-test.txt"
  $python tools/pocketsphinx_eval.py "$out_dir/test.jsonl" --lm "$exp_dir/lm.arpa" | tee "$exp_dir/pocketsphinx-test-our-lm.txt"
fi
