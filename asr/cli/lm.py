"""`asr lm build`: a modified Kneser-Ney word n-gram LM (ARPA) from text, one sentence per line."""

from __future__ import annotations

import argparse
import inspect
from pathlib import Path

from asr.cli.flags import UsageError
from asr.decode.lm_build import write_arpa
from asr.errors import first_line

DEFAULT_ORDER = inspect.signature(write_arpa).parameters["order"].default


def add_parsers(commands) -> None:
    p = commands.add_parser("lm", help="word n-gram language models")
    lm_commands = p.add_subparsers(dest="lm_command", required=True)
    p = lm_commands.add_parser("build", help="modified Kneser-Ney n-gram LM (ARPA) from text, one sentence per line")
    p.add_argument("text", type=Path, help="UTF-8 text; normalised like training transcripts")
    p.add_argument("--order", type=int, default=DEFAULT_ORDER, help="default: %(default)s")
    p.add_argument("-o", "--output", required=True, type=Path, help="ARPA file to write")
    p.set_defaults(func=build)


def build(args: argparse.Namespace) -> int:
    if not args.text.is_file():
        raise UsageError(f"{args.text}: no such text file")
    try:
        with open(args.text, encoding="utf-8") as lines:
            write_arpa(lines, args.output, order=args.order)
    except ValueError as err:  # no words, a bad order, or not UTF-8
        raise UsageError(f"{args.text}: {first_line(err)}") from None
    print(f"{args.output}: order {args.order}")
    for n, count in arpa_counts(args.output):
        print(f"  {n}-grams {count}")
    return 0


def arpa_counts(path: Path) -> list[tuple[int, int]]:
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
