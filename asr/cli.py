"""The `asr` command: train, transcribe, eval, tune-lm, align, lm build, import-kaldi.

Training flags are generated from the config dataclasses, so their defaults are the
dataclass defaults; precedence is dataclass < --config YAML < flags. Decoder flags are
generated the same way from `BeamSearchOptions`.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
import logging
import math
import os
import sys
import time
import typing
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from asr.align import PlotUnavailable
from asr.audio import SAMPLE_RATE, AudioError, load
from asr.checkpoint import CheckpointError
from asr.config import ConfigError, ExperimentConfig, load_config
from asr.data import ManifestError, Utterance, from_kaldi_dir, load_manifest, write_manifest
from asr.decode.factory import BEAM, GREEDY, DecoderError, DecoderSpec, GreedyDecoder, build_decoder, parse_hotword
from asr.decode.lm_build import write_arpa
from asr.decode.prefix_beam import BeamSearchOptions
from asr.decode.types import Hypothesis
from asr.scoring import error_rates, utterance_errors
from asr.tokenizer import TokenizerError


class UsageError(ValueError):
    """A command-line value the command cannot use (reported in one line, like the others)."""


USER_ERRORS = (
    AudioError, CheckpointError, ConfigError, DecoderError, ManifestError, PlotUnavailable, TokenizerError, UsageError,
    OSError,  # a missing file, a folder that cannot be written: "[Errno 13] Permission denied: 'x'"
)  # fmt: skip
BEAM_FLAG_ALIASES = {"beam_size": ("--beam",)}
BEAM_FLAG_HELP = {  # what each BeamSearchOptions field does; the default is added from the dataclass
    "beam_size": "hypotheses kept after each frame",
    "token_topk": "tokens tried per frame",
    "token_min_logprob": "tokens below this log-prob are not tried",
    "beam_threshold": "drop hypotheses this far (natural log) below the best",
    "blank_skip_threshold": "frames whose blank probability is above this only extend blanks; 1 = never",
    "alpha": "LM weight (on natural-log LM scores)",
    "beta": "bonus per word (natural log)",
    "unk_offset": "extra score of a word outside the LM vocabulary",
    "nbest": "hypotheses to return (--json prints them)",
}
TUNE_ALPHAS = "0,0.25,0.5,0.75,1,1.5,2"  # tune-lm's default grid: LM weights
TUNE_BETAS = "-1,0,1,2,3"  # word-insertion bonus, natural log
log = logging.getLogger("asr")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    from asr.train import TrainingError

    try:
        return args.func(args) or 0
    except (*USER_ERRORS, TrainingError) as err:
        print(f"asr: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("asr: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="asr", description="LSTM-CTC speech recognition")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train a model on JSONL manifests")
    p.add_argument("--train", required=True, type=Path, help="training manifest (JSONL)")
    p.add_argument("--dev", required=True, type=Path, help="dev manifest (JSONL), scored every epoch")
    p.add_argument("--exp-dir", required=True, type=Path, help="folder for checkpoints and logs")
    p.add_argument("--config", type=Path, help="YAML config over the defaults")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when present)")
    p.add_argument("--resume", action="store_true", help="continue from EXP_DIR/last.pt")
    _add_config_flags(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("transcribe", help="transcribe audio files")
    p.add_argument("model", type=Path)
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--json", action="store_true", help="one JSON object per file: scores, word timings, N-best")
    p.add_argument("--device")
    _add_decoder_flags(p)
    p.set_defaults(func=cmd_transcribe)

    p = sub.add_parser("eval", help="WER/CER of a model on a manifest")
    p.add_argument("model", type=Path)
    p.add_argument("manifest", type=Path)
    p.add_argument("--details", type=Path, help="per-utterance TSV, worst first (default: next to the model)")
    p.add_argument("--on-bad-audio", choices=["fail", "skip"], default="fail")
    p.add_argument("--device")
    _add_decoder_flags(p, exclude=("nbest",))
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("tune-lm", help="grid-search the LM weight (alpha) and word bonus (beta) on a dev manifest")
    p.add_argument("model", type=Path)
    p.add_argument("manifest", type=Path)
    p.add_argument("--alphas", default=TUNE_ALPHAS, help="comma-separated LM weights (default: %(default)s)")
    p.add_argument("--betas", default=TUNE_BETAS, help="comma-separated word bonuses (default: %(default)s)")
    p.add_argument("--threads", type=int, default=min(8, os.cpu_count() or 1), help="decoding threads (default: %(default)s)")
    p.add_argument("--on-bad-audio", choices=["fail", "skip"], default="fail")
    p.add_argument("--device")
    _add_decoder_flags(p, choose=False, exclude=("alpha", "beta", "nbest"), lm_required=True)
    p.set_defaults(func=cmd_tune_lm)

    p = sub.add_parser("align", help="PNG of a file's waveform, CTC posteriorgram and decoded words")
    p.add_argument("model", type=Path)
    p.add_argument("file", type=Path)
    p.add_argument("--png", required=True, type=Path, help="output image")
    p.add_argument("--device")
    _add_decoder_flags(p, exclude=("nbest",))
    p.set_defaults(func=cmd_align)

    p = sub.add_parser("lm", help="word n-gram language models")
    lm_sub = p.add_subparsers(dest="lm_command", required=True)
    p = lm_sub.add_parser("build", help="modified Kneser-Ney n-gram LM (ARPA) from text, one sentence per line")
    p.add_argument("text", type=Path, help="UTF-8 text; normalised like training transcripts")
    p.add_argument("--order", type=int, default=_default_of(write_arpa, "order"), help="default: %(default)s")
    p.add_argument("-o", "--output", required=True, type=Path, help="ARPA file to write")
    p.set_defaults(func=cmd_lm_build)

    p = sub.add_parser("import-kaldi", help="Kaldi data dir (wav.scp, text, utt2spk) -> JSONL manifest")
    p.add_argument("data_dir", type=Path)
    p.add_argument("-o", "--output", required=True, type=Path)
    p.set_defaults(func=cmd_import_kaldi)
    return parser


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per config field, e.g. --hidden-size; the help shows the dataclass default."""
    defaults = ExperimentConfig()
    for section in dataclasses.fields(ExperimentConfig):
        group = parser.add_argument_group(f"{section.name} config")
        section_default = getattr(defaults, section.name)
        hints = typing.get_type_hints(type(section_default))
        for field in dataclasses.fields(section_default):
            flag = "--" + field.name.replace("_", "-")
            default = getattr(section_default, field.name)
            kwargs: dict = {"dest": f"cfg:{section.name}.{field.name}", "default": None, "help": f"default: {default}"}
            hint = hints[field.name]
            if hint is bool:
                kwargs["action"] = argparse.BooleanOptionalAction
            elif typing.get_origin(hint) is tuple:
                kwargs.update(nargs="+", type=typing.get_args(hint)[0])
            else:
                kwargs["type"] = hint
            group.add_argument(flag, **kwargs)


