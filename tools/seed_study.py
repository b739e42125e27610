#!/usr/bin/env python3
"""Run a recipe over seeds x torch threads x CPU kernels and write a markdown table of its test WER.

    python tools/seed_study.py --data-dir ../shared/data/yesno --seeds 0-9 --threads 1,2 \
        --capabilities native,default --jobs 2 --out benchmarks/yesno_seeds.md

Each run is `bash recipes/<recipe>/run.sh --seed N` in its own exp dir, with OMP_NUM_THREADS
set to the thread count and, for a capability other than "native", ATEN_CPU_CAPABILITY set to
it (torch's CPU kernels: default | avx2 | avx512), so each cell is trained on another
floating-point path. Runs with one thread can go `--jobs` at a time; the others run alone.
The recipe's stdout must print two WER lines: greedy first, then its second decoder's (beam search).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Run:
    seed: int
    threads: int
    capability: str


@dataclass(frozen=True)
class Outcome:
    run: Run
    greedy_wer: float | None
    beam_wer: float | None
    seconds: float
    error: str = ""


def parse_seeds(text: str) -> list[int]:
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        seeds += range(int(low), int(high or low) + 1)
    return seeds


def run_one(run: Run, recipe: str, data_dir: Path, work: Path, extra: list[str]) -> Outcome:
    tag = f"seed{run.seed}_t{run.threads}_{run.capability}"
    env = {**os.environ, "OMP_NUM_THREADS": str(run.threads)}
    env.pop("ATEN_CPU_CAPABILITY", None)
    if run.capability != "native":
        env["ATEN_CPU_CAPABILITY"] = run.capability
    command = ["bash", str(ROOT / "recipes" / recipe / "run.sh"), "--seed", str(run.seed), "--data-dir", str(data_dir),
               "--out-dir", str(work / "data"), "--exp-dir", str(work / tag), *extra]  # fmt: skip
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    wers = [float(w) for w in re.findall(r"^WER ([\d.]+)%", result.stdout, flags=re.M)]
    if result.returncode != 0 or len(wers) < 2:
        return Outcome(run, None, None, seconds, (result.stderr.strip().splitlines() or ["no WER printed"])[-1])
    print(f"{tag}: greedy {wers[0]:.2f}%  beam {wers[1]:.2f}%  ({seconds:.0f} s)", flush=True)
    return Outcome(run, wers[0], wers[1], seconds)


def table(outcomes: list[Outcome], seeds: list[int], columns: list[tuple[int, str]]) -> str:
    by_run = {o.run: o for o in outcomes}
    head = "| seed | " + " | ".join(f"{t} thread{'s' if t > 1 else ''}, {c} kernels" for t, c in columns) + " |"
    lines = [head, "|---" * (len(columns) + 1) + "|"]
    for seed in seeds:
        cells = []
        for threads, capability in columns:
            o = by_run[Run(seed, threads, capability)]
            cells.append(f"failed: {o.error}" if o.greedy_wer is None else f"{o.greedy_wer:.2f} / {o.beam_wer:.2f}")
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default="yesno")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--seeds", default="0-9", help="e.g. 0-9 or 0,3,5 (default: %(default)s)")
    parser.add_argument("--threads", default="1,2", help="torch thread counts (default: %(default)s)")
    parser.add_argument("--capabilities", default="native,default", help="native, or ATEN_CPU_CAPABILITY values (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=1, help="one-thread runs at a time (default: %(default)s)")
    parser.add_argument("--out", type=Path, help="markdown file for the table (default: print only)")
    parser.add_argument("--recipe-args", default="", help="more options for run.sh, e.g. --recipe-args=--streaming")
    args = parser.parse_args()
    seeds = parse_seeds(args.seeds)
    columns = [(int(t), c) for t in args.threads.split(",") for c in args.capabilities.split(",")]
    runs = [Run(s, t, c) for t, c in columns for s in seeds]
    extra = args.recipe_args.split()
    with tempfile.TemporaryDirectory(prefix="seed-study-") as tmp:
        work = Path(tmp)
        # Prepare once, alone, so parallel runs do not race on the shared data dir.
        subprocess.run(["bash", str(ROOT / "recipes" / args.recipe / "run.sh"), "--data-dir", str(args.data_dir),
                        "--out-dir", str(work / "data"), "--stop-stage", "0"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        single = [r for r in runs if r.threads == 1]
        with ThreadPoolExecutor(max(1, args.jobs)) as pool:
            outcomes = list(pool.map(lambda r: run_one(r, args.recipe, args.data_dir, work, extra), single))
        outcomes += [run_one(r, args.recipe, args.data_dir, work, extra) for r in runs if r.threads != 1]
    report = "\n".join([
        f"Test WER % greedy / beam search, `{args.recipe}` recipe, one training run per cell.",
        f"`python tools/seed_study.py --recipe {args.recipe} --data-dir {args.data_dir} --seeds {args.seeds} "
        f"--threads {args.threads} --capabilities {args.capabilities} --jobs {args.jobs}"
        + (f" --recipe-args='{args.recipe_args}'`" if args.recipe_args else "`"),
        "",
        table(outcomes, seeds, columns),
        "",
        f"greedy WER 0.00 in {sum(o.greedy_wer == 0.0 for o in outcomes)} of {len(outcomes)} runs, at most "
        f"{max((o.greedy_wer for o in outcomes if o.greedy_wer is not None), default=float('nan')):.2f}; beam at most "
        f"{max((o.beam_wer for o in outcomes if o.beam_wer is not None), default=float('nan')):.2f}; "
        f"median run {sorted(o.seconds for o in outcomes)[len(outcomes) // 2]:.0f} s (prepare excluded)",
    ])  # fmt: skip
    print(report)
    if args.out:
        args.out.write_text(report + "\n")
    return 0 if all(o.greedy_wer is not None for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
