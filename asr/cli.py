"""The `asr` command: train, transcribe, eval, import-kaldi.

Training flags are generated from the config dataclasses, so their defaults are the
dataclass defaults; precedence is dataclass < --config YAML < flags.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
import time
import typing
from pathlib import Path

from asr.audio import AudioError
from asr.checkpoint import CheckpointError
from asr.config import ConfigError, ExperimentConfig, load_config
from asr.data import ManifestError, from_kaldi_dir, load_manifest, write_manifest
from asr.scoring import error_rates, utterance_errors
from asr.tokenizer import TokenizerError

USER_ERRORS = (AudioError, CheckpointError, ConfigError, ManifestError, TokenizerError, FileNotFoundError)
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
    p.add_argument("--json", action="store_true", help="one JSON object per file, with word timings")
    p.add_argument("--device")
    p.set_defaults(func=cmd_transcribe)

    p = sub.add_parser("eval", help="WER/CER of a model on a manifest")
    p.add_argument("model", type=Path)
    p.add_argument("manifest", type=Path)
    p.add_argument("--details", type=Path, help="per-utterance TSV, worst first (default: next to the model)")
    p.add_argument("--on-bad-audio", choices=["fail", "skip"], default="fail")
    p.add_argument("--device")
    p.set_defaults(func=cmd_eval)

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

    model = load_model(args.model, args.device)
    for path in args.files:
        hyp = model.transcribe(path)
        if args.json:
            words = [dataclasses.asdict(w) for w in hyp.words]
            print(json.dumps({"path": str(path), "text": hyp.text, "words": words}), flush=True)
        else:
            print(f"{path}\t{hyp.text}", flush=True)
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from asr.transcribe import load_model

    model = load_model(args.model, args.device)
    utterances = load_manifest(args.manifest)
    rows, audio_seconds, started = [], 0.0, time.perf_counter()
    for utt in utterances:
        try:
            hyp = model.transcribe(utt.audio)
        except AudioError as err:
            if args.on_bad_audio == "fail":
                raise AudioError(f"{err} (utterance {utt.id}; --on-bad-audio skip to skip it)") from None
            log.warning("skipping utterance %s: %s", utt.id, err)
            continue
        audio_seconds += utt.duration
        rows.append((utt, hyp.text))
    elapsed = time.perf_counter() - started
    rates = error_rates([u.text for u, _ in rows], [h for _, h in rows])
    details = args.details or args.model.with_name(f"eval-{args.manifest.stem}.tsv")
    _write_details(details, rows)
    print(f"utterances {len(rows)}  words {rates.reference_words}")
    print(f"WER {100 * rates.wer:.2f}%  (sub {rates.substitutions}, del {rates.deletions}, ins {rates.insertions})")
    print(f"CER {100 * rates.cer:.2f}%")
    print(f"RTF {elapsed / max(audio_seconds, 1e-9):.4f}  ({elapsed:.1f} s for {audio_seconds:.1f} s of audio)")
    print(f"details: {details}")
    return 0


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
