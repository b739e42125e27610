"""`asr transcribe`, `asr eval` and `asr align`: a model and a decoder over files or a manifest.

The decoder is the checkpoint's `decode` section, over which `--config` YAML and the decode
flags (generated from `DecodeConfig`) apply.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

from asr.audio import SAMPLE_RATE, load
from asr.cli.flags import add_config_flags, add_model_arguments, resolve_config
from asr.config import BAD_AUDIO_POLICIES
from asr.data import BadAudioPolicy, Utterance, load_manifest, read_audio
from asr.decode.types import Hypothesis
from asr.scoring import error_rates, utterance_errors

YAML_SECTIONS = ("decode", "stream")  # what --config may set for a decoding command


def add_parsers(commands) -> None:
    p = commands.add_parser("transcribe", help="transcribe audio files")
    add_model_arguments(p)
    p.add_argument("files", nargs="+", type=Path, help="audio files (WAV, FLAC, OGG, MP3; any rate and channel count)")
    p.add_argument("--json", action="store_true", help="one JSON object per file: scores, word timings, N-best")
    add_config_flags(p, ("decode",))
    p.set_defaults(func=transcribe)

    p = commands.add_parser("eval", help="WER/CER of a model on a manifest")
    add_model_arguments(p)
    p.add_argument("manifest", type=Path, help="JSONL manifest with reference transcripts")
    p.add_argument("--details", type=Path, help="per-utterance TSV, worst first (default: next to the model)")
    p.add_argument(
        "--streaming", action="store_true",
        help="decode each file as a stream (chunks of --chunk-ms, segments ended at pauses) and score the finals' text",
    )  # fmt: skip
    add_bad_audio_argument(p)
    add_config_flags(p, ("decode", "stream"), exclude=("decode.beam.nbest",))
    p.set_defaults(func=evaluate)

    p = commands.add_parser("align", help="PNG of a file's waveform, CTC posteriorgram and decoded words")
    add_model_arguments(p)
    p.add_argument("file", type=Path, help="an audio file")
    p.add_argument("--png", required=True, type=Path, help="output image")
    add_config_flags(p, ("decode",), exclude=("decode.beam.nbest",))
    p.set_defaults(func=align)


def add_bad_audio_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--on-bad-audio", choices=BAD_AUDIO_POLICIES, default="fail", help="what an unreadable file does (default: %(default)s)")


def load_model_and_decoder(args: argparse.Namespace):
    """(Transcriber, the config it decodes with, its decoder) from MODEL, --device, --config and the flags."""
    from asr.transcribe import load_model

    model = load_model(args.model, args.device)
    config = resolve_config(args, model.config, YAML_SECTIONS)
    model.config = config  # offline decoding follows the same stream settings (end padding) as streaming
    return model, config, model.decoder(config.decode)


def transcribe(args: argparse.Namespace) -> int:
    model, config, decoder = load_model_and_decoder(args)
    for path in args.files:
        hyps = model.transcribe_nbest(path, decoder=decoder)
        if args.json:
            record = {"path": str(path), **hypothesis_json(hyps[0])}
            if config.decode.beam.nbest > 1:
                record["nbest"] = [hypothesis_json(h, words=False) for h in hyps]
            print(json.dumps(record), flush=True)
        else:
            print(f"{path}\t{hyps[0].text}", flush=True)
    return 0


def hypothesis_json(hyp: Hypothesis, words: bool = True) -> dict:
    """Scores rounded for reading; -inf (a lexicon that rejects everything) becomes null."""
    record: dict = {"text": hyp.text}
    record.update({name: _rounded(getattr(hyp, name), 4) for name in ("score", "am_score", "lm_score")})
    if words:
        record["words"] = [w.to_json() for w in hyp.words]
    return record


def _rounded(value: float, digits: int) -> float | None:
    return round(value, digits) if math.isfinite(value) else None


def evaluate(args: argparse.Namespace) -> int:
    model, config, decoder = load_model_and_decoder(args)
    recognize = _streaming(model, decoder, config.stream) if args.streaming else lambda x: model.transcribe(x, decoder=decoder).text
    bad_audio = BadAudioPolicy(args.on_bad_audio)
    rows, audio_seconds, started = [], 0.0, time.perf_counter()
    for utt, samples in read_audio(load_manifest(args.manifest), bad_audio):
        audio_seconds += samples.shape[0] / SAMPLE_RATE
        rows.append((utt, recognize(samples)))
    elapsed = time.perf_counter() - started
    rates = error_rates([u.text for u, _ in rows], [h for _, h in rows])
    details = args.details or args.model.with_name(f"eval-{args.manifest.stem}.tsv")
    write_details(details, rows)
    print(f"decoder {config.decode.describe()}")
    if args.streaming:
        print(f"streaming chunk_ms={config.stream.chunk_ms} endpointing={config.stream.endpointing}")
    print(f"utterances {len(rows)}  words {rates.reference_words}")
    print(f"WER {100 * rates.wer:.2f}%  (sub {rates.substitutions}, del {rates.deletions}, ins {rates.insertions})")
    print(f"CER {100 * rates.cer:.2f}%")
    print(f"RTF {elapsed / max(audio_seconds, 1e-9):.4f}  ({elapsed:.1f} s for {audio_seconds:.1f} s of audio)")
    if bad_audio.summary():
        print(bad_audio.summary())
    print(f"details: {details}")
    return 0


def _streaming(model, decoder, stream_config):
    """samples -> the text of a stream's finals, fed `chunk_ms` at a time."""
    from asr.stream import Final, Recognizer

    recognizer = Recognizer(model, decoder, stream_config)
    chunk = SAMPLE_RATE * stream_config.chunk_ms // 1000

    def recognize(samples) -> str:
        stream, events = recognizer.stream(), []
        for start in range(0, samples.shape[0], chunk):
            events += stream.accept(samples[start : start + chunk])
        events += stream.finish()
        return " ".join(e.text for e in events if isinstance(e, Final))

    return recognize


def write_details(path: Path, rows: list[tuple[Utterance, str]]) -> None:
    """Per-utterance TSV (id, errors, reference words, reference, hypothesis), most errors first."""
    scored = [(utterance_errors(utt.text, hyp), utt, hyp) for utt, hyp in rows]
    scored.sort(key=lambda r: (-r[0].word_errors, r[1].id))
    lines = ["id\terrors\tref_words\tref\thyp"]
    lines += [f"{u.id}\t{e.word_errors}\t{e.reference_words}\t{u.text}\t{h}" for e, u, h in scored]
    path.write_text("\n".join(lines) + "\n")


def align(args: argparse.Namespace) -> int:
    from asr.align import plot_alignment, require_matplotlib

    require_matplotlib()
    model, _, decoder = load_model_and_decoder(args)
    samples, _ = load(args.file)
    logprobs = model.logprobs(samples)
    hyp = decoder.decode(logprobs)[0]
    title = f"{args.file.name}: {hyp.text or '(no words decoded)'}"
    plot_alignment(args.png, samples.numpy(), logprobs, model.tokenizer.tokens, hyp, model.frame_shift, title)
    print(f"{args.file}\t{hyp.text}")
    print(f"plot: {args.png}")
    return 0
