"""Audio input: any file soundfile reads (WAV/FLAC/OGG/MP3) -> 16 kHz mono float32.

Errors are `AudioError`s whose message is one line naming the file and the problem.
"""

from __future__ import annotations

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
