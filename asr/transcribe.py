"""Offline transcription: audio -> features -> model -> log-probs -> decoder -> text with word timings.

Long files are run through the model in overlapping windows so memory stays bounded
(a 30-minute file needs no more than one window's activations); only each window's
centre is kept, so every kept frame has at least `context` seconds of audio on both
sides, which is all a bidirectional layer needs at a window edge in practice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from asr.audio import SAMPLE_RATE, Pathlike, load, to_mono_16k
from asr.checkpoint import load_checkpoint, restore_model
from asr.config import ExperimentConfig
from asr.decode.greedy import greedy_decode
from asr.decode.types import Hypothesis
from asr.features import FRAME_SHIFT, Cmvn, Fbank, fbank_in_blocks, normalize
from asr.model import AcousticModel
from asr.tokenizer import Tokenizer

WINDOW_SECONDS = 30.0  # model input per forward pass on long audio
CONTEXT_SECONDS = 2.0  # overlap on each side of a window, discarded after the forward pass

Decoder = Callable[[np.ndarray], Hypothesis]


@dataclass
class Transcriber:
    """A loaded model ready to transcribe; build it with `load_model`."""

    model: AcousticModel
    config: ExperimentConfig
    tokenizer: Tokenizer
    cmvn: Cmvn
    device: torch.device

    def __post_init__(self) -> None:
        self.model.to(self.device).eval()
        self.fbank = Fbank(self.config.features.n_mels).to(self.device)

    @property
    def frame_shift(self) -> float:
        """Seconds per output (log-prob) frame."""
        return FRAME_SHIFT * self.model.subsampling

    def features(self, samples: torch.Tensor) -> torch.Tensor:
        """(samples,) at 16 kHz -> normalised (frames, n_mels)."""
        return normalize(fbank_in_blocks(self.fbank, samples.to(self.device)), self.cmvn, self.config.features)

    @torch.inference_mode()
    def logprobs(self, samples: torch.Tensor) -> np.ndarray:
        """(samples,) at 16 kHz -> (frames', vocab) float32 natural-log posteriors."""
        feats = self.features(samples)
        if feats.shape[0] == 0:  # shorter than one window: nothing was heard, so nothing is decoded
            return np.zeros((0, self.tokenizer.size), np.float32)
        step = self.model.subsampling
        window = int(WINDOW_SECONDS / FRAME_SHIFT) // step * step
        context = int(CONTEXT_SECONDS / FRAME_SHIFT) // step * step
        if feats.shape[0] <= window + 2 * context:
            return self._forward(feats)
        pieces = []
        for start in range(0, feats.shape[0], window):
            left = max(0, start - context)
            chunk = feats[left : start + window + context]
            out = self._forward(chunk)
            skip = (start - left) // step
            pieces.append(out[skip : skip + window // step])
        return np.concatenate(pieces)

    def _forward(self, feats: torch.Tensor) -> np.ndarray:
        lengths = torch.tensor([feats.shape[0]], device=self.device)
        logits, out_lengths = self.model(feats[None], lengths)
        # .cpu() is the one device->host copy per window.
        return logits[0, : int(out_lengths[0])].float().log_softmax(-1).cpu().numpy()

    def transcribe(self, audio: Pathlike | np.ndarray | torch.Tensor, sample_rate: int = SAMPLE_RATE, decoder: Decoder | None = None) -> Hypothesis:
        """A file path, or an array of samples at `sample_rate` -> best hypothesis with word timings."""
        if isinstance(audio, (str, Path)):
            samples, _ = load(audio)
        else:
            array = audio.cpu().numpy() if isinstance(audio, torch.Tensor) else np.asarray(audio)
            samples = to_mono_16k(array.astype(np.float32, copy=False), sample_rate)
        logprobs = self.logprobs(samples)
        if decoder is None:
            return greedy_decode(logprobs, self.tokenizer.tokens, self.frame_shift)
        return decoder(logprobs)


def load_model(path: Pathlike, device: str | torch.device | None = None) -> Transcriber:
    """Load a checkpoint (`weights_only`: it cannot run code) for transcription."""
    device = torch.device(device) if device else torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model, config, tokenizer, cmvn = restore_model(load_checkpoint(path), path)
    return Transcriber(model, config, tokenizer, cmvn, device)
