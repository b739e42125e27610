"""asr/cells.py: our own cells against torch's layers (every option off, copied weights), variational dropout's
one mask per sequence, scripted == eager, and the model and streaming built on them."""

import pytest
import torch

from asr.cells import NativeRNN
from asr.config import ConfigError, ModelConfig
from asr.model import AcousticModel

TORCH = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}


def _pair(cell: str, bidirectional: bool, activation: str = "tanh"):
    torch.manual_seed(0)
    extra = {"nonlinearity": activation} if cell == "rnn" else {}
    theirs = TORCH[cell](5, 6, batch_first=True, bidirectional=bidirectional, **extra)
    ours = NativeRNN(5, 6, cell, bidirectional, activation)
    with torch.no_grad():
        for d, suffix in enumerate(["", "_reverse"][: 2 if bidirectional else 1]):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(ours.directions[d], name).copy_(getattr(theirs, f"{name}_l0{suffix}"))
    return ours, theirs


@pytest.mark.parametrize("cell,activation", [("lstm", "tanh"), ("gru", "tanh"), ("rnn", "tanh"), ("rnn", "relu")])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_equal_to_torch_forward_and_backward_on_mixed_lengths(cell, activation, bidirectional):
    ours, theirs = _pair(cell, bidirectional, activation)
    lengths = torch.tensor([9, 4, 1, 7])
    x = torch.randn(4, 9, 5)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    packed = torch.nn.utils.rnn.pack_padded_sequence(x2, lengths, batch_first=True, enforce_sorted=False)
    out, hidden = theirs(packed)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=9)
    mine, (h, c) = ours(x1, lengths)
    assert torch.allclose(mine, out, atol=1e-5)
    assert torch.allclose(h, hidden[0] if cell == "lstm" else hidden, atol=1e-5)
    if cell == "lstm":
        assert torch.allclose(c, hidden[1], atol=1e-5)
    weights = torch.randn_like(out)
    (mine * weights).sum().backward()
    (out * weights).sum().backward()
    assert torch.allclose(x1.grad, x2.grad, atol=1e-5)
    for d, suffix in enumerate(["", "_reverse"][: 2 if bidirectional else 1]):
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            assert torch.allclose(getattr(ours.directions[d], name).grad, getattr(theirs, f"{name}_l0{suffix}").grad, atol=1e-5), name


def _identity_relu_rnn(**dropout) -> NativeRNN:
    """h_t = relu(mask_x * x_t + mask_h * h_{t-1}): the dropout masks show through unchanged."""
    rnn = NativeRNN(8, 8, "rnn", activation="relu", **dropout).train()
    with torch.no_grad():
        d = rnn.directions[0]
        d.weight_ih.copy_(torch.eye(8)), d.weight_hh.zero_(), d.bias_ih.zero_(), d.bias_hh.zero_()
    return rnn


def test_variational_dropout_keeps_one_mask_per_sequence():
    torch.manual_seed(0)
    out, _ = _identity_relu_rnn(input_dropout=0.5)(torch.ones(16, 10, 8))  # the input mask at every frame
    assert torch.all(out == out[:, :1]) and set(out.unique().tolist()) == {0.0, 2.0}
    assert len({tuple(row.tolist()) for row in out[:, 0]}) > 1  # one mask per sequence, not per batch
    rnn = _identity_relu_rnn(recurrent_dropout=0.5)
    with torch.no_grad():
        rnn.directions[0].weight_hh.copy_(torch.eye(8))
    x = torch.zeros(16, 6, 8)
    x[:, 0] = 1.0
    out, _ = rnn(x)  # h_t = mask * h_{t-1}: a unit dies at once and stays dead, or doubles every frame
    for t in range(1, 6):
        assert torch.equal(out[:, t], out[:, 1] * 2.0 ** (t - 1))
    rnn.eval()
    assert torch.equal(rnn(x)[0], x[:, :1].expand(-1, 6, -1))  # no dropout in eval mode


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_scripted_equals_eager_with_every_option(cell):
    torch.manual_seed(0)
    ours = NativeRNN(5, 6, cell, bidirectional=True, layer_norm=True, peephole=cell == "lstm").eval()
    if cell == "lstm":
        torch.nn.init.normal_(ours.directions[0].peepholes)
    scripted = torch.jit.script(ours)
    x, lengths = torch.randn(3, 8, 5), torch.tensor([8, 5, 2])
    (a, (ha, ca)), (b, (hb, cb)) = ours(x, lengths), scripted(x, lengths)
    assert torch.allclose(a, b, atol=1e-6) and torch.allclose(ha, hb, atol=1e-6) and torch.allclose(ca, cb, atol=1e-6)


