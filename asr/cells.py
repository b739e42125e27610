"""Our own recurrent layers, written from their gate equations: Elman RNN (tanh or ReLU), LSTM
(optional peepholes, Gers & Schmidhuber 2000; optional layer norm on the gate pre-activations
and the cell state, Ba et al. 2016) and GRU (Cho et al. 2014), with variational dropout on the
inputs and the recurrent state (one mask per sequence, Gal & Ghahramani 2016) and optional
weight dropout on the recurrent matrices (Merity et al. 2017).

`NativeRNN` is one layer, one or two `Direction`s, each holding the weights `nn.LSTM` /
`nn.GRU` / `nn.RNN` hold for that direction (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`:
same shapes, same gate order), taking padded batches with lengths instead of packed ones and an
optional initial state, returned updated; with every option off and copied weights it computes
what torch's layer computes (`tests/test_cells.py`).
The time loop is plain PyTorch: slower than cuDNN or PyTorch's fused CPU kernels
(`tools/bench_cells.py` measures how much), and scriptable with `torch.jit.script`.
"""

from __future__ import annotations

import math
from typing import Optional

import torch
from torch import nn

GATES = {"lstm": 4, "gru": 3, "rnn": 1}


class Direction(nn.Module):
    """One direction of one layer: the gate equations and the time loop."""

    def __init__(self, input_size: int, hidden_size: int, cell: str, relu: bool, layer_norm: bool, peephole: bool) -> None:
        super().__init__()
        gates = GATES[cell] * hidden_size
        self.cell, self.relu, self.hidden_size, self.use_peepholes = cell, relu, hidden_size, peephole
        self.weight_ih = nn.Parameter(torch.empty(gates, input_size))
        self.weight_hh = nn.Parameter(torch.empty(gates, hidden_size))
        self.bias_ih = nn.Parameter(torch.zeros(gates))
        self.bias_hh = nn.Parameter(torch.zeros(gates))
        self.peepholes = nn.Parameter(torch.zeros(3 if peephole else 0, hidden_size))  # i, f, o; empty when off
        # Ba et al. 2016: the input and recurrent pre-activations normalised apart, and the cell state.
        self.norm_ih = nn.LayerNorm(gates) if layer_norm else nn.Identity()
        self.norm_hh = nn.LayerNorm(gates) if layer_norm else nn.Identity()
        self.norm_c = nn.LayerNorm(hidden_size) if layer_norm else nn.Identity()
        bound = 1 / math.sqrt(hidden_size)  # nn.LSTM's default; asr.model re-initialises anyway
        for param in (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh):
            nn.init.uniform_(param, -bound, bound)

    def forward(self, x: torch.Tensor, valid: torch.Tensor, h: torch.Tensor, c: torch.Tensor, w_hh: torch.Tensor, h_mask: Optional[torch.Tensor]):
        """x (batch, frames, input), valid (batch, frames) 1/0, h and c (batch, hidden) -> (outputs, h, c)."""
        projected = self.norm_ih(x @ self.weight_ih.t()) + self.bias_ih  # all frames at once: only the recurrence loops
        outputs = []
        for t in range(x.shape[1]):
            recurrent = self.norm_hh((h if h_mask is None else h * h_mask) @ w_hh.t()) + self.bias_hh
            new_h, new_c = self.step(projected[:, t], recurrent, h, c)
            keep = valid[:, t : t + 1]  # past its length a sequence's state stands still
            h = keep * new_h + (1 - keep) * h
            c = keep * new_c + (1 - keep) * c
            outputs.append(new_h * keep)
        if not outputs:
            return x.new_zeros(x.shape[0], 0, self.hidden_size), h, c
        return torch.stack(outputs, 1), h, c

    def step(self, xi: torch.Tensor, hh: torch.Tensor, h: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One frame from the input and recurrent pre-activations (gate order as torch's: LSTM i f g o, GRU r z n)."""
        if self.cell == "rnn":
            pre = xi + hh
            return (torch.relu(pre) if self.relu else torch.tanh(pre)), c
        if self.cell == "gru":
            xr, xz, xn = xi.chunk(3, -1)
            hr, hz, hn = hh.chunk(3, -1)
            r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
            n = torch.tanh(xn + r * hn)
            return (1 - z) * n + z * h, c
        i, f, g, o = (xi + hh).chunk(4, -1)
        if self.use_peepholes:
            i, f = i + self.peepholes[0] * c, f + self.peepholes[1] * c
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        if self.use_peepholes:
            o = o + self.peepholes[2] * c
        return torch.sigmoid(o) * torch.tanh(self.norm_c(c)), c


class NativeRNN(nn.Module):
    """One recurrent layer, one or two directions. (batch, frames, input) -> (batch, frames, hidden * directions)."""

    def __init__(
        self, input_size: int, hidden_size: int, cell: str = "lstm", bidirectional: bool = False, activation: str = "tanh",
        layer_norm: bool = False, peephole: bool = False, input_dropout: float = 0.0, recurrent_dropout: float = 0.0,
        weight_dropout: float = 0.0,
    ) -> None:  # fmt: skip
        super().__init__()
        if cell not in GATES:
            raise ValueError(f"cell must be one of {', '.join(GATES)}, got {cell!r}")
        if peephole and cell != "lstm":
            raise ValueError("peephole connections are an LSTM's")
        self.hidden_size, self.input_size = hidden_size, input_size
        self.input_dropout, self.recurrent_dropout, self.weight_dropout = input_dropout, recurrent_dropout, weight_dropout
        relu = activation == "relu"
        self.directions = nn.ModuleList(
            [Direction(input_size, hidden_size, cell, relu, layer_norm, peephole) for _ in range(2 if bidirectional else 1)]
        )

    def forward(self, x: torch.Tensor, lengths: Optional[torch.Tensor] = None, hx: Optional[tuple[torch.Tensor, torch.Tensor]] = None):
        """x: (batch, frames, input); lengths: (batch,) (None: all full); hx: (h, c), each (directions,
        batch, hidden) (c unused but by LSTMs). -> (outputs (batch, frames, hidden * directions), (h, c)
        at each sequence's last frame). Outputs past a sequence's length are zeros."""
        batch, frames = x.shape[0], x.shape[1]
        if lengths is None:
            lengths = torch.full((batch,), frames, dtype=torch.long, device=x.device)
        lengths = lengths.to(x.device)
        if hx is None:
            zeros = x.new_zeros(len(self.directions), batch, self.hidden_size)
            hx = (zeros, zeros)
        valid = (torch.arange(frames, device=x.device)[None, :] < lengths[:, None]).to(x.dtype)  # (batch, frames)
        if self.training and self.input_dropout > 0:  # variational: one mask per sequence, every frame
            x = x * _mask(x.new_empty(batch, 1, x.shape[2]), self.input_dropout)
        outs, hs, cs = [], [], []
        for d, direction in enumerate(self.directions):
            w_hh = direction.weight_hh
            if self.training and self.weight_dropout > 0:
                w_hh = nn.functional.dropout(w_hh, self.weight_dropout)  # DropConnect: one matrix per batch
            h_mask: Optional[torch.Tensor] = None
            if self.training and self.recurrent_dropout > 0:
                h_mask = _mask(x.new_empty(batch, self.hidden_size), self.recurrent_dropout)
            xd = x if d == 0 else _reverse_within(x, lengths)
            out, h, c = direction(xd, valid, hx[0][d], hx[1][d], w_hh, h_mask)
            outs.append(out if d == 0 else _reverse_within(out, lengths))
            hs.append(h)
            cs.append(c)
        return torch.cat(outs, -1), (torch.stack(hs), torch.stack(cs))


def _mask(template: torch.Tensor, p: float) -> torch.Tensor:
    """Inverted-dropout mask shaped like `template`: 0 with probability p, else 1 / (1 - p)."""
    return template.bernoulli_(1 - p) / (1 - p)


def _reverse_within(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Each sequence (batch, frames, dim) reversed within its own length; padding stays where it is."""
    frames = x.shape[1]
    t = torch.arange(frames, device=x.device)[None, :]
    index = torch.where(t < lengths[:, None], lengths[:, None] - 1 - t, t)
    return x.gather(1, index[..., None].expand(-1, -1, x.shape[2]))