def _add_decoder_flags(
    parser: argparse.ArgumentParser, choose: bool = True, exclude: Sequence[str] = (), lm_required: bool = False
) -> None:
    """--decoder, --lm, --lexicon, --hotword and one flag per `BeamSearchOptions` field (help shows its default)."""
    group = parser.add_argument_group(
        "decoder", "Beam-search flags default to BeamSearchOptions; any of them, --lm, --lexicon or --hotword selects the beam decoder."
    )
    if choose:
        group.add_argument("--decoder", choices=[GREEDY, BEAM], help="default: greedy, or beam when a beam-search flag is given")
    group.add_argument("--lm", type=Path, required=lm_required, metavar="ARPA", help="word n-gram LM (.arpa, .arpa.gz): `asr lm build`")
    group.add_argument("--lexicon", type=Path, metavar="FILE", help="the words the decoder may output, one per line")
    group.add_argument(
        "--hotword", action="append", default=[], metavar="WORD:WEIGHT", help="bonus (natural log) when WORD is decoded; repeatable"
    )
    defaults = BeamSearchOptions()
    hints = typing.get_type_hints(BeamSearchOptions)
    for field in dataclasses.fields(BeamSearchOptions):
        if field.name in exclude:
            continue
        flags = ["--" + field.name.replace("_", "-"), *BEAM_FLAG_ALIASES.get(field.name, ())]
        default, kind = getattr(defaults, field.name), hints[field.name]
        text = ", ".join(filter(None, [BEAM_FLAG_HELP.get(field.name), f"default: {default}"]))
        metavar = "N" if kind is int else "X"
        group.add_argument(*flags, dest=f"beam:{field.name}", type=kind, default=None, metavar=metavar, help=text)


