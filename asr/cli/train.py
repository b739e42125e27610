"""`asr train`: every config field is a flag (defaults from `asr.config`); YAML with --config."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from asr.cli.flags import add_config_flags, resolve_config
from asr.data import load_manifest

SECTIONS = ("features", "model", "train", "decode", "stream")


def add_parsers(commands) -> None:
    p = commands.add_parser("train", help="train a model on JSONL manifests")
    p.add_argument("--train", required=True, type=Path, help="training manifest (JSONL)")
    p.add_argument("--dev", required=True, type=Path, help="dev manifest (JSONL), scored every epoch")
    p.add_argument("--exp-dir", required=True, type=Path, help="folder for checkpoints and logs")
    p.add_argument("--config", type=Path, action="append", help="YAML config over the defaults; repeatable, later files win")
    p.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when present; under torchrun, cuda:LOCAL_RANK)")
    p.add_argument(
        "--resume", action="store_true",
        help="continue from EXP_DIR/last.pt (made with the same settings) at the next batch; automatic when torchrun restarts a run",
    )  # fmt: skip
    add_config_flags(p, SECTIONS)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from asr import distributed
    from asr.resume import has_checkpoint
    from asr.train import run_training

    config = resolve_config(args)
    train, dev = load_manifest(args.train), load_manifest(args.dev)
    # A run that torchrun restarted after a failure goes on from its last checkpoint.
    resume = args.resume or (distributed.elastic_restart() and has_checkpoint(args.exp_dir))
    completed = False
    try:
        best = run_training(config, train, dev, args.exp_dir, args.device, resume=resume)
        completed = True
    finally:
        distributed.teardown(completed)
    if not distributed.launched_by_torchrun() or int(os.environ.get("RANK", "0")) == 0:
        print(best)
    return 0
