"""Offline transcription: audio -> features -> model -> log-probs -> decoder -> text with word timings.

Any decoder with the decoder protocol (`asr.decode.types.Decoder`) can be passed; by default
the model decodes the way its checkpoint's `decode` section says (greedy unless the recipe
chose otherwise).

Long files are run through the model in overlapping windows so memory stays bounded
(a 30-minute file needs no more than one window's activations); only each window's
centre is kept, so every kept frame has at least `context` seconds of audio on both
sides, which is all a bidirectional layer needs at a window edge in practice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from asr.audio import SAMPLE_RATE, Pathlike, load, to_mono_16k
from asr.checkpoint import load_checkpoint, restore_model
from asr.config import DecodeConfig, ExperimentConfig
from asr.decode.factory import build_decoder
from asr.decode.types import Decoder, Hypothesis, words_until
from asr.device import select_device
from asr.features import FRAME_SHIFT, FeatureExtractor, end_padded, end_padding_samples
from asr.model import AcousticModel
from asr.tokenizer import Tokenizer

WINDOW_SECONDS = 30.0  # model input per forward pass on long audio
CONTEXT_SECONDS = 2.0  # overlap on each side of a window, discarded after the forward pass


@dataclass
class Transcriber:
    """A loaded model ready to transcribe; build it with `load_model`."""

    model: AcousticModel
    config: ExperimentConfig
    tokenizer: Tokenizer
    extractor: FeatureExtractor
    device: torch.device
    words: dict[str, int] = field(default_factory=dict)  # a phone model's training words (`asr.checkpoint.model_payload`)

    def __post_init__(self) -> None:
        self.model.to(self.device).eval()
        self.extractor.to(self.device)
        self._default_decoder: Decoder | None = None

    @property
    def frame_shift(self) -> float:
        """Seconds per output (log-prob) frame."""
        return FRAME_SHIFT * self.model.subsampling

    def decoder(self, config: DecodeConfig | None = None) -> Decoder:
        """The decoder `config` describes (default: the checkpoint's `decode` section) for this model's tokens."""
        return build_decoder(config or self.config.decode, self.tokenizer.tokens, self.frame_shift, self.config.train.units, self.words)

    @torch.inference_mode()
    def logprobs(self, samples: torch.Tensor, warp: float = 1.0) -> np.ndarray:
        """(samples,) at 16 kHz -> (frames', vocab) float32 natural-log posteriors; a unidirectional
        model's audio gets `stream.end_padding_ms` of silence after it, as the streaming recognizer gives it
        (`StreamConfig` says why). `warp` != 1 reads the audio through a vocal tract length warp
        (`asr.features.vtlp_frequencies`; tools/warp_wer.py)."""
        if not self.model.config.bidirectional:
            samples = end_padded(samples, end_padding_samples(self.config.stream))
        feats = self.extractor(samples.to(self.device), warp)
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
        return self.transcribe_nbest(audio, sample_rate, decoder)[0]

    def transcribe_nbest(
        self, audio: Pathlike | np.ndarray | torch.Tensor, sample_rate: int = SAMPLE_RATE, decoder: Decoder | None = None
    ) -> list[Hypothesis]:
        """Like `transcribe`, but the decoder's whole N-best list, best first."""
        if decoder is None:
            self._default_decoder = self._default_decoder or self.decoder()
            decoder = self._default_decoder
        samples = self._samples(audio, sample_rate)
        end = samples.shape[0] / SAMPLE_RATE  # word times stop there, not in the end padding
        return [dataclasses.replace(h, words=words_until(h.words, end)) for h in decoder.decode(self.logprobs(samples))]

    @staticmethod
    def _samples(audio: Pathlike | np.ndarray | torch.Tensor, sample_rate: int) -> torch.Tensor:
        if isinstance(audio, (str, Path)):
            return load(audio)[0]
        array = audio.cpu().numpy() if isinstance(audio, torch.Tensor) else np.asarray(audio)
        return to_mono_16k(array.astype(np.float32, copy=False), sample_rate)


def load_model(path: Pathlike, device: str | torch.device | None = None) -> Transcriber:
    """Load a checkpoint (`weights_only`: it cannot run code) for transcription."""
    payload = load_checkpoint(path)
    model, config, tokenizer, extractor = restore_model(payload, path)
    return Transcriber(model, config, tokenizer, extractor, select_device(device), payload.get("words", {}))
