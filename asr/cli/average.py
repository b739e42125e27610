"""`asr average`: one model whose weights are the mean of several epochs' of a run (`asr.average`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from asr.cli.flags import UsageError


def add_parsers(commands) -> None:
    p = commands.add_parser("average", help="average the weights of a run's last epochs into one model")
    p.add_argument("inputs", nargs="+", type=Path, metavar="CHECKPOINT_OR_DIR", help="checkpoints of one run, or its experiment folder with --last")
    p.add_argument("--last", type=int, metavar="N", help="average the N newest epoch checkpoints (epoch1.pt, epoch2.pt, ...) of the one experiment folder given")
    p.add_argument("-o", "--output", type=Path, required=True, help="where to write the averaged model (e.g. exp/x/avg.pt)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from asr.average import average_checkpoints, epoch_checkpoints
    from asr.checkpoint import save_checkpoint

    if args.last is not None:
        if len(args.inputs) != 1 or not args.inputs[0].is_dir():
            raise UsageError("--last takes exactly one experiment folder (the one holding epoch{N}.pt)")
        paths = epoch_checkpoints(args.inputs[0], args.last)
    else:
        if dirs := [p for p in args.inputs if p.is_dir()]:
            raise UsageError(f"{dirs[0]} is a folder: give checkpoint files, or one folder with --last N")
        paths = args.inputs
    save_checkpoint(average_checkpoints(paths), args.output)
    print(f"{args.output}: the mean of {', '.join(str(p) for p in paths)}")
    return 0
