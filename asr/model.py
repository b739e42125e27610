"""Acoustic model: conv subsampling front end, recurrent stack, optional lookahead, linear head -> CTC logits.

The model maps normalised features to logits and nothing else: loss, decoding and
feature extraction live elsewhere. Output lengths come from the conv layers' own
kernel/stride/padding settings, never from hand-copied arithmetic.

A unidirectional model also streams: `initial_state`, then `step(features, state)` per
chunk and `flush(state)` at the end give the logits `forward` gives for the whole
sequence. The state is explicit and batched (one row per stream): the front end's
unconsumed feature frames (its convolutions have no time padding, so a window of
`window_frames` frames makes each output frame), the recurrent state, and the recurrent
outputs still waiting for their `lookahead` future frames. `ChunkedStreaming` does the
stepping over two pieces, `encode_chunk` and `head_chunk`, which `asr.export` also exports.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from asr.cells import NativeRNN
from asr.config import ModelConfig

RNN_TYPES = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
RNN_FUNCTIONS = {"GRU": torch.gru, "RNN_TANH": torch.rnn_tanh, "RNN_RELU": torch.rnn_relu}  # by nn.RNNBase.mode


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
        # Shortest input that still yields one output frame: the time receptive field.
        self.min_frames = 1
        while self.output_lengths(torch.tensor([self.min_frames])).item() < 1:
            self.min_frames += 1
        self.stride = 2 * second_time_stride

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
        self.stride = factor

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
    """One LSTM/GRU/RNN layer; a bidirectional one runs over a packed sequence, so padding never
    reaches the backward direction.

    (batch, frames, input_dim) -> (batch, frames, output_dim)
    """

    def __init__(self, input_dim: int, config: ModelConfig) -> None:
        super().__init__()
        self.native, self.lstm = config.rnn_impl == "native", config.rnn_type == "lstm"
        if self.native:
            self.rnn = NativeRNN(
                input_dim, config.hidden_size, config.rnn_type, config.bidirectional, config.rnn_activation, config.rnn_layer_norm,
                config.peephole, config.input_dropout, config.recurrent_dropout, config.weight_dropout,
            )  # fmt: skip
        else:
            extra = {"nonlinearity": config.rnn_activation} if config.rnn_type == "rnn" else {}
            self.rnn = RNN_TYPES[config.rnn_type](input_dim, config.hidden_size, batch_first=True, bidirectional=config.bidirectional, **extra)
        self.output_dim = config.hidden_size * (2 if config.bidirectional else 1)
        self.residual = config.residual and input_dim == self.output_dim
        self.norm = nn.LayerNorm(self.output_dim) if config.layer_norm else nn.Identity()
        self.dropout = nn.Dropout(config.dropout)
        _init_recurrent(self.rnn, config.rnn_type)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        if self.native:  # padded frames are masked inside the cells
            return self._after(self.rnn(x, lengths)[0], x)
        # Packing costs up to 2.7 times the time on the CPU (each step's slice of a packed sequence
        # takes a full-size gradient buffer, and oneDNN's fused LSTM never runs), so there the
        # padded batch runs as is: a forward direction cannot carry padding back to earlier
        # frames, and the backward direction reads each utterance reversed within its length.
        if not self.rnn.bidirectional:
            return self._after(self.rnn(x)[0], x)
        if x.device.type == "cpu":
            return self._after(self._bidirectional_padded(x, lengths), x)
        # pack_padded_sequence wants lengths on the CPU: a CPU-GPU sync, once per layer.
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.rnn(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=x.shape[1])
        return self._after(out, x)

    def _bidirectional_padded(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(batch, frames, input_dim), padding after each utterance -> (batch, frames, 2 * hidden), both
        directions run forward-only with the module's own weights; the same outputs as over a packed
        sequence, zeros past each utterance's end included."""
        frames = torch.arange(x.shape[1], device=x.device)[None, :]
        lengths = lengths.to(x.device)[:, None]
        valid = frames < lengths
        reverse = torch.where(valid, lengths - 1 - frames, frames)  # its own inverse
        outputs = []
        for suffix, inputs in (("", x), ("_reverse", x.gather(1, reverse[..., None].expand_as(x)))):
            weights = [getattr(self.rnn, f"{kind}_l0{suffix}") for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
            h0 = inputs.new_zeros(1, x.shape[0], self.rnn.hidden_size)
            args = (weights, True, 1, 0.0, self.training, False, True)  # biases, layers, dropout, train, bidirectional, batch_first
            if self.lstm:
                out = torch.lstm(inputs, (h0, h0), *args)[0]
            else:
                out = RNN_FUNCTIONS[self.rnn.mode](inputs, h0, *args)[0]
            outputs.append(out)
        backward = outputs[1].gather(1, reverse[..., None].expand_as(outputs[1]))
        return torch.cat([outputs[0], backward], dim=2) * valid[..., None]

    def step(self, x: torch.Tensor, hidden):
        """A chunk (batch, frames, input_dim) of a stream, from `hidden` (None at the start; torch's format:
        (h, c) for an LSTM, h otherwise) -> (output, hidden)."""
        if not self.native:
            out, hidden = self.rnn(x, hidden)
            return self._after(out, x), hidden
        hx = None if hidden is None else (hidden if self.lstm else (hidden, torch.zeros_like(hidden)))
        out, (h, c) = self.rnn(x, None, hx)
        return self._after(out, x), ((h, c) if self.lstm else h)

    def _after(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        if self.residual:
            out = out + x
        return self.dropout(self.norm(out))


class Lookahead(nn.Module):
    """x + a depthwise convolution over frames t..t+N (the row convolution of Wang et al. 2016, as
    deepspeech.pytorch's `Lookahead`): each output frame sees N future frames of a unidirectional stack.

    (batch, frames + N, dim), the last N frames being the future of the others -> (batch, frames, dim).
    Zero-initialised, so it starts as the identity.
    """

    def __init__(self, dim: int, frames: int) -> None:
        super().__init__()
        self.frames = frames
        self.conv = nn.Conv1d(dim, dim, kernel_size=frames + 1, groups=dim, bias=False)
        nn.init.zeros_(self.conv.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv(x.transpose(1, 2)).transpose(1, 2)
        return x[:, : y.shape[1]] + y


@dataclass
class StreamState:
    """A batch of streams between `step` calls (see the module docstring).

    features: (batch, frames, n_mels) not yet consumed by the front end; h, c: (layers, batch,
    hidden) recurrent state (c unused but by LSTMs; zeros at the start, as torch's RNNs begin);
    pending: (batch, frames <= lookahead, dim) recurrent outputs waiting for their future frames;
    started: whether the front end has made a frame yet.
    """

    features: torch.Tensor
    h: torch.Tensor
    c: torch.Tensor
    pending: torch.Tensor
    started: bool = False


class ChunkedStreaming:
    """`initial_state` / `step` / `flush` over two pieces a subclass provides, so the eager model and
    its exported forms (`asr.export`) stream through the same code:

    encode_chunk(window (batch, frames, n_mels), h, c) -> (recurrent outputs (batch, frames', dim), h, c),
        `window` being whole front-end windows: (frames' - 1) * stride + window_frames frames;
    head_chunk(outputs (batch, frames' + lookahead, dim)) -> logits (batch, frames', vocab).

    Geometry attributes: window_frames, stride, n_mels, output_dim, vocab_size, lookahead_count,
    rnn_layers, hidden_size, config, device.
    """

    @property
    def lookahead_frames(self) -> int:
        """Feature frames (10 ms) past an output frame's own span that it needs: the front end's
        window overhang plus the lookahead layer's future output frames."""
        return self.window_frames - self.stride + self.stride * self.lookahead_count

    def initial_state(self, batch: int = 1) -> StreamState:
        if self.config.bidirectional:
            raise ValueError("a bidirectional model needs the whole utterance; only a unidirectional one streams")
        device = self.device
        zeros = torch.zeros(self.rnn_layers, batch, self.hidden_size, device=device)
        return StreamState(
            torch.zeros(batch, 0, self.n_mels, device=device), zeros, zeros.clone(), torch.zeros(batch, 0, self.output_dim, device=device)
        )

    def step(self, features: torch.Tensor, state: StreamState) -> tuple[torch.Tensor, StreamState]:
        """The next feature frames (batch, frames, n_mels) of each stream -> (the logits they complete,
        (batch, frames', vocab); the new state)."""
        buffer = torch.cat([state.features, features], 1)
        count = 0 if buffer.shape[1] < self.window_frames else (buffer.shape[1] - self.window_frames) // self.stride + 1
        if count == 0:
            return self._no_logits(buffer.shape[0]), StreamState(buffer, state.h, state.c, state.pending, state.started)
        x, h, c = self.encode_chunk(buffer[:, : (count - 1) * self.stride + self.window_frames], state.h, state.c)
        logits, pending = self._look_ahead(torch.cat([state.pending, x], 1))
        return logits, StreamState(buffer[:, count * self.stride :], h, c, pending, True)

    def flush(self, state: StreamState) -> torch.Tensor:
        """End of the streams -> the logits still owed (batch, frames', vocab). Like `forward`, a stream
        shorter than the front end's window is zero-padded to one window, and the last frames'
        future is zeros."""
        logits = self._no_logits(state.features.shape[0])
        if not state.started and state.features.shape[1] > 0:
            short = self.window_frames - state.features.shape[1]
            logits, state = self.step(state.features.new_zeros(state.features.shape[0], short, self.n_mels), state)
        if self.lookahead_count == 0 or state.pending.shape[1] == 0:
            return logits
        future = state.pending.new_zeros(state.pending.shape[0], self.lookahead_count, self.output_dim)
        rest, _ = self._look_ahead(torch.cat([state.pending, future], 1))
        return torch.cat([logits, rest], 1)

    def _look_ahead(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Recurrent outputs (batch, frames, dim) -> (logits of those whose future is there, the rest)."""
        ready = x.shape[1] - self.lookahead_count
        if ready <= 0:
            return self._no_logits(x.shape[0]), x
        return self.head_chunk(x), x[:, ready:]

    def _no_logits(self, batch: int) -> torch.Tensor:
        return torch.zeros(batch, 0, self.vocab_size, device=self.device)


def _init_recurrent(rnn: nn.RNNBase, rnn_type: str) -> None:
    """Orthogonal recurrent weights per gate, Xavier input weights, forget-gate bias 1 (Jozefowicz et al. 2015)."""
    hidden = rnn.hidden_size
    for full_name, param in rnn.named_parameters():
        name = full_name.rsplit(".", 1)[-1]  # our cells' weights are directions.0.weight_hh ...
        if name.startswith("weight_hh"):
            for gate in param.data.split(hidden, dim=0):
                nn.init.orthogonal_(gate)
        elif name.startswith("weight_ih"):
            nn.init.xavier_uniform_(param.data)
        elif name.startswith("bias"):
            nn.init.zeros_(param.data)
            if rnn_type == "lstm" and name.startswith("bias_ih"):
                param.data[hidden : 2 * hidden] = 1.0  # gate order i, f, g, o


class AcousticModel(ChunkedStreaming, nn.Module):
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
        self.lookahead = Lookahead(dim, config.lookahead) if config.lookahead else None
        self.head = nn.Linear(dim, vocab_size)
        self.n_mels, self.output_dim = n_mels, dim

    def forward(self, features: torch.Tensor, lengths: torch.Tensor, tbptt_frames: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """features: (batch, frames, n_mels), lengths: (batch,) -> logits (batch, frames', vocab), lengths (batch,).

        `tbptt_frames` > 0 (a unidirectional model): the recurrent stack runs over consecutive chunks of
        that many output frames, its state carried from chunk to chunk but detached, so gradients
        flow back through at most one chunk of recurrence (truncated BPTT, Williams & Peng 1990).
        """
        short = self.frontend.min_frames - features.shape[1]
        if short > 0:
            features = nn.functional.pad(features, (0, 0, 0, short))
        x = self.frontend(features)
        out_lengths = self.output_lengths(lengths)
        if tbptt_frames > 0:
            x = self._truncated_recurrence(x, tbptt_frames)
        else:
            for layer in self.layers:
                x = layer(x, out_lengths)
        if self.lookahead is not None:
            # Frames past each utterance's end are zeros, as they are after a stream's last frame.
            valid = torch.arange(x.shape[1], device=x.device)[None, :] < out_lengths[:, None].to(x.device)
            x = self.lookahead(nn.functional.pad(x * valid[..., None], (0, 0, 0, self.lookahead.frames)))
        return self.head(x), out_lengths

    def _truncated_recurrence(self, x: torch.Tensor, chunk: int) -> torch.Tensor:
        """(batch, frames, dim) through the stack in chunks of `chunk` frames with detached state. Frames
        past an utterance's end are computed too (no packing); the loss never reads them, and state
        only flows forward, so they cannot reach a frame that counts."""
        if self.config.bidirectional:
            raise ValueError("truncated BPTT needs a unidirectional model (a backward direction would see the future)")
        hidden: list = [None] * len(self.layers)
        pieces = []
        for piece in x.split(chunk, dim=1):
            for i, layer in enumerate(self.layers):
                piece, hidden[i] = layer.step(piece, hidden[i])
                hidden[i] = tuple(h.detach() for h in hidden[i]) if isinstance(hidden[i], tuple) else hidden[i].detach()
            pieces.append(piece)
        return torch.cat(pieces, 1)

    # -- streaming (the stepping itself is ChunkedStreaming's) ---------------------------------------

    def encode_chunk(self, window: torch.Tensor, h: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Whole front-end windows (batch, frames, n_mels) and the recurrent state (layers, batch, hidden)
        -> (recurrent outputs (batch, frames', dim), new h, new c)."""
        x, hs, cs = self.frontend(window), [], []
        lstm = self.config.rnn_type == "lstm"
        for i, layer in enumerate(self.layers):
            x, hidden = layer.step(x, (h[i : i + 1], c[i : i + 1]) if lstm else h[i : i + 1])
            hs.append(hidden[0] if lstm else hidden)
            cs.append(hidden[1] if lstm else c[i : i + 1])
        if not self.layers:
            return x, h, c
        return x, torch.cat(hs), torch.cat(cs)

    def head_chunk(self, x: torch.Tensor) -> torch.Tensor:
        """Recurrent outputs (batch, frames + lookahead, dim), the last `lookahead` being future frames
        -> logits (batch, frames, vocab)."""
        return self.head(x if self.lookahead is None else self.lookahead(x))

    @property
    def window_frames(self) -> int:
        return self.frontend.min_frames

    @property
    def stride(self) -> int:
        return self.frontend.stride

    @property
    def vocab_size(self) -> int:
        return self.head.out_features

    @property
    def lookahead_count(self) -> int:
        return self.config.lookahead

    @property
    def rnn_layers(self) -> int:
        return len(self.layers)

    @property
    def hidden_size(self) -> int:
        return self.config.hidden_size

    @property
    def device(self) -> torch.device:
        """Where the model runs (read from its first parameter: a quantized head has no `.weight` tensor)."""
        return next(self.parameters()).device

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        """Frames after subsampling for input `lengths` (batch,); at least 1."""
        return self.frontend.output_lengths(lengths.clamp_min(self.frontend.min_frames))

    @property
    def subsampling(self) -> int:
        return self.config.subsampling

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
