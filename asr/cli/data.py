"""`asr import-kaldi`: a Kaldi data dir (wav.scp, text, utt2spk) -> a JSONL manifest."""

from __future__ import annotations

import argparse
from pathlib import Path

from asr.data import from_kaldi_dir, write_manifest


def add_parsers(commands) -> None:
    p = commands.add_parser("import-kaldi", help="Kaldi data dir (wav.scp, text, utt2spk) -> JSONL manifest")
    p.add_argument("data_dir", type=Path)
    p.add_argument("-o", "--output", required=True, type=Path)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    utterances = from_kaldi_dir(args.data_dir)
    write_manifest(utterances, args.output)
    print(f"{len(utterances)} utterances -> {args.output}")
    return 0
