#!/usr/bin/env python3
"""Memory and speed of transcribing one long file (default 30 minutes) in bounded windows.

Builds the long file by repeating the utterances of a manifest end to end, then reports
the peak resident memory before and during `Transcriber.transcribe`, and the real-time
factor. The model runs on overlapping 30 s windows (`asr/transcribe.py`), so the rise
should stay near one window's activations however long the file is.

    python tools/bench_long_audio.py exp/synth/best.pt data/synth/test.jsonl --minutes 30
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

import asr
from asr.audio import SAMPLE_RATE, load
from asr.data import load_manifest


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def build_long_file(manifest: Path, minutes: float, path: Path) -> float:
    """Write `minutes` of speech (manifest utterances repeated) to `path`; returns seconds."""
    pieces = [load(u.audio)[0].numpy() for u in load_manifest(manifest)]
    needed, total, chosen = minutes * 60 * SAMPLE_RATE, 0, []
    while total < needed:
        for piece in pieces:
            chosen.append(piece)
            total += len(piece)
            if total >= needed:
                break
    audio = np.concatenate(chosen)[: int(needed)]
    soundfile.write(path, audio, SAMPLE_RATE, subtype="PCM_16")
    return len(audio) / SAMPLE_RATE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("manifest", type=Path, help="utterances to repeat into the long file")
    parser.add_argument("--minutes", type=float, default=30.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.wav"
        seconds = build_long_file(args.manifest, args.minutes, path)
        model = asr.load_model(args.model, device="cpu")
        model.transcribe(np.zeros(SAMPLE_RATE, dtype=np.float32))  # warm-up: allocator and kernels
        before = peak_rss_mb()
        started = time.perf_counter()
        result = model.transcribe(path)
        elapsed = time.perf_counter() - started
        after = peak_rss_mb()
    audio_mb = seconds * SAMPLE_RATE * 4 / 2**20
    print(f"file: {seconds / 60:.1f} min ({audio_mb:.0f} MB as float32 samples), {len(result.words)} words decoded")
    print(f"peak RSS before transcribe: {before:.0f} MB; during: {after:.0f} MB; rise {after - before:.0f} MB")
    print(f"time {elapsed:.1f} s, real-time factor {elapsed / seconds:.4f}")


if __name__ == "__main__":
    main()
