#!/usr/bin/env python3
"""Wall time of a new process's first beam-search transcription, with a cold and a warm Numba cache.

    python tools/bench_first_decode.py MODEL AUDIO [--repeats 3] [-- extra asr transcribe flags]

Cold: `NUMBA_CACHE_DIR` points at an empty folder, so every kernel compiles (a new install
before `tools/setup.sh` ran `python -m asr.decode.warmup`). Warm: the cache the warm-up
filled. Each run is a whole `asr transcribe MODEL AUDIO --beam 8` process, interpreter start
and model load included, as a user sees it; the median of `--repeats` runs is reported.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("audio")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="more `asr transcribe` flags (after --)")
    args = parser.parse_args()
    asr = shutil.which("asr") or sys.exit("asr is not on PATH")
    command = [asr, "transcribe", args.model, args.audio, "--beam", "8", *args.extra]
    subprocess.run([sys.executable, "-m", "asr.decode.warmup"], check=True, stdout=subprocess.DEVNULL)
    cold, warm = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="numba-cold-") as empty:
            cold.append(timed(command, {**os.environ, "NUMBA_CACHE_DIR": empty}))
        warm.append(timed(command, {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}))
    cold_s, warm_s = statistics.median(cold), statistics.median(warm)
    print(f"first `asr transcribe --beam 8` in a new process, median of {args.repeats}:")
    print(f"  cold Numba cache: {cold_s:.1f} s")
    print(f"  warm cache (after python -m asr.decode.warmup): {warm_s:.1f} s  ({cold_s / warm_s:.1f}x faster)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
