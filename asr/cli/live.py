"""`asr live`: the microphone through a streaming model, until Ctrl-C (or --seconds).

On a terminal one line shows the input level, the overflow count and the partial; each final
gets its own line. `--jsonl` writes the events as `asr stream --jsonl` does ("file": "mic").
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

from asr.audio import SAMPLE_RATE
from asr.cli.decode import load_model_and_decoder
from asr.cli.flags import UsageError, add_config_flags
from asr.cli.stream import EventPrinter, add_runtime_argument, streaming_runner

MIN_BLOCK_FRAMES = 1600  # smaller PortAudio blocks once gave imperfect audio through PulseAudio


def add_parsers(commands) -> None:
    p = commands.add_parser("live", help="transcribe the microphone live (Ctrl-C to stop)")
    p.add_argument("model", type=Path, nargs="?", help="a streaming checkpoint (model.bidirectional: false)")
    p.add_argument("--device", dest="input_device", metavar="N|NAME", help="input device: its index or part of its name (default: the system's)")
    p.add_argument("--list-devices", action="store_true", help="list the input devices and exit")
    p.add_argument("--rate", type=int, default=SAMPLE_RATE, help="rate to open the device at; others are resampled (default: %(default)s)")
    p.add_argument("--seconds", type=float, help="stop after this many seconds (default: at Ctrl-C)")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per partial or final result")
    p.add_argument("--compute-device", dest="device", help="torch device: cpu, cuda ... (default: cuda when present)")
    p.add_argument("--config", type=Path, action="append", help="YAML with decode and stream sections over the model's own")
    add_runtime_argument(p)
    add_config_flags(p, ("decode", "stream"))
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from asr.live import MicrophoneSource, choose_device, describe_devices, input_devices, run_live
    from asr.stream import Recognizer

    if args.list_devices:
        print(describe_devices(input_devices()))
        return 0
    if args.model is None:
        raise UsageError("asr live needs a MODEL (or --list-devices)")
    device = choose_device(args.input_device)
    model, config, decoder = load_model_and_decoder(args)
    recognizer = Recognizer(model, decoder, config.stream, runner=streaming_runner(args, model))
    source = MicrophoneSource(args.rate, max(MIN_BLOCK_FRAMES, args.rate * config.stream.chunk_ms // 1000))
    printer = EventPrinter(jsonl=args.jsonl, live=sys.stdout.isatty() and not args.jsonl)
    stop = threading.Event()
    if args.seconds:
        timer = threading.Timer(args.seconds, stop.set)
        timer.daemon = True
        timer.start()
    print(f"listening on {device['name']} at {args.rate} Hz; Ctrl-C to stop", file=sys.stderr)
    stream = source.open(device["index"])
    try:
        events = run_live(recognizer, source, lambda ev, db, stats: printer.show("mic", ev, f"{db:5.0f} dB {_losses(stats)}"), stop)
    finally:
        stream.abort()  # not stop(): stop() can hang when the source has gone quiet
        stream.close()
    printer.show("mic", events)
    printer.end_of_file()
    print(f"input: {_losses(source.stats) or 'no blocks lost'}", file=sys.stderr)
    return 0


def _losses(stats) -> str:
    parts = [f"{stats.overflows} overflow(s)" if stats.overflows else "", f"{stats.dropped} dropped" if stats.dropped else ""]
    return ", ".join(p for p in parts if p)