def test_options_change_the_lstm():
    x = torch.randn(2, 6, 5, generator=torch.Generator().manual_seed(1))
    torch.manual_seed(0)
    plain, _ = NativeRNN(5, 6, "lstm").eval()(x)
    torch.manual_seed(0)
    normed, _ = NativeRNN(5, 6, "lstm", layer_norm=True).eval()(x)
    assert not torch.allclose(plain, normed)
    torch.manual_seed(0)
    peep = NativeRNN(5, 6, "lstm", peephole=True).eval()
    assert torch.allclose(peep(x)[0], plain)  # peepholes start at zero: the plain LSTM
    with pytest.raises(ValueError, match="peephole"):
        NativeRNN(5, 6, "gru", peephole=True)


@pytest.mark.parametrize("rnn_type", ["lstm", "gru", "rnn"])
def test_model_on_native_cells_equals_torch_cells_and_streams(rnn_type):
    base = dict(rnn_type=rnn_type, hidden_size=8, conv_channels=4, num_layers=2, dropout=0.0)
    torch.manual_seed(0)
    fused = AcousticModel(20, 10, ModelConfig(**base)).eval()
    native = AcousticModel(20, 10, ModelConfig(**base, rnn_impl="native")).eval()
    state = dict(native.state_dict())  # our cells' empty peephole slots, then torch's weights
    for name, tensor in fused.state_dict().items():  # layers.0.rnn.weight_hh_l0_reverse -> layers.0.rnn.directions.1.weight_hh
        prefix, _, leaf = name.partition(".rnn.")
        if leaf:
            d = 1 if leaf.endswith("_reverse") else 0
            name = f"{prefix}.rnn.directions.{d}.{leaf.removesuffix('_reverse').removesuffix('_l0')}"
        state[name] = tensor
    native.load_state_dict(state)
    features, lengths = torch.randn(3, 50, 20), torch.tensor([50, 31, 9])
    with torch.no_grad():
        assert torch.allclose(native(features, lengths)[0], fused(features, lengths)[0], atol=1e-5)
        streaming = AcousticModel(20, 10, ModelConfig(**base, rnn_impl="native", bidirectional=False, recurrent_dropout=0.2)).eval()
        whole, _ = streaming(features[:1], lengths[:1])
        state, pieces = streaming.initial_state(), []
        for chunk in torch.split(features[:1], 7, dim=1):
            out, state = streaming.step(chunk, state)
            pieces.append(out)
        pieces.append(streaming.flush(state))
        assert torch.allclose(torch.cat(pieces, 1), whole, atol=1e-5)


def test_native_options_need_native_cells():
    with pytest.raises(ConfigError, match="model.rnn_layer_norm, model.recurrent_dropout need model.rnn_impl: native"):
        ModelConfig(rnn_layer_norm=True, recurrent_dropout=0.1)
    with pytest.raises(ConfigError, match="peephole needs model.rnn_type: lstm"):
        ModelConfig(rnn_impl="native", rnn_type="gru", peephole=True)
    assert ModelConfig(rnn_impl="native", rnn_layer_norm=True, peephole=True, recurrent_dropout=0.1).peephole
