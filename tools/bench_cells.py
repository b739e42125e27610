#!/usr/bin/env python3
"""Our own cells (asr.cells) against torch's fused layers, and TorchScript against eager for our cells.

    python tools/bench_cells.py --out benchmarks/cells.md

CPU, one thread, the EESEN-size stack: 4 layers x 320 units over 608-dim inputs (what the x4
conv front end makes of 80 mels). Training step: forward + backward of a bidirectional stack
on a batch of 8 x 200 frames (8 s of audio at 40 ms frames), median of --repeats. Inference:
a unidirectional stack on one 160 ms chunk (4 frames) with the state carried, median per chunk.
Mixed precision (the seeds' 40 % memory claim) needs a GPU: not measured here.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asr.cells import NativeRNN  # noqa: E402
from report import emit  # noqa: E402  (tools/report.py, beside this script)

LAYERS, HIDDEN, INPUT = 4, 320, 608


def stack(native: bool, bidirectional: bool, script: bool = False) -> list[torch.nn.Module]:
    torch.manual_seed(0)
    layers, dim = [], INPUT
    for _ in range(LAYERS):
        if native:
            layer = NativeRNN(dim, HIDDEN, "lstm", bidirectional)
            if script:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    layer = torch.jit.script(layer)
        else:
            layer = torch.nn.LSTM(dim, HIDDEN, batch_first=True, bidirectional=bidirectional)
        layers.append(layer)
        dim = HIDDEN * (2 if bidirectional else 1)
    return layers


def train_step(native: bool, repeats: int) -> float:
    layers = stack(native, bidirectional=True)
    x, lengths = torch.randn(8, 200, INPUT), torch.full((8,), 200)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        h = x
        for layer in layers:
            h = layer(h, lengths)[0] if native else layer(h)[0]
        h.sum().backward()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def chunk_inference(native: bool, script: bool, chunks: int) -> float:
    layers = stack(native, bidirectional=False, script=script)
    x = torch.randn(1, 4, INPUT)
    states: list = [None] * LAYERS
    times = []
    with torch.inference_mode():
        for _ in range(chunks):
            started = time.perf_counter()
            h = x
            for i, layer in enumerate(layers):
                h, states[i] = layer(h, None, states[i]) if native else layer(h, states[i])
            times.append(time.perf_counter() - started)
    return statistics.median(times[10:])


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--chunks", type=int, default=200)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    torch.set_num_threads(1)
    fused_train, native_train = train_step(False, args.repeats), train_step(True, args.repeats)
    fused_chunk, native_chunk = chunk_inference(False, False, args.chunks), chunk_inference(True, False, args.chunks)
    scripted_chunk = chunk_inference(True, True, args.chunks)
    lines = [
        f"`python {' '.join(sys.argv)}`: CPU, one thread, {LAYERS} x LSTM {HIDDEN} over {INPUT}-dim input.", "",
        "| what | the seeds claim | measured | ratio |", "|---|---|---|---|",
        f"| training step, bidirectional, batch 8 x 200 frames: torch (fused) vs ours | cuDNN ~5x faster than native | {1000 * fused_train:.0f} ms vs {1000 * native_train:.0f} ms | fused {native_train / fused_train:.1f}x faster |",
        f"| inference, one 160 ms chunk (4 frames), unidirectional: torch vs ours | | {1000 * fused_chunk:.2f} ms vs {1000 * native_chunk:.2f} ms | fused {native_chunk / fused_chunk:.1f}x faster |",
        f"| inference per chunk, our cells: TorchScript vs eager | TorchScript ~3x faster | {1000 * scripted_chunk:.2f} ms vs {1000 * native_chunk:.2f} ms | {native_chunk / scripted_chunk:.2f}x |",
        "| mixed precision memory | fp16 ~40 % less | needs a GPU: not measured | |",
    ]  # fmt: skip
    emit(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
