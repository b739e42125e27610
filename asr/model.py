"""Acoustic model: conv subsampling front end, recurrent stack, linear head -> CTC logits.

The model maps normalised features to logits and nothing else: loss, decoding and
feature extraction live elsewhere. Output lengths come from the conv layers' own
kernel/stride/padding settings, never from hand-copied arithmetic.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from asr.config import ModelConfig

RNN_TYPES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


class Conv2dSubsampling(nn.Module):
    """Two 3x3 convolutions over (time, frequency) that divide the frame rate by `factor` (2 or 4).

    (batch, frames, n_mels) -> (batch, frames', channels * mels')
    """

    def __init__(self, n_mels: int, channels: int, factor: int) -> None:
        super().__init__()
        if factor not in (2, 4):
            raise ValueError(f"subsampling factor must be 2 or 4, got {factor}")
        second_time_stride = 2 if factor == 4 else 1
        self.convs = nn.ModuleList(
            [
                nn.Conv2d(1, channels, kernel_size=3, stride=2),
                nn.Conv2d(channels, channels, kernel_size=3, stride=(second_time_stride, 2)),
            ]
        )
        mels = n_mels
        for conv in self.convs:
            mels = _conv_out(mels, conv, dim=1)
        self.output_dim = channels * mels
        # Shortest input that still yields one output frame.
        self.min_frames = 1
        while self.output_lengths(torch.tensor([self.min_frames])).item() < 1:
            self.min_frames += 1

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        x = features.unsqueeze(1)  # (batch, 1, frames, n_mels)
        for conv in self.convs:
            x = torch.relu(conv(x))
        batch, channels, frames, mels = x.shape
        return x.permute(0, 2, 1, 3).reshape(batch, frames, channels * mels)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        for conv in self.convs:
            lengths = _conv_out(lengths, conv, dim=0)
        return lengths


class FrameStacking(nn.Module):
    """Concatenate each `factor` consecutive frames (a low-frame-rate front end with no weights).

    (batch, frames, n_mels) -> (batch, frames // factor, n_mels * factor)
    """

    def __init__(self, n_mels: int, factor: int) -> None:
        super().__init__()
        self.factor = factor
        self.output_dim = n_mels * factor
        self.min_frames = factor

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        batch, frames, mels = features.shape
        whole = frames // self.factor * self.factor
        return features[:, :whole].reshape(batch, whole // self.factor, mels * self.factor)

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return lengths // self.factor


def _conv_out(length, conv: nn.Conv2d, dim: int):
    """Output size along `dim` (0 = time, 1 = frequency) of `conv` for input size `length`."""
    k, s, p, d = conv.kernel_size[dim], conv.stride[dim], conv.padding[dim], conv.dilation[dim]
    return (length + 2 * p - d * (k - 1) - 1) // s + 1


class RecurrentLayer(nn.Module):
    """One LSTM/GRU/RNN layer over a packed sequence, so padding never reaches the backward direction.

    (batch, frames, input_dim) -> (batch, frames, output_dim)
    """

    def __init__(self, input_dim: int, config: ModelConfig) -> None:
        super().__init__()
        cell = RNN_TYPES[config.rnn_type]
        self.rnn = cell(input_dim, config.hidden_size, batch_first=True, bidirectional=config.bidirectional)
        self.output_dim = config.hidden_size * (2 if config.bidirectional else 1)
        self.residual = config.residual and input_dim == self.output_dim
        self.norm = nn.LayerNorm(self.output_dim) if config.layer_norm else nn.Identity()
        self.dropout = nn.Dropout(config.dropout)
        _init_recurrent(self.rnn, config.rnn_type)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        # pack_padded_sequence wants lengths on the CPU: a CPU-GPU sync, once per layer.
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        if self.residual:
            out = out + x
        return self.dropout(self.norm(out))


def _init_recurrent(rnn: nn.RNNBase, rnn_type: str) -> None:
    """Orthogonal recurrent weights per gate, Xavier input weights, forget-gate bias 1 (Jozefowicz et al. 2015)."""
    hidden = rnn.hidden_size
    for name, param in rnn.named_parameters():
        if name.startswith("weight_hh"):
            for gate in param.data.split(hidden, dim=0):
                nn.init.orthogonal_(gate)
        elif name.startswith("weight_ih"):
            nn.init.xavier_uniform_(param.data)
        elif name.startswith("bias"):
            nn.init.zeros_(param.data)
            if rnn_type == "lstm" and name.startswith("bias_ih"):
                param.data[hidden : 2 * hidden] = 1.0  # gate order i, f, g, o


class AcousticModel(nn.Module):
    """Features (batch, frames, n_mels) -> CTC logits (batch, frames', vocab_size)."""

    def __init__(self, n_mels: int, vocab_size: int, config: ModelConfig) -> None:
        super().__init__()
        if config.rnn_type not in RNN_TYPES:
            raise ValueError(f"rnn_type must be one of {sorted(RNN_TYPES)}, got {config.rnn_type!r}")
        self.config = config
        if config.frontend == "stack":
            self.frontend = FrameStacking(n_mels, config.subsampling)
        else:
            self.frontend = Conv2dSubsampling(n_mels, config.conv_channels, config.subsampling)
        layers = []
        dim = self.frontend.output_dim
        for _ in range(config.num_layers):
            layers.append(RecurrentLayer(dim, config))
            dim = layers[-1].output_dim
        self.layers = nn.ModuleList(layers)
        self.head = nn.Linear(dim, vocab_size)

    def forward(self, features: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """features: (batch, frames, n_mels), lengths: (batch,) -> logits (batch, frames', vocab), lengths (batch,)."""
        short = self.frontend.min_frames - features.shape[1]
        if short > 0:
            features = nn.functional.pad(features, (0, 0, 0, short))
        x = self.frontend(features)
        out_lengths = self.output_lengths(lengths)
        for layer in self.layers:
            x = layer(x, out_lengths)
        return self.head(x), out_lengths

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Frames after subsampling for input `lengths` (batch,); at least 1."""
        return self.frontend.output_lengths(lengths.clamp_min(self.frontend.min_frames))

    @property
    def subsampling(self) -> int:
        return self.config.subsampling

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
