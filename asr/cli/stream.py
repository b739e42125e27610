"""`asr stream`: audio files through a streaming (unidirectional) model, chunk by chunk, with
partial results, finals at endpoints, and optionally at the pace of real time.

Output: on a terminal the partial rewrites one line and each final gets its own line with
its times; otherwise one line per final, "FILE<TAB>START<TAB>END<TAB>TEXT"; with `--jsonl`,
one JSON object per event (schema in the README).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from asr.audio import SAMPLE_RATE, load
from asr.cli.decode import load_model_and_decoder
from asr.cli.flags import UsageError, add_config_flags, add_model_arguments


def add_parsers(commands) -> None:
    p = commands.add_parser("stream", help="stream audio files through a streaming model: partial and final results")
    add_model_arguments(p)
    p.add_argument("files", nargs="+", type=Path, help="audio files (WAV, FLAC, OGG, MP3; any rate and channel count)")
    p.add_argument("--realtime", action="store_true", help="feed each chunk when its audio would have been heard")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per partial or final result")
    add_runtime_argument(p)
    add_config_flags(p, ("decode", "stream"))
    p.set_defaults(func=run)


def add_runtime_argument(parser: argparse.ArgumentParser) -> None:
    from asr.export import RUNTIMES

    parser.add_argument(
        "--runtime", choices=RUNTIMES, default="eager",
        help="what runs the model: eager torch, int8 (dynamic quantization, CPU), or the files "
        "`asr export MODEL --format F` wrote beside it (default: %(default)s)",
    )  # fmt: skip


def streaming_runner(args: argparse.Namespace, model):
    """None (the eager model), its int8 copy, or the exported model --runtime names, from beside the checkpoint."""
    if args.runtime == "eager":
        return None
    from asr.export import default_path, load_exported, quantized

    if args.runtime == "int8":
        return quantized(model.model)

    path = default_path(args.model, args.runtime).with_suffix(".json")
    if not path.is_file():
        raise UsageError(f"{path}: no {args.runtime} export of {args.model}; run: asr export {args.model} --format {args.runtime}")
    return load_exported(path)


def run(args: argparse.Namespace) -> int:
    from asr.stream import Recognizer

    model, config, decoder = load_model_and_decoder(args)
    recognizer = Recognizer(model, decoder, config.stream, runner=streaming_runner(args, model))
    printer = EventPrinter(jsonl=args.jsonl, live=sys.stdout.isatty() and not args.jsonl)
    chunk = SAMPLE_RATE * config.stream.chunk_ms // 1000
    for path in args.files:
        samples, _ = load(path)
        stream, started = recognizer.stream(), time.perf_counter()
        for start in range(0, samples.shape[0], chunk):
            if args.realtime:
                time.sleep(max(0.0, started + (start + chunk) / SAMPLE_RATE - time.perf_counter()))
            printer.show(path, stream.accept(samples[start : start + chunk]))
        printer.show(path, stream.finish())
        printer.end_of_file()
    return 0


class EventPrinter:
    """Writes events to stdout as JSON lines, as a live terminal line, or as one line per final."""

    def __init__(self, jsonl: bool, live: bool) -> None:
        self.jsonl, self.live, self.line_open = jsonl, live, False

    def show(self, source: Path | str, events: list, status: str = "") -> None:
        """Write `events`; `status` (e.g. the input level) leads the live partial line."""
        if self.live and status and not events:
            sys.stdout.write(f"\r\033[K[{status}] ")
            sys.stdout.flush()
            self.line_open = True
        for event in events:
            if self.jsonl:
                print(json.dumps({"file": str(source), **event.to_json()}), flush=True)
            elif event.type == "partial":
                if self.live:
                    sys.stdout.write(f"\r\033[K[{status}] {event.text}" if status else f"\r\033[K{event.text}")
                    sys.stdout.flush()
                    self.line_open = True
            elif self.live:
                sys.stdout.write(f"\r\033[K[{event.start:7.2f} - {event.end:7.2f}] {event.text}\n")
                sys.stdout.flush()
                self.line_open = False
            else:
                print(f"{source}\t{event.start:.2f}\t{event.end:.2f}\t{event.text}", flush=True)

    def end_of_file(self) -> None:
        if self.line_open:
            sys.stdout.write("\r\033[K")
            sys.stdout.flush()
            self.line_open = False
