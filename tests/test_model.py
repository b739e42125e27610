import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from asr.config import ModelConfig
from asr.model import AcousticModel, RecurrentLayer


@pytest.mark.parametrize("rnn_type", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("subsampling", [2, 4])
@pytest.mark.parametrize("frontend", ["conv2d", "stack"])
def test_output_lengths_match_logits(rnn_type, bidirectional, subsampling, frontend):
    config = ModelConfig(rnn_type=rnn_type, bidirectional=bidirectional, subsampling=subsampling, hidden_size=8, conv_channels=4, num_layers=2, frontend=frontend)
    model = AcousticModel(20, 10, config).eval()
    lengths = torch.tensor([57, 100, 9, 3])
    logits, out_lengths = model(torch.randn(4, 100, 20), lengths)
    assert logits.shape == (4, int(out_lengths.max()), 10)
    assert out_lengths[1] == logits.shape[1]
    for length, out in zip(lengths.tolist(), out_lengths.tolist()):
        alone, _ = model(torch.randn(1, length, 20), torch.tensor([length]))
        assert alone.shape[1] == out  # lengths agree with what the layers really produce
        assert out >= 1
    assert 100 // subsampling - 3 <= out_lengths[1] <= 100 // subsampling  # valid convs trim the edges


@pytest.mark.parametrize("bidirectional,lookahead", [(True, 0), (False, 0), (False, 2)])
@pytest.mark.parametrize("rnn_type", ["lstm", "gru"])
def test_padding_does_not_leak(bidirectional, lookahead, rnn_type):
    torch.manual_seed(0)
    config = ModelConfig(hidden_size=8, conv_channels=4, num_layers=2, bidirectional=bidirectional, lookahead=lookahead, rnn_type=rnn_type)
    model = AcousticModel(20, 10, config).eval()
    short = torch.randn(1, 40, 20)
    padded = torch.cat([short, torch.randn(1, 60, 20) * 100], dim=1)
    alone, n = model(short, torch.tensor([40]))
    batched, _ = model(torch.cat([padded, torch.randn(1, 100, 20)]), torch.tensor([40, 100]))
    assert torch.allclose(alone[0], batched[0, : int(n)], atol=1e-5)


@pytest.mark.parametrize("rnn_type,activation", [("lstm", "tanh"), ("gru", "tanh"), ("rnn", "relu")])
def test_bidirectional_layer_on_padded_batch_equals_packed(rnn_type, activation):
    """The CPU runs a bidirectional layer on the padded batch; it must give what packing gives,
    gradients included, and zeros past each utterance's end."""
    torch.manual_seed(0)
    layer = RecurrentLayer(6, ModelConfig(rnn_type=rnn_type, rnn_activation=activation, hidden_size=5, bidirectional=True, dropout=0.0))
    x = torch.randn(3, 30, 6, requires_grad=True)
    lengths = torch.tensor([30, 12, 1])
    padded = layer._bidirectional_padded(x, lengths)
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    reference, _ = pad_packed_sequence(layer.rnn(packed)[0], batch_first=True, total_length=30)
    assert torch.allclose(padded, reference, atol=1e-6)
    assert padded[1, 12:].abs().max() == 0
    weights = [layer.rnn.weight_hh_l0, layer.rnn.weight_hh_l0_reverse, layer.rnn.bias_ih_l0_reverse]
    for got, want in zip(torch.autograd.grad(padded.square().sum(), [x, *weights]), torch.autograd.grad(reference.square().sum(), [x, *weights])):
        assert torch.allclose(got, want, atol=1e-5)


def test_recurrent_init():
    model = AcousticModel(20, 10, ModelConfig(hidden_size=8, num_layers=1, bidirectional=False))
    rnn = model.layers[0].rnn
    assert torch.all(rnn.bias_ih_l0[8:16] == 1) and torch.all(rnn.bias_hh_l0 == 0)
    gate = rnn.weight_hh_l0[:8]
    assert torch.allclose(gate @ gate.T, torch.eye(8), atol=1e-5)


def test_layer_options():
    config = ModelConfig(hidden_size=8, conv_channels=3, num_layers=3, residual=True, layer_norm=False)
    model = AcousticModel(20, 10, config)
    assert not model.layers[0].residual and model.layers[1].residual
    assert isinstance(model.layers[0].norm, torch.nn.Identity)
    with pytest.raises(ValueError, match="rnn_type"):
        AcousticModel(20, 10, ModelConfig(rnn_type="transformer"))


def test_frame_stacking_concatenates_frames():
    from asr.model import FrameStacking

    features = torch.arange(2 * 9 * 3, dtype=torch.float32).reshape(2, 9, 3)
    out = FrameStacking(3, 4)(features)
    assert out.shape == (2, 2, 12)
    assert torch.equal(out[1, 1], features[1, 4:8].reshape(-1))
    assert FrameStacking(3, 4).output_lengths(torch.tensor([9, 4, 3])).tolist() == [2, 1, 0]


def _stream(model, features, sizes):
    """Feed (1, frames, n_mels) in chunks of the given sizes (cycled) and flush."""
    state, pieces, start, i = model.initial_state(features.shape[0]), [], 0, 0
    while start < features.shape[1]:
        size = sizes[i % len(sizes)]
        logits, state = model.step(features[:, start : start + size], state)
        pieces.append(logits)
        start, i = start + size, i + 1
    pieces.append(model.flush(state))
    return torch.cat(pieces, 1)


@pytest.mark.parametrize("rnn_type", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("lookahead", [0, 2])
@pytest.mark.parametrize("subsampling,frontend", [(4, "conv2d"), (2, "conv2d"), (4, "stack")])
def test_streaming_equals_whole_sequence(rnn_type, lookahead, subsampling, frontend):
    """step/flush over any chunking gives forward's logits: the front end's window, the recurrent
    state and the lookahead's future frames are carried in the state."""
    torch.manual_seed(0)
    config = ModelConfig(
        rnn_type=rnn_type, bidirectional=False, lookahead=lookahead, subsampling=subsampling, frontend=frontend,
        hidden_size=12, conv_channels=4, num_layers=2, dropout=0.0,
    )  # fmt: skip
    model = AcousticModel(20, 10, config).eval()
    if model.lookahead is not None:
        torch.nn.init.normal_(model.lookahead.conv.weight)  # not the identity it starts as
    features = torch.randn(1, 97, 20)
    with torch.no_grad():
        whole, _ = model(features, torch.tensor([97]))
        for sizes in ([1], [3], [16], [97], [5, 1, 30, 2]):
            assert torch.allclose(_stream(model, features, sizes), whole, atol=1e-5), sizes
        short = features[:, :3]  # shorter than the front end's window: zero-padded, as forward does
        assert torch.allclose(_stream(model, short, [1]), model(short, torch.tensor([3]))[0], atol=1e-5)


def test_lookahead_and_what_a_frame_needs():
    config = ModelConfig(bidirectional=False, lookahead=3, hidden_size=8, conv_channels=4, num_layers=1)
    model = AcousticModel(20, 10, config)
    assert model.lookahead_frames == (7 - 4) + 4 * 3  # conv window overhang + 3 output frames of 40 ms
    assert AcousticModel(20, 10, ModelConfig(bidirectional=False, frontend="stack")).lookahead_frames == 0
    assert torch.all(model.lookahead.conv.weight == 0)  # the identity at the start of training
    with pytest.raises(ValueError, match="only a unidirectional one streams"):
        AcousticModel(20, 10, ModelConfig(hidden_size=8, conv_channels=4, num_layers=1)).initial_state()


def test_streams_are_batched_rows():
    torch.manual_seed(0)
    model = AcousticModel(20, 10, ModelConfig(bidirectional=False, lookahead=1, hidden_size=8, conv_channels=4, num_layers=2)).eval()
    torch.nn.init.normal_(model.lookahead.conv.weight)
    a, b = torch.randn(1, 40, 20), torch.randn(1, 40, 20)
    with torch.no_grad():
        both = _stream(model, torch.cat([a, b]), [8])
        assert torch.allclose(both[1:], _stream(model, b, [8]), atol=1e-5)


def test_truncated_bptt_cuts_the_gradient_but_not_the_forward():
    """Chunks with detached state compute the same logits; the loss at the last frame no longer reaches
    the first frames' inputs through the recurrence (it still does through nothing else: no lookahead)."""
    torch.manual_seed(0)
    model = AcousticModel(20, 10, ModelConfig(bidirectional=False, frontend="stack", hidden_size=8, num_layers=2, dropout=0.0)).eval()
    features = torch.randn(2, 64, 20, requires_grad=True)
    lengths = torch.tensor([64, 40])
    whole, _ = model(features, lengths)
    chunked, _ = model(features, lengths, tbptt_frames=4)
    assert torch.allclose(whole[0], chunked[0], atol=1e-5) and torch.allclose(whole[1, :10], chunked[1, :10], atol=1e-5)
    chunked[0, -1].sum().backward()
    grad = features.grad[0].abs().sum(-1)  # frames 48..63 make the last chunk (4 output frames of 4 stacked frames)
    assert grad[:48].sum() == 0 and grad[48:].sum() > 0
    with pytest.raises(ValueError, match="unidirectional"):
        AcousticModel(20, 10, ModelConfig(hidden_size=8, num_layers=1))(features, lengths, tbptt_frames=4)
