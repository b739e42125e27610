"""Audio input: any file soundfile reads (WAV/FLAC/OGG/MP3) -> 16 kHz mono float32; a chunk-by-chunk
resampler for streams at other rates.

Errors are `AudioError`s whose message is one line naming the file and the problem.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import torch
import torchaudio.functional as AF

from asr.errors import first_line

SAMPLE_RATE = 16_000  # Hz; everything downstream of `load` runs at this rate

Pathlike = str | Path


class AudioError(ValueError):
    """A file that cannot serve as speech input; the message names the file."""


def load(path: Pathlike) -> tuple[torch.Tensor, int]:
    """Read `path`, downmix to mono and resample to 16 kHz.

    Returns `(samples, SAMPLE_RATE)` with samples a float32 tensor of shape (samples,)
    in [-1, 1].
    """
    path = Path(path)
    check_file(path)
    try:
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as err:
        raise AudioError(f"{path}: cannot decode audio ({first_line(err)})") from None
    return to_mono_16k(data, rate, name=str(path)), SAMPLE_RATE


def to_mono_16k(data: np.ndarray, rate: int, name: str = "<array>") -> torch.Tensor:
    """(samples,) or (samples, channels) array at `rate` -> (samples,) float32 tensor at 16 kHz."""
    if data.ndim == 2:
        data = data.mean(axis=1)
    if data.ndim != 1:
        raise AudioError(f"{name}: expected (samples,) or (samples, channels) audio, got shape {data.shape}")
    if data.size == 0:
        raise AudioError(f"{name}: audio is empty (0 samples)")
    if not np.isfinite(data).all():
        raise AudioError(f"{name}: audio contains NaN or infinite samples")
    samples = torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32))
    if rate != SAMPLE_RATE:
        samples = AF.resample(samples, rate, SAMPLE_RATE)
    return samples


def check_file(path: Pathlike) -> None:
    """An `AudioError` unless `path` is an existing regular file (a folder is named as one)."""
    path = Path(path)
    if path.is_dir():
        raise AudioError(f"{path}: is a directory, not an audio file")
    if not path.is_file():
        raise AudioError(f"{path}: no such file")


def duration(path: Pathlike) -> float:
    """Length in seconds from the file header, without decoding the audio."""
    check_file(path)
    try:
        info = soundfile.info(str(path))
    except (soundfile.LibsndfileError, RuntimeError, ValueError) as err:
        raise AudioError(f"{path}: cannot read audio header ({first_line(err)})") from None
    if info.frames <= 0:
        raise AudioError(f"{path}: audio is empty (0 samples)")
    return info.frames / info.samplerate


@dataclass
class ResampleState:
    """Input samples (with the filter's leading zeros) not yet used up, and how many came in."""

    pending: torch.Tensor
    samples_in: int = 0
    samples_out: int = 0


class StreamResampler:
    """Chunk-by-chunk resampling to 16 kHz that equals `torchaudio.functional.resample` on the whole signal.

    torchaudio's resampler is a windowed-sinc FIR applied as a strided convolution: each block of
    `new` output samples reads `2 * width + orig` input samples (rates reduced by their gcd),
    starting `width` samples before the block. Keeping the input the next block still needs, and
    padding the end with zeros only in `flush`, gives the offline result chunk by chunk.
    """

    def __init__(self, rate: int) -> None:
        from torchaudio.functional.functional import _get_sinc_resample_kernel  # the kernel resample() uses

        if rate <= 0:
            raise AudioError(f"sample rate must be positive, got {rate}")
        self.rate = rate
        gcd = math.gcd(rate, SAMPLE_RATE)
        self.orig, self.new = rate // gcd, SAMPLE_RATE // gcd
        self.kernel, self.width = _get_sinc_resample_kernel(rate, SAMPLE_RATE, gcd, dtype=torch.float32)

    def init_state(self) -> ResampleState:
        return ResampleState(torch.zeros(self.width))

    def accept(self, samples: torch.Tensor, state: ResampleState) -> tuple[torch.Tensor, ResampleState]:
        """(samples,) at `rate` -> (the 16 kHz samples they complete, the new state)."""
        buffer = torch.cat([state.pending, samples.float()])
        out, used = self._blocks(buffer)
        produced = state.samples_out + out.shape[0]
        return out, ResampleState(buffer[used:], state.samples_in + samples.shape[0], produced)

    def flush(self, state: ResampleState) -> torch.Tensor:
        """The rest of the 16 kHz samples, trimmed to the offline length ceil(16000 * n / rate)."""
        out, _ = self._blocks(torch.cat([state.pending, torch.zeros(self.width + self.orig)]))
        total = math.ceil(self.new * state.samples_in / self.orig)
        return out[: max(0, total - state.samples_out)]

    def _blocks(self, buffer: torch.Tensor) -> tuple[torch.Tensor, int]:
        """(output of every whole block in `buffer`, input samples those blocks let go of)."""
        size = self.kernel.shape[-1]
        count = 0 if buffer.shape[0] < size else (buffer.shape[0] - size) // self.orig + 1
        if count == 0:
            return buffer[:0], 0
        window = buffer[: (count - 1) * self.orig + size]
        out = torch.nn.functional.conv1d(window[None, None], self.kernel, stride=self.orig)  # (1, new, count)
        return out[0].transpose(0, 1).reshape(-1), count * self.orig
