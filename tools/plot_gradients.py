#!/usr/bin/env python3
"""How far back the gradient reaches: the norm of dloss/dh_t against t for RNN, GRU and LSTM, as a PNG.

    python tools/plot_gradients.py --audio ../shared/data/ljspeech_part/wavs/LJ001-0001.wav --out benchmarks/gradients.png

One real utterance's log-mel features (100 frames a second, global CMVN of the utterance
itself) run through one unidirectional layer of each type (tanh RNN, GRU, LSTM; the same
width, the toolkit's initialisation: orthogonal recurrent weights, Xavier input weights,
forget-gate bias 1) and a linear head, stepped one frame at a time so that every h_t is a
tensor of its own. Left: the loss of the last frame alone (cross-entropy against blank),
so the curve is the signal one output sends back through time, ||dL_T/dh_t|| against T - t
(the vanishing-gradient picture, Bengio et al. 1994; Hochreiter & Schmidhuber 1997). Right:
the utterance's CTC loss against its transcript, ||dL/dh_t|| against t. `--trained-steps`
first trains each model that many CTC steps on the same utterance (0 = at initialisation).
The medians over `--seeds` initialisations are drawn, with the range shaded.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asr.audio import load  # noqa: E402
from asr.config import FeatureConfig  # noqa: E402
from asr.features import CmvnAccumulator, FeatureExtractor  # noqa: E402
from asr.model import _init_recurrent  # noqa: E402
from asr.text import normalize_text  # noqa: E402
from asr.tokenizer import BLANK, Tokenizer  # noqa: E402

CELLS = {"rnn": torch.nn.RNNCell, "gru": torch.nn.GRUCell, "lstm": torch.nn.LSTMCell}
COLOURS = {"rnn": "tab:red", "gru": "tab:green", "lstm": "tab:blue"}


def features_of(audio: Path) -> torch.Tensor:
    """(frames, 80) log-mel features normalised with the utterance's own statistics."""
    samples, _ = load(audio)
    config = FeatureConfig(n_mels=80)
    raw = FeatureExtractor(config)(samples)
    stats = CmvnAccumulator(80)
    stats.add(raw)
    return FeatureExtractor(config, stats.result())(samples)


class Stepped(torch.nn.Module):
    """One recurrent cell stepped frame by frame, plus a linear head; keeps every h_t."""

    def __init__(self, kind: str, n_in: int, hidden: int, vocab: int) -> None:
        super().__init__()
        self.kind = kind
        self.cell = CELLS[kind](n_in, hidden)
        _init_recurrent(self.cell, kind)
        self.head = torch.nn.Linear(hidden, vocab)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """features (frames, n_in) -> (log-probs (frames, vocab), [h_t (1, hidden)] of every frame)."""
        h = features.new_zeros(1, self.cell.hidden_size)
        c = h.clone()
        states = []
        for frame in features:
            if self.kind == "lstm":
                h, c = self.cell(frame[None], (h, c))
            else:
                h = self.cell(frame[None], h)
            h.retain_grad()
            states.append(h)
        return self.head(torch.cat(states)).log_softmax(-1), states


def ctc_loss(logprobs: torch.Tensor, targets: list[int]) -> torch.Tensor:
    return torch.nn.functional.ctc_loss(logprobs[:, None], torch.tensor([targets]), torch.tensor([len(logprobs)]),
                                        torch.tensor([len(targets)]), blank=BLANK)  # fmt: skip


def gradient_norms(model: Stepped, features: torch.Tensor, targets: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(||dL_T/dh_t|| for t = 0..T-1 with L_T the last frame's loss, ||dL_CTC/dh_t||)."""
    norms = []
    for last_only in (True, False):
        model.zero_grad()
        logprobs, states = model(features)
        loss = -logprobs[-1, BLANK] if last_only else ctc_loss(logprobs, targets)
        loss.backward()
        norms.append(np.array([float(h.grad.norm()) for h in states]))
    return norms[0], norms[1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--audio", type=Path, default=ROOT.parent / "shared/data/ljspeech_part/wavs/LJ001-0001.wav")
    p.add_argument("--text", help="the transcript (default: the LJ Speech metadata.csv beside wavs/, normalised column)")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--seconds", type=float, default=5.0, help="use the first this many seconds (default: %(default)s)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--trained-steps", type=int, default=0)
    p.add_argument("--out", type=Path, default=Path("gradients.png"))
    args = p.parse_args()
    text = args.text or lj_transcript(args.audio)
    tokenizer = Tokenizer.english()
    features = features_of(args.audio)
    full_frames = len(features)
    features = features[: int(args.seconds * 100)]
    # The transcript's share of the kept frames, so that CTC stays feasible.
    targets = tokenizer.encode(" ".join(text.split()[: max(1, round(len(text.split()) * len(features) / full_frames))]))
    curves = {}
    for kind in CELLS:
        runs = []
        for seed in range(args.seeds):
            torch.manual_seed(seed)
            model = Stepped(kind, features.shape[1], args.hidden, tokenizer.size)
            train(model, features, targets, args.trained_steps)
            runs.append(gradient_norms(model, features, targets))
        curves[kind] = runs
        last = np.median([r[0] for r in runs], axis=0)
        print(f"{kind}: ||dL_T/dh_t|| at T-t = 0, 10, 50, 100, 200 frames: "
              + ", ".join(f"{last[-1 - k]:.2e}" for k in (0, 10, 50, 100, 200) if k < len(last)))  # fmt: skip
    draw(curves, args, len(features))
    print(f"wrote {args.out}")
    return 0


def lj_transcript(audio: Path) -> str:
    metadata = audio.parent.parent / "metadata.csv"
    for line in metadata.read_text(encoding="utf-8").splitlines():
        uid, _, normalised = line.split("|", 2)
        if uid == audio.stem:
            return normalize_text(normalised)
    raise SystemExit(f"{audio}: no line for {audio.stem} in {metadata}; give --text")


def train(model: Stepped, features: torch.Tensor, targets: list[int], steps: int) -> None:
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    for _ in range(steps):
        optimizer.zero_grad()
        ctc_loss(model(features)[0], targets).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        optimizer.step()


def draw(curves: dict, args: argparse.Namespace, frames: int) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4.2), dpi=110)
    FigureCanvasAgg(figure)
    left, right = figure.subplots(1, 2)
    back = np.arange(frames)
    for kind, runs in curves.items():
        last = np.stack([r[0][::-1] for r in runs])  # index = frames before the last
        whole = np.stack([r[1] for r in runs])
        for axis, values, x in ((left, last, back), (right, whole, np.arange(frames) / 100)):
            axis.plot(x, np.median(values, 0), color=COLOURS[kind], label=kind.upper(), linewidth=1.2)
            axis.fill_between(x, values.min(0), values.max(0), color=COLOURS[kind], alpha=0.2, linewidth=0)
    state = "at initialisation" if not args.trained_steps else f"after {args.trained_steps} CTC steps"
    left.set(yscale="log", xlabel="T - t (frames of 10 ms before the last)", ylabel="||dL_T / dh_t||",
             title="loss of the last frame only")  # fmt: skip
    right.set(yscale="log", xlabel="t (seconds)", ylabel="||dL / dh_t||", title="CTC loss of the utterance")
    left.legend()
    figure.suptitle(f"{args.audio.name}, one {args.hidden}-unit layer, {state}, median of {args.seeds} seeds (range shaded)")
    figure.tight_layout()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.out)


if __name__ == "__main__":
    sys.exit(main())