def _default_of(function, parameter: str):
    return inspect.signature(function).parameters[parameter].default


def decoder_spec(args: argparse.Namespace, kind: str | None = None) -> DecoderSpec:
    """The decoder the flags ask for; BeamSearchOptions fills in every flag not given."""
    overrides = {k[5:]: v for k, v in vars(args).items() if k.startswith("beam:") and v is not None}
    hotwords = tuple(parse_hotword(h) for h in args.hotword)
    wants_beam = bool(overrides or args.lm or args.lexicon or hotwords)
    kind = kind or getattr(args, "decoder", None) or (BEAM if wants_beam else GREEDY)
    if kind == GREEDY and wants_beam:
        raise DecoderError("--lm, --lexicon, --hotword and the beam-search flags need --decoder beam")
    try:
        options = dataclasses.replace(BeamSearchOptions(), **overrides)
    except ValueError as err:
        raise DecoderError(f"bad decoder option: {err}") from None
    return DecoderSpec(kind, options, args.lm, args.lexicon, hotwords)


def resolve_config(args: argparse.Namespace) -> ExperimentConfig:
    config = load_config(args.config) if args.config else ExperimentConfig()
    overrides = {k[4:]: v for k, v in vars(args).items() if k.startswith("cfg:") and v is not None}
    return config.with_overrides(overrides)


def cmd_train(args: argparse.Namespace) -> int:
    from asr.train import run_training, select_device

    config = resolve_config(args)
    best = run_training(
        config, load_manifest(args.train), load_manifest(args.dev), args.exp_dir, select_device(args.device), resume=args.resume
    )
    print(best)
    return 0


def cmd_transcribe(args: argparse.Namespace) -> int:
    from asr.transcribe import load_model

    spec = decoder_spec(args)
    model = load_model(args.model, args.device)
    decoder = build_decoder(spec, model.tokenizer.tokens, model.frame_shift)
    for path in args.files:
        samples, _ = load(path)
        hyps = decoder.decode(model.logprobs(samples))
        if args.json:
            record = {"path": str(path), **_hypothesis_json(hyps[0])}
            if spec.options.nbest > 1:
                record["nbest"] = [_hypothesis_json(h, words=False) for h in hyps]
            print(json.dumps(record), flush=True)
        else:
            print(f"{path}\t{hyps[0].text}", flush=True)
    return 0


def _hypothesis_json(hyp: Hypothesis, words: bool = True) -> dict:
    """Scores rounded for reading; -inf (a lexicon that rejects everything) becomes null."""
    record: dict = {"text": hyp.text}
    record.update({name: _rounded(getattr(hyp, name), 4) for name in ("score", "am_score", "lm_score")})
    if words:
        record["words"] = [
            {"word": w.word, "start": round(w.start, 3), "end": round(w.end, 3), "confidence": round(w.confidence, 3)}
            for w in hyp.words
        ]
    return record


def _rounded(value: float, digits: int) -> float | None:
    return round(value, digits) if math.isfinite(value) else None


