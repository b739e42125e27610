#!/usr/bin/env bash
# FSDD recipe: prepare -> synthesise TTS digits -> train -> evaluate. Stages are safe to re-run.
#   bash recipes/fsdd/run.sh [--data-dir DIR] [--stage N] [--stop-stage N] [--exp-dir DIR]
#                            [--no-tts] [--tts-per-digit N] [--tts-voice-set basic|extended] [--an4-dir DIR]
#                            [--seed N] [--streaming] [--init-from CKPT]
# DIR holds recordings/ (default: download from GitHub into download/fsdd).
# Four training speakers are too few to generalise, so stage 1 has Debian's TTS engines
# (espeak-ng, flite, festival: apt-get install espeak-ng flite festival festvox-kallpc16k sox)
# read each digit N times with the synthetic corpus' training voices at 8 kHz, and training
# uses train_tts.jsonl = FSDD train + those digits. --no-tts trains on FSDD alone.
# --tts-voice-set extended reads them with about 600 espeak-ng voice variants instead of the
# 100 basic voices (into data/fsdd_ext, exp dir with an _ext suffix; README: 6.20 and 11.20 % for two
# seeds against 8.00 and 6.80 % with the basic voices, so no measurable gain).
# --an4-dir DIR (an an4_sphere folder, see recipes/an4) also trains on AN4's training
# sentences, 70 more real speakers with about 1,700 spoken digits among their words, low-passed
# to FSDD's 8 kHz (train_an4.jsonl; exp dir with an _an4 suffix).
# --init-from CKPT fine-tunes the general English model (recipes/english: exp/english/best.pt)
# on the digits with conf/finetune_english.yaml, which repeats that model's feature and model
# settings (a model with other settings is refused, naming them); exp dir with an _ft suffix.
# Dev and test are always the real held-out speakers (nicolas, theo). --streaming trains the
# unidirectional model of conf/stream.yaml (exp dir with a _stream suffix) and also scores it as a stream.
set -euo pipefail
cd "$(dirname "$0")/../.."
data_dir=download/fsdd; out_dir=data/fsdd; exp_dir=; stage=0; stop_stage=3; seed=
tts=true; tts_per_digit=150; tts_voice_set=basic; streaming=false; an4_dir=; init_from=
. recipes/parse_options.sh
here=recipes/fsdd
# The synthesiser refuses to mix voice sets in one folder, so the extended set has its own.
if [ "$tts_voice_set" != basic ] && [ "$out_dir" = data/fsdd ]; then out_dir=data/fsdd_$(echo "$tts_voice_set" | cut -c1-3); fi
if $tts; then train=$out_dir/train_tts.jsonl; else train=$out_dir/train.jsonl; fi
if [ -n "$an4_dir" ]; then train=$out_dir/train_an4.jsonl; fi
if [ -z "$exp_dir" ]; then
  if $tts; then exp_dir=exp/fsdd_tts; else exp_dir=exp/fsdd; fi
  if [ -n "$an4_dir" ]; then exp_dir=${exp_dir}_an4; fi
  if [ "$tts_voice_set" != basic ]; then exp_dir=${exp_dir}_$(echo "$tts_voice_set" | cut -c1-3); fi
  if $streaming; then exp_dir=${exp_dir}_stream; fi
  if [ -n "$init_from" ]; then exp_dir=${exp_dir}_ft; fi
fi
configs="--config $here/conf/train.yaml"
if [ -n "$an4_dir" ]; then configs="$configs --config $here/conf/an4.yaml"; fi
if $streaming; then configs="$configs --config $here/conf/stream.yaml"; fi
if [ -n "$init_from" ]; then
  if $streaming; then echo "run.sh: --init-from fine-tunes the English model, which streams already; drop --streaming" >&2; exit 2; fi
  [ -f "$init_from" ] || { echo "run.sh: --init-from $init_from: no such checkpoint (train it with recipes/english/run.sh)" >&2; exit 2; }
  configs="--config $here/conf/finetune_english.yaml --init-from $init_from"
fi

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "== stage 0: prepare manifests"
  $python $here/prepare.py --data-dir "$data_dir" --out-dir "$out_dir"
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ] && $tts; then
  echo "== stage 1: synthesise each digit $tts_per_digit times (training voices, 8 kHz)"
  $python $here/prepare.py --data-dir "$data_dir" --out-dir "$out_dir" --tts-per-digit "$tts_per_digit" --tts-voice-set "$tts_voice_set"
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ] && [ -n "$an4_dir" ]; then
  echo "== stage 1: AN4's training sentences at 8 kHz -> $train"
  $python recipes/an4/prepare.py --data-dir "$an4_dir" --out-dir data/an4
  $python $here/prepare.py --data-dir "$data_dir" --out-dir "$out_dir" $($tts && echo --tts-per-digit "$tts_per_digit" --tts-voice-set "$tts_voice_set") \
    --an4-manifest data/an4/train.jsonl
fi
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "== stage 2: train on $train"
  if [ -f "$exp_dir/last.pt" ]; then resume=--resume; else resume=; fi
  # One torch thread, as the recipe was timed (2 shared cores); set OMP_NUM_THREADS for more.
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} \
    asr train $configs --train "$train" --dev "$out_dir/dev.jsonl" --exp-dir "$exp_dir" $resume ${seed:+--seed "$seed"}
fi
if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  echo "== stage 3: evaluate on the held-out test speaker (greedy, then beam search with the ten-word lexicon)"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-greedy.tsv"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test.tsv" --config $here/conf/decode.yaml
  if $streaming || [ -n "$init_from" ]; then
    asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-stream.tsv" --config $here/conf/decode.yaml --streaming
  fi
fi
