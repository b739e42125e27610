#!/usr/bin/env bash
# The built-in demo: synthesise an English corpus with Debian's TTS engines, train a small
# LSTM-CTC model on the CPU, report test WER/CER on voices never heard in training, and
# transcribe a sample file. No download. Stages are safe to re-run.
#   bash recipes/synth/run.sh [--stage N] [--stop-stage N] [--out-dir DIR] [--exp-dir DIR] [--seed N] [--streaming] [--letters]
# --streaming trains the unidirectional model of conf/stream.yaml (in exp/synth_stream) and
# ends by streaming the sample file through it (asr stream) after transcribing it.
# The model learns phones (train.units: phone in conf/train.yaml) and speaks words; --letters
# trains the letter model instead (exp dir exp/synth_letters or exp/synth_stream_letters).
set -euo pipefail
cd "$(dirname "$0")/../.."
out_dir=data/synth; exp_dir=; stage=0; stop_stage=3; seed=; streaming=false; letters=false
. recipes/parse_options.sh
here=recipes/synth
configs="--config $here/conf/train.yaml"
if $streaming; then configs="$configs --config $here/conf/stream.yaml"; fi
if $letters; then configs="$configs --units char"; fi
suffix=$($letters && echo _letters || true)
if [ -z "$exp_dir" ]; then if $streaming; then exp_dir=exp/synth_stream$suffix; else exp_dir=exp/synth$suffix; fi; fi

if [ "$stage" -le 0 ] && [ "$stop_stage" -ge 0 ]; then
  echo "== stage 0: synthesise the corpus (espeak-ng, flite, festival)"
  # --voice-set basic: the 100 training voices the README's results were measured with (the
  # extended set and --extra-train 3500, trained for the same 14 minutes, did worse: README);
  # --rms-in-training: flite's rms, of the same family as the test voice slt, trains (README).
  $python $here/prepare.py --out-dir "$out_dir" --voice-set basic --rms-in-training
fi
if [ "$stage" -le 1 ] && [ "$stop_stage" -ge 1 ]; then
  echo "== stage 1: train (about 12 minutes on 2 CPU cores for the streaming model, 15 for the bidirectional one)"
  if [ -f "$exp_dir/last.pt" ]; then resume=--resume; else resume=; fi
  asr train $configs --train "$out_dir/train.jsonl" --dev "$out_dir/dev.jsonl" --exp-dir "$exp_dir" $resume ${seed:+--seed "$seed"}
fi
if [ "$stage" -le 2 ] && [ "$stop_stage" -ge 2 ]; then
  echo "== stage 2: evaluate on the test voices: greedy, then beam search with a word 3-gram of the training text, then with its lexicon too"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-greedy.tsv"
  $python -c "import json,sys; [print(json.loads(l)['text']) for l in open(sys.argv[1])]" "$out_dir/train.jsonl" > "$exp_dir/lm-text.txt"
  asr lm build "$exp_dir/lm-text.txt" --order 3 -o "$exp_dir/lm.arpa"
  # Choose the LM weight and word bonus on dev (conf/decode.yaml's beam), then score test once with them.
  asr tune-lm "$exp_dir/best.pt" "$out_dir/dev.jsonl" --config $here/conf/decode.yaml --lm "$exp_dir/lm.arpa" \
    -o "$exp_dir/decode-lm.yaml" | tee "$exp_dir/tune-lm.txt"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-lm.tsv" --config "$exp_dir/decode-lm.yaml"
  echo "== stage 2: the same with the lexicon of the training words (the search may output no other word)"
  tr ' ' '\n' < "$exp_dir/lm-text.txt" | sed '/^$/d' | sort -u > "$exp_dir/lexicon.txt"
  asr tune-lm "$exp_dir/best.pt" "$out_dir/dev.jsonl" --config $here/conf/decode.yaml --lm "$exp_dir/lm.arpa" \
    --lexicon "$exp_dir/lexicon.txt" -o "$exp_dir/decode-lm-lexicon.yaml" | tee "$exp_dir/tune-lm-lexicon.txt"
  asr eval "$exp_dir/best.pt" "$out_dir/test.jsonl" --details "$exp_dir/eval-test-lm-lexicon.tsv" --config "$exp_dir/decode-lm-lexicon.yaml"
fi
if [ "$stage" -le 3 ] && [ "$stop_stage" -ge 3 ]; then
  sample=$($python -c "import json,sys; r=json.loads(open(sys.argv[1]).readline()); print(r['audio'], '|', r['text'], '|', r['speaker'])" "$out_dir/test.jsonl")
  file="$out_dir/${sample%% |*}"
  echo "== stage 3: transcribe a test file ($(echo "$sample" | cut -d'|' -f3 | xargs))"
  echo "reference:  $(echo "$sample" | cut -d'|' -f2 | xargs)"
  # With stage 2's best decoding (beam search, 3-gram, lexicon, weights chosen on dev) when it ran.
  decode=; [ -f "$exp_dir/decode-lm-lexicon.yaml" ] && decode="--config $exp_dir/decode-lm-lexicon.yaml"
  asr transcribe "$exp_dir/best.pt" "$file" --json $decode
  if $streaming; then
    echo "== stage 3: the same file as a stream, 160 ms chunks at the pace of real time"
    asr stream "$exp_dir/best.pt" "$file" --realtime $decode
  fi
fi