def cmd_eval(args: argparse.Namespace) -> int:
    from asr.transcribe import load_model

    spec = decoder_spec(args)
    model = load_model(args.model, args.device)
    decoder = build_decoder(spec, model.tokenizer.tokens, model.frame_shift)
    utterances = load_manifest(args.manifest)
    rows, audio_seconds, started = [], 0.0, time.perf_counter()
    for utt, logprobs, seconds in _manifest_logprobs(model, utterances, args.on_bad_audio):
        audio_seconds += seconds
        rows.append((utt, decoder.decode(logprobs)[0].text))
    elapsed = time.perf_counter() - started
    rates = error_rates([u.text for u, _ in rows], [h for _, h in rows])
    details = args.details or args.model.with_name(f"eval-{args.manifest.stem}.tsv")
    _write_details(details, rows)
    print(f"decoder {spec.describe()}")
    print(f"utterances {len(rows)}  words {rates.reference_words}")
    print(f"WER {100 * rates.wer:.2f}%  (sub {rates.substitutions}, del {rates.deletions}, ins {rates.insertions})")
    print(f"CER {100 * rates.cer:.2f}%")
    print(f"RTF {elapsed / max(audio_seconds, 1e-9):.4f}  ({elapsed:.1f} s for {audio_seconds:.1f} s of audio)")
    print(f"details: {details}")
    return 0


def _manifest_logprobs(model, utterances: Sequence[Utterance], on_bad_audio: str) -> Iterator[tuple[Utterance, np.ndarray, float]]:
    """(utterance, log-probs (frames, vocab), seconds of audio) per readable utterance; bad ones fail or are skipped."""
    for utt in utterances:
        try:
            samples, _ = load(utt.audio)
        except AudioError as err:
            if on_bad_audio == "fail":
                raise AudioError(f"{err} (utterance {utt.id}; --on-bad-audio skip to skip it)") from None
            log.warning("skipping utterance %s: %s", utt.id, err)
            continue
        yield utt, model.logprobs(samples), samples.shape[0] / SAMPLE_RATE


def cmd_tune_lm(args: argparse.Namespace) -> int:
    """Log-probs are computed once; each (alpha, beta) only re-runs the search."""
    from asr.transcribe import load_model

    alphas, betas = _float_list(args.alphas, "--alphas"), _float_list(args.betas, "--betas")
    spec = decoder_spec(args, kind=BEAM)
    grid = [[_with_weights(spec.options, a, b) for b in betas] for a in alphas]  # bad values fail before any work
    model = load_model(args.model, args.device)
    decoder = build_decoder(spec, model.tokenizer.tokens, model.frame_shift)
    pairs = list(_manifest_logprobs(model, load_manifest(args.manifest), args.on_bad_audio))
    if not pairs:
        raise UsageError(f"{args.manifest}: no readable utterances")
    references, logprobs = [u.text for u, _, _ in pairs], [x for _, x, _ in pairs]
    greedy = GreedyDecoder(model.tokenizer.tokens, model.frame_shift).decode_batch(logprobs)
    greedy_rates = error_rates(references, [h[0].text for h in greedy])
    wer = np.array([[_sweep_wer(decoder.with_options(o), logprobs, references, args.threads) for o in row] for row in grid])
    print(f"decoder {spec.describe(omit=('alpha', 'beta', 'nbest'))}")
    print(f"utterances {len(pairs)}  words {greedy_rates.reference_words}  greedy WER {100 * greedy_rates.wer:.2f}%")
    print(_wer_table(wer, alphas, betas))
    i, j = np.unravel_index(np.argmin(wer), wer.shape)  # ties: the first in grid order
    print(f"best: --alpha {alphas[i]:g} --beta {betas[j]:g}  WER {100 * wer[i, j]:.2f}%")
    return 0


