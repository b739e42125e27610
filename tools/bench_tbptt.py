#!/usr/bin/env python3
"""Truncated against full BPTT on the yes/no streaming recipe: test WER, training time, peak RSS.

    python tools/bench_tbptt.py --data data/yesno --frames 25 --seeds 0,1,2 --out benchmarks/tbptt.md

--data is the folder `bash recipes/yesno/run.sh --stop-stage 0` prepared. Each run trains
conf/train.yaml + conf/stream.yaml (one thread), with train.tbptt_frames 0 (full BPTT) or
--frames, then scores the 29 test files greedily. Peak RSS is the training process's.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from report import emit  # tools/report.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
ASR = [sys.executable, "-m", "asr"]
# Runs a command and prints its peak RSS in KiB last (a process of its own, so runs do not share the maximum).
MEASURED = [sys.executable, "-c", "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)"]


def run(data: Path, work: Path, seed: int, frames: int) -> tuple[float, float, float]:
    exp = work / f"seed{seed}_tbptt{frames}"
    conf = ROOT / "recipes/yesno/conf"
    started = time.perf_counter()
    trained = subprocess.run(
        [*MEASURED, *ASR, "train", "--config", str(conf / "train.yaml"), "--config", str(conf / "stream.yaml"), "--seed", str(seed),
         "--tbptt-frames", str(frames), "--train", str(data / "train_crops.jsonl"), "--dev", str(data / "train.jsonl"),
         "--exp-dir", str(exp)],
        check=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    rss = int(trained.stdout.strip().splitlines()[-1]) / 1024
    out = subprocess.run([*ASR, "eval", str(exp / "best.pt"), str(data / "test.jsonl"), "--details", str(exp / "d.tsv")],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    return float(re.search(r"^WER ([\d.]+)%", out, re.M).group(1)), seconds, rss


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--frames", type=int, default=25, help="output frames per truncated chunk (default: %(default)s = 1 s)")
    p.add_argument("--seeds", default="0,1,2")
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    lines = [f"`python {' '.join(sys.argv)}`", "", "| seed | full BPTT: WER / train s / peak RSS | truncated: WER / train s / peak RSS |", "|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp:
        for seed in (int(s) for s in args.seeds.split(",")):
            cells = []
            for frames in (0, args.frames):
                wer, seconds, rss = run(args.data.resolve(), Path(tmp), seed, frames)
                cells.append(f"{wer:.2f} % / {seconds:.0f} s / {rss:.0f} MB")
            lines.append(f"| {seed} | " + " | ".join(cells) + " |")
            print(lines[-1], flush=True)
    emit(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
