#!/usr/bin/env python3
"""RNN vs GRU vs LSTM (or any model settings) trained the same way: parameters, time per epoch, epochs to converge, WER.

    python tools/compare_cells.py --train data/fsdd/train_tts.jsonl --dev data/fsdd/dev.jsonl --test data/fsdd/test.jsonl \\
        --config recipes/fsdd/conf/train.yaml --decode-config recipes/fsdd/conf/decode.yaml \\
        --variant rnn="--rnn-type rnn" --variant gru="--rnn-type gru" --variant lstm="--rnn-type lstm" \\
        --jobs 2 --out benchmarks/cells_fsdd.md

Each variant trains with the same config plus its flags (one torch thread, `--jobs` at a
time), then its best.pt is scored on the test manifest greedily and with `--decode-config`.
From its train.log: parameters, mean seconds per epoch (dev scoring included), the epoch of
the best dev WER, and the first epoch whose dev WER is within 25 % of that best ("epochs to
converge"). Runs that share the cores (`--jobs 2` on 2 cores) are slowed alike.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from report import emit  # tools/report.py, beside this script

ASR = [sys.executable, "-m", "asr"]


def train_and_score(name: str, flags: list[str], args: argparse.Namespace) -> dict:
    exp = args.exp_root / name
    configs = [x for c in args.config for x in ("--config", str(c))]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    # A finished run resumes with no epoch left and returns at once, so the tool is safe to re-run.
    subprocess.run([*ASR, "train", *configs, *flags, "--train", str(args.train), "--dev", str(args.dev), "--exp-dir", str(exp),
                    *(["--resume"] if (exp / "last.pt").exists() else [])], check=True, env=env, capture_output=True)  # fmt: skip
    log = (exp / "train.log").read_text()
    epochs = [(float(w), float(s)) for w, s in re.findall(r"dev WER ([\d.]+)%, ([\d.]+) s", log)]
    wers = [w for w, _ in epochs]
    best = min(wers)
    result = {
        "name": name, "flags": " ".join(flags), "params": re.search(r"([\d.]+)M parameters", log).group(1),
        "epoch_s": sum(s for _, s in epochs) / len(epochs), "epochs": len(epochs),
        "best_epoch": wers.index(best) + 1, "converged": next(i for i, w in enumerate(wers, 1) if w <= 1.25 * best), "dev": best,
    }
    for label, extra in (("greedy", []), ("decoded", ["--config", str(args.decode_config)] if args.decode_config else [])):
        out = subprocess.run([*ASR, "eval", str(exp / "best.pt"), str(args.test), *extra], check=True, capture_output=True, text=True, env=env)
        result[label] = float(re.search(r"^WER ([\d.]+)%", out.stdout, re.M).group(1))
    print(result, flush=True)
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--train", type=Path, required=True)
    p.add_argument("--dev", type=Path, required=True)
    p.add_argument("--test", type=Path, required=True)
    p.add_argument("--config", type=Path, action="append", required=True, help="training YAML (repeatable)")
    p.add_argument("--decode-config", type=Path, help="decoding YAML for the second test score (e.g. a lexicon)")
    p.add_argument("--variant", action="append", required=True, metavar='NAME="FLAGS"', help="a name and its training flags")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--exp-root", type=Path, default=Path("exp/compare"))
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    variants = [(v.split("=", 1)[0], shlex.split(v.split("=", 1)[1])) for v in args.variant]
    with ThreadPoolExecutor(args.jobs) as pool:
        results = list(pool.map(lambda v: train_and_score(v[0], v[1], args), variants))
    decoded = f"test WER, {args.decode_config.name}" if args.decode_config else "test WER (decoded)"
    lines = [
        f"`python tools/compare_cells.py {' '.join(shlex.quote(a) for a in sys.argv[1:])}`", "",
        f"| variant | flags | params | s/epoch | epochs | best dev epoch | epochs to converge | best dev WER | test WER greedy | {decoded} |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for r in results:
        lines.append(f"| {r['name']} | `{r['flags']}` | {r['params']} M | {r['epoch_s']:.0f} | {r['epochs']} | {r['best_epoch']} | "
                     f"{r['converged']} | {r['dev']:.1f} % | {r['greedy']:.1f} % | {r['decoded']:.1f} % |")  # fmt: skip
    emit(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