def _sweep_wer(decoder, logprobs: Sequence[np.ndarray], references: Sequence[str], threads: int) -> float:
    """WER of one grid point; the beam kernels release the GIL, so the threads decode in parallel."""
    started = time.perf_counter()
    hyps = decoder.decode_batch(logprobs, num_threads=threads)
    wer = error_rates(references, [h[0].text for h in hyps]).wer
    o = decoder.options
    log.info("alpha %g beta %g: WER %.2f%% (%.1f s)", o.alpha, o.beta, 100 * wer, time.perf_counter() - started)
    return wer


def _float_list(text: str, flag: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageError(f"{flag} {text!r}: expected comma-separated numbers, e.g. 0,0.5,1") from None
    if not values:
        raise UsageError(f"{flag}: no values given")
    return values


def _with_weights(options: BeamSearchOptions, alpha: float, beta: float) -> BeamSearchOptions:
    try:
        return dataclasses.replace(options, alpha=alpha, beta=beta)
    except ValueError as err:
        raise UsageError(f"alpha {alpha:g}, beta {beta:g}: {err}") from None


def _wer_table(wer: np.ndarray, alphas: Sequence[float], betas: Sequence[float]) -> str:
    """WER (%) with a row per alpha and a column per beta."""
    lines = ["WER %       " + "".join(f"{f'beta {b:g}':>10}" for b in betas)]
    for alpha, row in zip(alphas, wer):
        lines.append(f"{f'alpha {alpha:g}':<12}" + "".join(f"{100 * w:>10.2f}" for w in row))
    return "\n".join(lines)


def cmd_align(args: argparse.Namespace) -> int:
    from asr.align import plot_alignment, require_matplotlib
    from asr.transcribe import load_model

    require_matplotlib()
    spec = decoder_spec(args)
    model = load_model(args.model, args.device)
    decoder = build_decoder(spec, model.tokenizer.tokens, model.frame_shift)
    samples, _ = load(args.file)
    logprobs = model.logprobs(samples)
    hyp = decoder.decode(logprobs)[0]
    title = f"{args.file.name}: {hyp.text or '(no words decoded)'}"
    plot_alignment(args.png, samples.numpy(), logprobs, model.tokenizer.tokens, hyp, model.frame_shift, title)
    print(f"{args.file}\t{hyp.text}")
    print(f"plot: {args.png}")
    return 0


def cmd_lm_build(args: argparse.Namespace) -> int:
    if not args.text.is_file():
        raise UsageError(f"{args.text}: no such text file")
    try:
        with open(args.text, encoding="utf-8") as lines:
            write_arpa(lines, args.output, order=args.order)
    except ValueError as err:  # no words, a bad order, or not UTF-8
        raise UsageError(f"{args.text}: {str(err).splitlines()[0]}") from None
    print(f"{args.output}: order {args.order}")
    for n, count in _arpa_counts(args.output):
        print(f"  {n}-grams {count}")
    return 0


def _arpa_counts(path: Path) -> list[tuple[int, int]]:
    """(order, count) from an ARPA header."""
    counts = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("ngram "):
                n, count = line[len("ngram ") :].split("=")
                counts.append((int(n), int(count)))
            elif line.startswith("\\") and counts:
                break
    return counts


def _write_details(path: Path, rows: list) -> None:
    scored = [(utterance_errors(utt.text, hyp), utt, hyp) for utt, hyp in rows]
    scored.sort(key=lambda r: (-r[0].word_errors, r[1].id))
    lines = ["id\terrors\tref_words\tref\thyp"]
    lines += [f"{u.id}\t{e.word_errors}\t{e.reference_words}\t{u.text}\t{h}" for e, u, h in scored]
    path.write_text("\n".join(lines) + "\n")


def cmd_import_kaldi(args: argparse.Namespace) -> int:
    utterances = from_kaldi_dir(args.data_dir)
    write_manifest(utterances, args.output)
    print(f"{len(utterances)} utterances -> {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
