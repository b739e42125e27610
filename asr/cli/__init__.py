"""The `asr` command (`python -m asr` too): one module per command group, each adding its subcommands.

  train        asr.cli.train      train a model on JSONL manifests
  transcribe   asr.cli.decode     transcribe audio files
  eval         asr.cli.decode     WER/CER of a model on a manifest
  align        asr.cli.decode     PNG of waveform, posteriorgram and words
  stream       asr.cli.stream     files through a streaming model: partials, finals at pauses
  live         asr.cli.live       the microphone through a streaming model
  export       asr.cli.export     a streaming model -> TorchScript / ONNX
  average      asr.cli.average    one model from the mean of a run's last epochs
  tune-lm      asr.cli.tune       grid-search the LM weight and word bonus
  lm build     asr.cli.lm         modified Kneser-Ney n-gram LM
  import-kaldi asr.cli.data       Kaldi data dir -> JSONL manifest

Flags for settings are generated from the config dataclasses (`asr.cli.flags`). Errors a user
can fix are printed as one line, `asr: error: ...`, with exit status 1.
"""

from __future__ import annotations

import argparse
import logging
import sys

from asr.align import PlotUnavailable
from asr.audio import AudioError
from asr.checkpoint import CheckpointError
from asr.cli import average, data, decode, export, live, lm, stream, train, tune
from asr.cli.flags import UsageError
from asr.config import ConfigError
from asr.data import ManifestError
from asr.decode.factory import DecoderError
from asr.features import FeatureError
from asr.tokenizer import TokenizerError

USER_ERRORS = (
    AudioError, CheckpointError, ConfigError, DecoderError, FeatureError, ManifestError, PlotUnavailable,
    TokenizerError, UsageError,
    OSError,  # a missing file, a folder that cannot be written: "[Errno 13] Permission denied: 'x'"
)  # fmt: skip
COMMAND_GROUPS = (train, decode, stream, live, export, average, tune, lm, data)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    from asr.errors import TrainingError
    from asr.export import ExportError
    from asr.live import LiveError
    from asr.stream import StreamError

    try:
        return args.func(args) or 0
    except (*USER_ERRORS, ExportError, LiveError, StreamError, TrainingError) as err:
        print(f"asr: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("asr: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="asr", description="LSTM-CTC speech recognition")
    commands = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.add_parsers(commands)
    return parser
