#!/usr/bin/env python3
"""Recurrent layers on the CPU: the padded batch as `asr.model.RecurrentLayer` runs it against a packed sequence.

    python tools/bench_padding.py --out benchmarks/padding.md

One training step (forward + backward) through a stack of `RecurrentLayer`s, the same layers
and weights both ways, median of --repeats, the two ways alternating so that a noisy machine
slows both alike. "packed" is what the layers did until 2026-12-06 (`pack_padded_sequence`,
torch's LSTM/GRU, `pad_packed_sequence`); "padded" is what they do now on the CPU (forward-only:
the padded batch as is; bidirectional: each utterance reversed within its length for the
backward direction). The two give the same outputs and gradients (tests/test_model.py).
Batches are those of the duration bucketing: 8 utterances whose lengths fall within 15 % of
the longest.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asr.config import ModelConfig  # noqa: E402
from asr.model import RecurrentLayer  # noqa: E402
from report import emit  # noqa: E402  (tools/report.py, beside this script)

# name, input dim (what the x4 conv front end makes of 80 mels), layers, units, bidirectional, cell, frames
STACKS = [
    ("the demo's streaming model", 304, 3, 192, False, "lstm", 100),
    ("the demo's bidirectional model", 304, 3, 128, True, "lstm", 100),
    ("AN4's model", 608, 3, 256, True, "lstm", 100),
    ("EESEN size (LibriSpeech `conf/eesen.yaml`)", 608, 4, 320, True, "lstm", 200),
    ("the same with GRUs", 608, 4, 320, True, "gru", 200),
]


def packed_forward(layer: RecurrentLayer, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    out, _ = pad_packed_sequence(layer.rnn(packed)[0], batch_first=True, total_length=x.shape[1])
    return layer._after(out, x)


def step_seconds(layers: list[RecurrentLayer], x: torch.Tensor, lengths: torch.Tensor, packed: bool) -> float:
    started = time.perf_counter()
    h = x
    for layer in layers:
        h = packed_forward(layer, h, lengths) if packed else layer(h, lengths)
    h.square().sum().backward()
    return time.perf_counter() - started


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", type=Path)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    lines = [
        f"`python {' '.join(sys.argv)}`: CPU, {args.threads} torch thread(s), forward + backward of one batch "
        f"of 8 utterances (lengths within 15 % of the longest), median of {args.repeats}.",
        "",
        "| stack | batch frames | packed | padded (now) | speed-up |",
        "|---|---|---|---|---|",
    ]
    for name, input_dim, num_layers, units, bidirectional, cell, frames in STACKS:
        torch.manual_seed(0)
        config = ModelConfig(hidden_size=units, bidirectional=bidirectional, rnn_type=cell, dropout=0.1)
        layers, dim = [], input_dim
        for _ in range(num_layers):
            layers.append(RecurrentLayer(dim, config).train())
            dim = layers[-1].output_dim
        x = torch.randn(8, frames, input_dim, requires_grad=True)
        lengths = torch.linspace(frames, int(frames * 0.85), 8).round().long()
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.repeats + 1):  # the first round warms up and is dropped
            for packed in (True, False):
                times[packed].append(step_seconds(layers, x, lengths, packed))
        packed_s, padded_s = statistics.median(times[True][1:]), statistics.median(times[False][1:])
        shape = f"{num_layers} x {'bi' if bidirectional else 'uni'}{cell.upper()} {units}"
        lines.append(f"| {name}: {shape} | {frames} | {1000 * packed_s:.0f} ms | {1000 * padded_s:.0f} ms | **{packed_s / padded_s:.1f}x** |")
    emit(lines, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
