"""Log-mel filterbank features, global CMVN and SpecAugment (Park et al. 2019).

We use `torchaudio.transforms.MelSpectrogram` with `center=False` rather than
`torchaudio.compliance.kaldi.fbank`: it takes a batch, runs on the GPU, and with
no centre padding a frame's samples depend only on its index, so features
computed chunk by chunk (keeping the last `WINDOW_SAMPLES - HOP_SAMPLES` samples
of each chunk for the next) equal the offline features exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torchaudio
import torchaudio.functional as AF

from asr.audio import SAMPLE_RATE
from asr.config import FeatureConfig

WINDOW_MS = 25
HOP_MS = 10
WINDOW_SAMPLES = SAMPLE_RATE * WINDOW_MS // 1000  # 400
HOP_SAMPLES = SAMPLE_RATE * HOP_MS // 1000  # 160
FRAME_SHIFT = HOP_MS / 1000  # seconds between feature frames
# Mel-band power floor before the log: about the power of 16-bit quantisation noise in
# one band. Digital silence, and the empty band above 4 kHz of upsampled 8 kHz audio,
# then give a constant instead of noise that CMVN would blow up to unit variance.
LOG_FLOOR = 1e-6
CMVN_MIN_STD = 0.1  # a (nearly) constant bin is centred, not amplified


def num_frames(num_samples: int) -> int:
    """Feature frames for `num_samples` samples (only whole windows; none if shorter)."""
    return 0 if num_samples < WINDOW_SAMPLES else 1 + (num_samples - WINDOW_SAMPLES) // HOP_SAMPLES


class Fbank(torch.nn.Module):
    """(..., samples) float32 at 16 kHz -> (..., frames, n_mels) log-mel energies."""

    def __init__(self, n_mels: int = 80) -> None:
        super().__init__()
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=SAMPLE_RATE,
            n_fft=WINDOW_SAMPLES,
            win_length=WINDOW_SAMPLES,
            hop_length=HOP_SAMPLES,
            n_mels=n_mels,
            center=False,
            power=2.0,
        )

    def forward(self, samples: torch.Tensor) -> torch.Tensor:
        if samples.shape[-1] < WINDOW_SAMPLES:  # shorter than one window: no frames (padding would invent one)
            return samples.new_zeros((*samples.shape[:-1], 0, self.mel.n_mels), dtype=torch.float32)
        power = self.mel(samples.float())
        return power.clamp_min(LOG_FLOOR).log().transpose(-1, -2)


def fbank_in_blocks(fbank: Fbank, samples: torch.Tensor, block_frames: int = 6000) -> torch.Tensor:
    """(samples,) -> (frames, n_mels), computed `block_frames` at a time.

    Equal to `fbank(samples)` (frames depend only on their own window), but the STFT's
    intermediates never exceed one block, so a long file costs only its final features.
    """
    total = num_frames(samples.shape[-1])
    if total <= block_frames:
        return fbank(samples)
    blocks = []
    for start in range(0, total, block_frames):
        count = min(block_frames, total - start)
        first = start * HOP_SAMPLES
        blocks.append(fbank(samples[first : first + WINDOW_SAMPLES + (count - 1) * HOP_SAMPLES]))
    return torch.cat(blocks)


@dataclass(frozen=True)
class Cmvn:
    """Global mean/variance normalisation; `mean` and `std` have shape (n_mels,)."""

    mean: torch.Tensor
    std: torch.Tensor

    def __call__(self, features: torch.Tensor) -> torch.Tensor:
        """(..., frames, n_mels) -> same shape, zero mean and unit variance per bin."""
        return (features - self.mean.to(features.device)) / self.std.to(features.device)

    @classmethod
    def identity(cls, n_mels: int) -> Cmvn:
        return cls(torch.zeros(n_mels), torch.ones(n_mels))


def normalize(features: torch.Tensor, cmvn: Cmvn, config: FeatureConfig) -> torch.Tensor:
    """(..., frames, n_mels) log-mels -> model input: global CMVN, then optional per-utterance mean removal."""
    features = cmvn(features)
    if config.utterance_cmn:
        features = features - features.mean(-2, keepdim=True)
    return features


class CmvnAccumulator:
    """Running per-bin sums (float64) over many utterances' features."""

    def __init__(self, n_mels: int) -> None:
        self.count = 0
        self.total = torch.zeros(n_mels, dtype=torch.float64)
        self.total_sq = torch.zeros(n_mels, dtype=torch.float64)

    def add(self, features: torch.Tensor) -> None:
        """features: (frames, n_mels)."""
        feats = features.double()
        self.count += feats.shape[0]
        self.total += feats.sum(0)
        self.total_sq += (feats * feats).sum(0)

    def result(self) -> Cmvn:
        if self.count == 0:
            raise ValueError("no frames to compute CMVN statistics from")
        mean = self.total / self.count
        std = (self.total_sq / self.count - mean * mean).clamp_min(0).sqrt().clamp_min(CMVN_MIN_STD)
        return Cmvn(mean.float(), std.float())


def speed_perturb(samples: torch.Tensor, speed: float) -> torch.Tensor:
    """Play `samples` (samples,) at `speed` times the rate (Ko et al. 2015): 0.9 is slower and longer."""
    if speed == 1.0:
        return samples
    return AF.resample(samples, round(SAMPLE_RATE * speed), SAMPLE_RATE)


class SpecAugment(torch.nn.Module):
    """Frequency and time masks on normalised (frames, n_mels) features; masked values become 0 (the mean)."""

    def __init__(self, config: FeatureConfig) -> None:
        super().__init__()
        self.freq_masks = config.freq_masks
        self.time_masks = config.time_masks
        self.freq_mask = torchaudio.transforms.FrequencyMasking(config.freq_mask_width)
        self.time_mask = torchaudio.transforms.TimeMasking(config.time_mask_width, p=config.time_mask_max_ratio)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        spec = features.transpose(0, 1)  # torchaudio masks act on (freq, time)
        for _ in range(self.freq_masks):
            spec = self.freq_mask(spec)
        for _ in range(self.time_masks):
            spec = self.time_mask(spec)
        return spec.transpose(0, 1)
