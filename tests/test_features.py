import pytest
import torch
import torchaudio.functional as AF

from asr.config import FeatureConfig
from asr.features import (
    HOP_SAMPLES, VTLP_KNEE_HZ, WINDOW_SAMPLES, Cmvn, CmvnAccumulator, Fbank, FeatureError, FeatureExtractor, SpecAugment,
    mel_filterbank, num_frames, speed_perturb, vtlp_frequencies,
)

CHUNKINGS = {"1": [1], "37": [37], "160": [160], "400": [400], "1600": [1600], "random": None}


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


def _extractor(**overrides) -> FeatureExtractor:
    torch.manual_seed(1)
    cmvn = Cmvn(torch.randn(40), torch.rand(40) + 0.5)
    return FeatureExtractor(FeatureConfig(n_mels=40, **overrides), cmvn)


def _chunks(samples: torch.Tensor, sizes: list[int] | None) -> list[torch.Tensor]:
    """`samples` cut into pieces of the given sizes (repeated), or of random sizes 0..2000."""
    generator = torch.Generator().manual_seed(7)
    pieces, start = [], 0
    while start < len(samples):
        size = sizes[len(pieces) % len(sizes)] if sizes else int(torch.randint(0, 2000, (), generator=generator))
        pieces.append(samples[start : start + size])
        start += size
    return pieces


@pytest.mark.parametrize("cmn", ["none", "running"])
@pytest.mark.parametrize("chunking", list(CHUNKINGS))
def test_chunk_call_equals_offline_call(chunking, cmn):
    """The streaming contract: any chunking of a stream gives the offline frames (1.3 s, so 1-sample chunks stay quick)."""
    extractor = _extractor(running_cmn=cmn == "running")
    samples = torch.randn(16000 + 4321) * 0.1
    offline = extractor(samples)
    state, pieces = extractor.init_state(), []
    for chunk in _chunks(samples, CHUNKINGS[chunking]):
        frames, state = extractor.accept(chunk, state)
        pieces.append(frames)
    tail, state = extractor.flush(state)
    streamed = torch.cat([*pieces, tail])
    assert streamed.shape == offline.shape == (num_frames(len(samples)), 40)
    assert torch.allclose(streamed, offline, atol=1e-4, rtol=1e-5)
    assert state.pending.numel() == 0 and state.cmn_frames == 0  # flush leaves a fresh state for the next stream


def test_running_cmn_warms_up_from_the_global_mean():
    """Frame t has the mean of frames 0..t, with `prior` frames of zeros before them, subtracted."""
    extractor = _extractor(running_cmn=True, running_cmn_prior_seconds=0.05)  # 5 frames
    plain = _extractor()
    samples = torch.randn(8000)
    x, y = plain(samples).double(), extractor(samples).double()
    for t in (0, 3, 40):
        assert torch.allclose(y[t], x[t] - x[: t + 1].sum(0) / (t + 1 + 5), atol=1e-4)


def test_utterance_cmn_cannot_stream():
    extractor = _extractor(utterance_cmn=True)
    assert torch.allclose(extractor(torch.randn(8000)).mean(0), torch.zeros(40), atol=1e-4)
    with pytest.raises(FeatureError, match="features.utterance_cmn .* features.running_cmn"):
        extractor.init_state()


def test_chunk_call_with_short_chunks_waits_for_a_whole_window():
    extractor = _extractor()
    frames, state = extractor.accept(torch.randn(WINDOW_SAMPLES - 1), extractor.init_state())
    assert frames.shape == (0, 40) and state.pending.numel() == WINDOW_SAMPLES - 1
    frames, state = extractor.accept(torch.randn(1), state)
    assert frames.shape == (1, 40) and state.pending.numel() == WINDOW_SAMPLES - HOP_SAMPLES


def test_cmvn_normalises():
    acc = CmvnAccumulator(4)
    feats = torch.randn(1000, 4) * torch.tensor([1.0, 2.0, 3.0, 0.0]) + 5
    acc.add(feats[:500])
    acc.add(feats[500:])
    cmvn = acc.result()
    normal = (feats - cmvn.mean) / cmvn.std
    assert torch.allclose(normal[:, :3].mean(0), torch.zeros(3), atol=1e-4)
    assert torch.allclose(normal[:, :3].std(0, unbiased=False), torch.ones(3), atol=1e-3)
    assert torch.all(normal[:, 3] == 0)  # a constant bin is centred, not blown up


def test_speed_perturb_changes_length():
    x = torch.randn(16000)
    assert abs(len(speed_perturb(x, 0.9)) - 16000 / 0.9) <= 2
    assert abs(len(speed_perturb(x, 1.1)) - 16000 / 1.1) <= 2
    assert speed_perturb(x, 1.0) is x


def test_mel_filterbank_unwarped_is_torchaudios():
    for n_mels in (20, 80):
        assert torch.allclose(mel_filterbank(201, n_mels), AF.melscale_fbanks(201, 0.0, 8000.0, n_mels, 16000), atol=1e-6)


@pytest.mark.parametrize("warp", [0.8, 0.9, 1.1, 1.3])
def test_vtlp_scales_below_the_knee_and_keeps_the_band(warp):
    freqs = torch.linspace(0, 8000, 801)
    warped = vtlp_frequencies(freqs, warp)
    assert warped[0] == 0 and torch.isclose(warped[-1], torch.tensor(8000.0))
    assert torch.all(warped[1:] > warped[:-1])  # monotonic: no two frequencies land on one
    low = freqs <= VTLP_KNEE_HZ * min(warp, 1.0) / warp
    assert torch.allclose(warped[low], freqs[low] * warp)


def test_vtlp_moves_a_tone_up_or_down_the_filterbank():
    t = torch.arange(16000) / 16000
    tone = torch.sin(2 * torch.pi * 1000 * t)
    fbank = Fbank(80)
    peak = {warp: int(fbank(tone, warp).mean(0).argmax()) for warp in (0.8, 1.0, 1.25)}
    centres = AF.melscale_fbanks(201, 0.0, 8000.0, 80, 16000).argmax(0) * 40.0  # each filter's peak, Hz
    assert peak[0.8] < peak[1.0] < peak[1.25]
    for warp, bin_ in peak.items():  # the tone now reads as 1000 * warp Hz
        assert abs(float(centres[bin_]) - 1000 * warp) < 80
    assert torch.equal(fbank(tone, 1.0), fbank(tone))


def test_specaugment_masks_with_zeros():
    torch.manual_seed(0)
    feats = torch.randn(200, 80) + 10
    out = SpecAugment(FeatureConfig())(feats)
    assert out.shape == feats.shape
    assert (out == 0).any()
    assert (out == feats).float().mean() > 0.5


def test_long_audio_in_blocks_equals_whole():
    torch.manual_seed(0)
    samples = torch.randn(16000 * 3 + 123)
    config = FeatureConfig(n_mels=40)
    whole = FeatureExtractor(config)(samples)
    assert torch.allclose(FeatureExtractor(config, block_frames=37)(samples), whole, atol=1e-5)
    assert torch.allclose(FeatureExtractor(config).log_mel(samples), Fbank(40)(samples), atol=1e-5)
    assert FeatureExtractor(config, block_frames=37)(torch.randn(100)).shape == (0, 40)
