import torch

from asr.config import FeatureConfig
from asr.features import (
    HOP_SAMPLES, WINDOW_SAMPLES, CmvnAccumulator, Fbank, SpecAugment, num_frames, speed_perturb,
)


def test_framing_constants_and_frame_count():
    assert (WINDOW_SAMPLES, HOP_SAMPLES) == (400, 160)
    fbank = Fbank(80)
    for n in (400, 401, 559, 560, 16000):
        assert fbank(torch.randn(n)).shape == (num_frames(n), 80)
    assert num_frames(399) == 0
    assert fbank(torch.randn(100)).shape == (0, 80)  # shorter than a window: no frame (none is invented)
    assert fbank(torch.randn(2, 399)).shape == (2, 0, 80)


def test_batched_features():
    assert Fbank(40)(torch.randn(3, 16000)).shape == (3, num_frames(16000), 40)


def test_chunked_features_equal_offline():
    """Streaming contract: chunks with a (window - hop) carry-over give the offline frames exactly."""
    torch.manual_seed(0)
    samples = torch.randn(16000 * 2)
    fbank = Fbank(80)
    offline = fbank(samples)
    pieces, carry = [], torch.zeros(0)
    for chunk in samples.split(2731):
        buf = torch.cat([carry, chunk])
        n = num_frames(len(buf))
        if n:
            pieces.append(fbank(buf[: WINDOW_SAMPLES + (n - 1) * HOP_SAMPLES]))
            buf = buf[n * HOP_SAMPLES :]
        carry = buf
    assert torch.allclose(torch.cat(pieces), offline, atol=1e-5)


def test_cmvn_normalises():
    acc = CmvnAccumulator(4)
    feats = torch.randn(1000, 4) * torch.tensor([1.0, 2.0, 3.0, 0.0]) + 5
    acc.add(feats[:500])
    acc.add(feats[500:])
    normal = acc.result()(feats)
    assert torch.allclose(normal[:, :3].mean(0), torch.zeros(3), atol=1e-4)
    assert torch.allclose(normal[:, :3].std(0, unbiased=False), torch.ones(3), atol=1e-3)
    assert torch.all(normal[:, 3] == 0)  # a constant bin is centred, not blown up


def test_speed_perturb_changes_length():
    x = torch.randn(16000)
    assert abs(len(speed_perturb(x, 0.9)) - 16000 / 0.9) <= 2
    assert abs(len(speed_perturb(x, 1.1)) - 16000 / 1.1) <= 2
    assert speed_perturb(x, 1.0) is x


def test_specaugment_masks_with_zeros():
    torch.manual_seed(0)
    feats = torch.randn(200, 80) + 10
    out = SpecAugment(FeatureConfig())(feats)
    assert out.shape == feats.shape
    assert (out == 0).any()
    assert (out == feats).float().mean() > 0.5


def test_fbank_in_blocks_equals_whole():
    from asr.features import fbank_in_blocks

    torch.manual_seed(0)
    samples = torch.randn(16000 * 3 + 123)
    fbank = Fbank(40)
    assert torch.allclose(fbank_in_blocks(fbank, samples, block_frames=37), fbank(samples), atol=1e-5)
    assert fbank_in_blocks(fbank, torch.randn(100)).shape == (0, 40)
