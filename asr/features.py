"""The feature front end: log-mel filterbank, global CMVN, optional mean removal; SpecAugment
(Park et al. 2019), speed perturbation (Ko et al. 2015) and vocal tract length perturbation
(Jaitly & Hinton 2013) for training.

`FeatureExtractor` is the one front end: training, transcription and streaming all call
it. Its offline call takes a whole utterance; its chunk call (`init_state`, `accept`,
`flush`) takes the same samples in pieces of any size with the carry-over in an explicit
`FeatureState`, and gives the same frames (a test proves it for many chunk sizes).

We use `torchaudio.transforms.MelSpectrogram` with `center=False` rather than
`torchaudio.compliance.kaldi.fbank`: it takes a batch, runs on the GPU, and with
no centre padding a frame's samples depend only on its index, so features
computed chunk by chunk (keeping the last `WINDOW_SAMPLES - HOP_SAMPLES` samples
of each chunk for the next) equal the offline features exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torchaudio
import torchaudio.functional as AF

from asr.audio import SAMPLE_RATE
from asr.config import FeatureConfig, StreamConfig

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
# Vocal tract length perturbation scales frequencies below this knee and maps the rest
# linearly onto the band above, so the warped band still ends at the Nyquist frequency
# (Jaitly & Hinton 2013's F_hi; formants lie below it).
VTLP_KNEE_HZ = 4800.0


def vtlp_frequencies(freqs: torch.Tensor, warp: float) -> torch.Tensor:
    """Where the content at `freqs` (Hz, any shape) lands when the vocal tract is shortened by
    `warp` (Jaitly & Hinton 2013): `warp` times higher below the knee, then a straight line to
    the Nyquist frequency. Above 1 formants move up (a man's voice towards a woman's)."""
    nyquist = SAMPLE_RATE / 2
    knee_out = VTLP_KNEE_HZ * min(warp, 1.0)
    knee_in = knee_out / warp
    upper = nyquist - (nyquist - knee_out) / (nyquist - knee_in) * (nyquist - freqs)
    return torch.where(freqs <= knee_in, freqs * warp, upper)


def mel_filterbank(n_freqs: int, n_mels: int, warp: float = 1.0) -> torch.Tensor:
    """(n_freqs, n_mels) triangular HTK-mel filters over 0 to 8 kHz, as torchaudio's
    `melscale_fbanks`, read through `vtlp_frequencies(., warp)`: the power a bin holds counts
    towards the filters around the frequency it is warped to."""
    nyquist = SAMPLE_RATE / 2
    mel_max = 2595.0 * math.log10(1.0 + nyquist / 700.0)
    edges = 700.0 * (10 ** (torch.linspace(0.0, mel_max, n_mels + 2) / 2595.0) - 1.0)  # (n_mels + 2,) Hz
    freqs = torch.linspace(0, SAMPLE_RATE // 2, n_freqs)
    if warp != 1.0:
        freqs = vtlp_frequencies(freqs, warp)
    widths = edges[1:] - edges[:-1]
    slopes = edges[None, :] - freqs[:, None]  # (n_freqs, n_mels + 2)
    rising = -slopes[:, :-2] / widths[:-1]
    falling = slopes[:, 2:] / widths[1:]
    return torch.clamp_min(torch.minimum(rising, falling), 0.0)


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

    def forward(self, samples: torch.Tensor, warp: float = 1.0) -> torch.Tensor:
        """`warp` != 1: the filters read a vocal-tract-length-warped spectrum (`mel_filterbank`)."""
        if samples.shape[-1] < WINDOW_SAMPLES:  # shorter than one window: no frames (padding would invent one)
            return samples.new_zeros((*samples.shape[:-1], 0, self.mel.n_mels), dtype=torch.float32)
        if warp == 1.0:
            return self.mel(samples.float()).clamp_min(LOG_FLOOR).log().transpose(-1, -2)
        spectrum = self.mel.spectrogram(samples.float())  # (..., n_freqs, frames)
        filters = mel_filterbank(spectrum.shape[-2], self.mel.n_mels, warp).to(spectrum.device)
        return (spectrum.transpose(-1, -2) @ filters).clamp_min(LOG_FLOOR).log()


@dataclass(frozen=True)
class Cmvn:
    """Global mean/variance normalisation statistics; `mean` and `std` have shape (n_mels,)."""

    mean: torch.Tensor
    std: torch.Tensor

    @classmethod
    def identity(cls, n_mels: int) -> Cmvn:
        return cls(torch.zeros(n_mels), torch.ones(n_mels))


class FeatureError(ValueError):
    """Features that cannot be computed the way they were asked for (e.g. a whole-utterance mean, chunk by chunk)."""


@dataclass
class FeatureState:
    """The chunk call's carry-over between `accept` calls.

    `pending`: (samples,) not yet covered by a frame step; `cmn_sum`: (n_mels,) float64 sum of
    the globally normalised frames so far and `cmn_frames` their count (for running_cmn).
    """

    pending: torch.Tensor
    cmn_sum: torch.Tensor
    cmn_frames: int = 0


class FeatureExtractor(torch.nn.Module):
    """(samples,) float32 at 16 kHz -> model input (frames, n_mels): log-mels, global CMVN, then
    per-utterance (`utterance_cmn`) or running (`running_cmn`) mean removal.

    The CMVN statistics are buffers, so `.to(device)` moves them with the filterbank.
    `block_frames` bounds the STFT's intermediates on long audio: frames depend only on their
    own window, so computing them a block at a time changes nothing but peak memory.
    """

    def __init__(self, config: FeatureConfig, cmvn: Cmvn | None = None, block_frames: int = 6000) -> None:
        super().__init__()
        self.config = config
        self.fbank = Fbank(config.n_mels)
        cmvn = cmvn or Cmvn.identity(config.n_mels)
        self.register_buffer("cmvn_mean", cmvn.mean.float().clone())
        self.register_buffer("cmvn_std", cmvn.std.float().clone())
        self.block_frames = block_frames
        self.prior_frames = round(config.running_cmn_prior_seconds / FRAME_SHIFT)

    @property
    def cmvn(self) -> Cmvn:
        return Cmvn(self.cmvn_mean.cpu(), self.cmvn_std.cpu())

    def log_mel(self, samples: torch.Tensor, warp: float = 1.0) -> torch.Tensor:
        """(samples,) -> (frames, n_mels) log-mel energies before any normalisation; `warp` != 1
        reads them through a vocal tract length warp (`Fbank`: `features.vtlp` in training)."""
        samples = samples.to(self.cmvn_mean.device)
        total = num_frames(samples.shape[-1])
        if total <= self.block_frames:
            return self.fbank(samples, warp)
        blocks = []
        for start in range(0, total, self.block_frames):
            count = min(self.block_frames, total - start)
            first = start * HOP_SAMPLES
            blocks.append(self.fbank(samples[first : first + WINDOW_SAMPLES + (count - 1) * HOP_SAMPLES], warp))
        return torch.cat(blocks)

    def forward(self, samples: torch.Tensor, warp: float = 1.0) -> torch.Tensor:
        """The offline call: a whole utterance (samples,) -> normalised (frames, n_mels)."""
        features = self._global(self.log_mel(samples, warp))
        if self.config.utterance_cmn:
            return features - features.mean(-2, keepdim=True)
        if self.config.running_cmn:
            sums = features.double().cumsum(0)
            counts = torch.arange(1, features.shape[0] + 1, device=features.device, dtype=torch.float64)
            return features - (sums / (counts + self.prior_frames)[:, None]).float()
        return features

    # -- the chunk call ------------------------------------------------------------------------

    def init_state(self) -> FeatureState:
        """The state before a stream's first sample. Whole-utterance mean removal cannot stream."""
        if self.config.utterance_cmn:
            raise FeatureError(
                "features.utterance_cmn subtracts the mean of the whole utterance, so it cannot run chunk by chunk; "
                "a streaming model needs features.running_cmn instead"
            )
        device = self.cmvn_mean.device
        return FeatureState(torch.zeros(0, device=device), torch.zeros(self.config.n_mels, dtype=torch.float64, device=device))

    def accept(self, samples: torch.Tensor, state: FeatureState) -> tuple[torch.Tensor, FeatureState]:
        """The next (samples,) of the stream -> (the frames they complete, (frames, n_mels); the new state)."""
        buffer = torch.cat([state.pending, samples.to(state.pending.device, torch.float32)])
        count = num_frames(buffer.shape[0])
        if count == 0:
            return self._no_frames(), FeatureState(buffer, state.cmn_sum, state.cmn_frames)
        features = self._global(self.log_mel(buffer[: WINDOW_SAMPLES + (count - 1) * HOP_SAMPLES]))
        pending = buffer[count * HOP_SAMPLES :]
        if not self.config.running_cmn:
            return features, FeatureState(pending, state.cmn_sum, state.cmn_frames)
        sums = state.cmn_sum + features.double().cumsum(0)
        counts = torch.arange(1, count + 1, device=features.device, dtype=torch.float64) + state.cmn_frames
        features = features - (sums / (counts + self.prior_frames)[:, None]).float()
        return features, FeatureState(pending, sums[-1], state.cmn_frames + count)

    def flush(self, state: FeatureState) -> tuple[torch.Tensor, FeatureState]:
        """End of stream -> (the frames still owed, a fresh state). Like the offline call, a
        window the samples do not fill makes no frame (padding would invent one), so none are owed."""
        return self._no_frames(), self.init_state()

    def _global(self, features: torch.Tensor) -> torch.Tensor:
        return (features - self.cmvn_mean) / self.cmvn_std

    def _no_frames(self) -> torch.Tensor:
        return torch.zeros(0, self.config.n_mels, device=self.cmvn_mean.device)


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


def end_padding_samples(config: StreamConfig) -> int:
    """The 16 kHz samples of silence a unidirectional model's audio ends with (`StreamConfig.end_padding_ms`)."""
    return config.end_padding_ms * SAMPLE_RATE // 1000


def end_padded(samples: torch.Tensor, padding: int) -> torch.Tensor:
    """(samples,) followed by `padding` zeros, if they hold at least one feature window: audio that
    makes no frame stays silent rather than becoming a frame of padding (`StreamConfig.end_padding_ms`)."""
    if padding <= 0 or samples.shape[0] < WINDOW_SAMPLES:
        return samples
    return torch.cat([samples, samples.new_zeros(padding)])


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
