"""Streaming recognition: audio chunks in, partial and final results out, segments ended at pauses.

Per chunk: resample to 16 kHz when needed (`StreamResampler`), the feature extractor's chunk
call, the model's `step` (a unidirectional model: its state carries the front end's window,
the recurrent state and the lookahead), log-softmax, the endpoint rules on each output frame's
blank posterior (`StreamConfig`), and the decoder's `step`. At an endpoint the decoder `end`s
(a final result, in stream time) and `begin`s the next segment; the model's state carries on,
so the frames of every segment are exactly those of the whole stream. With endpointing off,
any chunking of a file gives the offline transcript (`tests/test_stream.py`).

Every stream's state is an explicit `RecognizerState`; one `Recognizer` serves any number of
streams (`recognizer.stream()` wraps a state for convenience).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from asr.audio import SAMPLE_RATE, AudioError, ResampleState, StreamResampler
from asr.config import StreamConfig
from asr.decode.types import Decoder, WordAlignment, words_until
from asr.features import WINDOW_SAMPLES, FeatureState, end_padding_samples
from asr.model import ChunkedStreaming, StreamState
from asr.tokenizer import BLANK
from asr.transcribe import Transcriber


class StreamError(ValueError):
    """A model or setting that cannot stream; the message says what would."""


@dataclass(frozen=True)
class Partial:
    """The current segment's best text so far; `stable` is the prefix of it no later audio changes."""

    text: str
    stable: str
    segment: int
    type: str = "partial"

    def to_json(self) -> dict:
        return {"type": self.type, "segment": self.segment, "text": self.text, "stable": self.stable}


@dataclass(frozen=True)
class Final:
    """A finished segment: its text, words (times in seconds from the stream's first sample, with
    confidences), the segment's span in stream time and its index (0, 1, ...)."""

    text: str
    words: tuple[WordAlignment, ...]
    start: float
    end: float
    segment: int
    type: str = "final"

    def to_json(self) -> dict:
        words = [w.to_json() for w in self.words]
        return {"type": self.type, "segment": self.segment, "start": round(self.start, 3), "end": round(self.end, 3), "text": self.text, "words": words}


Event = Partial | Final


@dataclass
class RecognizerState:
    """One stream between calls. Frame counts are output (log-prob) frames from the stream's start."""

    features: FeatureState
    model: StreamState
    decoder: Any
    rate: int | None = None  # the stream's sample rate, fixed by its first chunk
    samples: int = 0  # 16 kHz samples so far (end padding needs one feature window of them, as offline)
    audio_end: float = float("inf")  # seconds; set by finish, so that no time lies in the end padding
    resample: ResampleState | None = None
    frames: int = 0
    segment_start: int = 0  # frame where the current segment began
    silence: int = 0  # silent frames at the end so far
    speech: bool = False  # whether the current segment has had a frame of speech
    segment: int = 0  # index of the next final
    partial: str = field(default="")  # the last partial text reported


class Recognizer:
    """Streams through a unidirectional model; `decoder` defaults to the model's own decode settings.

    `runner` is what steps the model: the transcriber's eager model by default, or an exported one
    (`asr.export.load_exported`: TorchScript or onnxruntime) with the same `ChunkedStreaming` code.
    """

    def __init__(
        self, transcriber: Transcriber, decoder: Decoder | None = None, config: StreamConfig | None = None,
        runner: ChunkedStreaming | None = None,
    ) -> None:  # fmt: skip
        if transcriber.model.config.bidirectional:
            raise StreamError(
                "this model is bidirectional, so it needs whole utterances; only a unidirectional one streams "
                "(train with model.bidirectional: false)"
            )
        self.model, self.extractor = runner or transcriber.model, transcriber.extractor
        self.decoder = decoder or transcriber.decoder()
        self.config = config or transcriber.config.stream
        self.frame_shift = transcriber.frame_shift
        c = self.config  # the endpoint rules in output frames
        self.after_speech, self.without_speech, self.longest = (
            round(seconds / self.frame_shift) for seconds in (c.silence_after_speech, c.silence_without_speech, c.max_segment)
        )
        self._resamplers: dict[int, StreamResampler] = {}
        self.init_state()  # a model or features that cannot stream fail here, not on the first chunk

    def init_state(self) -> RecognizerState:
        return RecognizerState(self.extractor.init_state(), self.model.initial_state(), self.decoder.begin())

    def stream(self) -> Stream:
        return Stream(self, self.init_state())

    @torch.inference_mode()
    def accept(self, samples: np.ndarray | torch.Tensor, state: RecognizerState, sample_rate: int = SAMPLE_RATE) -> list[Event]:
        """The next chunk (samples,) or (samples, channels) at `sample_rate` -> the events it produced.
        Updates `state` in place."""
        audio = self._mono(samples)
        if state.rate is None:
            state.rate = sample_rate
            state.resample = self._resampler(sample_rate).init_state() if sample_rate != SAMPLE_RATE else None
        elif sample_rate != state.rate:
            raise AudioError(f"the sample rate changed mid-stream from {state.rate} to {sample_rate} Hz")
        if state.resample is not None:
            audio, state.resample = self._resampler(state.rate).accept(audio, state.resample)
        return self._audio(audio, state)

    @torch.inference_mode()
    def finish(self, state: RecognizerState) -> list[Event]:
        """End of the stream: `stream.end_padding_ms` of silence, the model's lookahead flushed and
        the last segment's final returned. `state` is then fresh, ready for a new stream."""
        events = []
        if state.resample is not None:
            events += self._audio(self._resampler(state.rate).flush(state.resample), state)
        state.audio_end = state.samples / SAMPLE_RATE
        if state.samples >= WINDOW_SAMPLES and self.config.end_padding_ms:  # the rule of features.end_padded
            events += self._audio(torch.zeros(end_padding_samples(self.config)), state)
        events += self._logprobs(self._softmax(self.model.flush(state.model)), state)
        events += self._end_segment(state, state.frames)
        state.__dict__.update(self.init_state().__dict__)
        return events

    # -- steps -------------------------------------------------------------------------------

    def _audio(self, audio: torch.Tensor, state: RecognizerState) -> list[Event]:
        """16 kHz samples (CPU; resampling happens there) -> features and logits where the model runs."""
        state.samples += audio.shape[0]
        frames, state.features = self.extractor.accept(audio.to(self.extractor.cmvn_mean.device), state.features)
        logits, state.model = self.model.step(frames[None], state.model)
        return self._logprobs(self._softmax(logits), state)

    def _softmax(self, logits: torch.Tensor) -> np.ndarray:
        return logits[0].float().log_softmax(-1).cpu().numpy()  # the one device->host copy per chunk

    def _logprobs(self, logprobs: np.ndarray, state: RecognizerState) -> list[Event]:
        """Decode (frames, vocab) log-probs, ending segments where the endpoint rules say."""
        events, start = [], 0
        if self.config.endpointing:
            for t in self._endpoints(logprobs, state):
                self.decoder.step(state.decoder, logprobs[start:t])
                events += self._end_segment(state, state.frames + t)
                start = t
        if start < logprobs.shape[0]:
            self.decoder.step(state.decoder, logprobs[start:])
        state.frames += logprobs.shape[0]
        if logprobs.shape[0]:
            text = self.decoder.partial(state.decoder).text
            if text != state.partial:
                state.partial = text
                events.append(Partial(text, self.decoder.stable(state.decoder), state.segment))
        return events

    def _endpoints(self, logprobs: np.ndarray, state: RecognizerState) -> list[int]:
        """Frames of this chunk (counted from its start) after which a segment ends; updates the
        silence counters (a few frames per chunk: a plain loop)."""
        after_speech, without_speech, longest = self.after_speech, self.without_speech, self.longest
        silent = np.exp(logprobs[:, BLANK]) > self.config.blank_threshold
        ends, segment_start = [], state.segment_start - state.frames  # relative to this chunk
        for t, is_silent in enumerate(silent.tolist()):
            state.silence = state.silence + 1 if is_silent else 0
            state.speech = state.speech or not is_silent
            length = t + 1 - segment_start
            if (state.speech and state.silence >= after_speech) or (not state.speech and state.silence >= without_speech) or length >= longest:
                ends.append(t + 1)
                segment_start, state.silence, state.speech = t + 1, 0, False
        return ends

    def _end_segment(self, state: RecognizerState, frame: int) -> list[Event]:
        """Close the segment at output `frame`: a final if anything was said, then a fresh decoder."""
        best = self.decoder.end(state.decoder)[0]
        offset = state.segment_start * self.frame_shift
        events: list[Event] = []
        if best.text:
            words = tuple(dataclasses.replace(w, start=w.start + offset, end=w.end + offset) for w in best.words)
            end = min(frame * self.frame_shift, state.audio_end)
            events.append(Final(best.text, words_until(words, end), min(offset, end), end, state.segment))
            state.segment += 1
        state.decoder, state.segment_start, state.partial = self.decoder.begin(), frame, ""
        return events

    def _resampler(self, rate: int) -> StreamResampler:
        if rate not in self._resamplers:
            self._resamplers[rate] = StreamResampler(rate)
        return self._resamplers[rate]

    def _mono(self, samples: np.ndarray | torch.Tensor) -> torch.Tensor:
        audio = (samples if isinstance(samples, torch.Tensor) else torch.from_numpy(np.asarray(samples))).float()
        if audio.ndim == 2:
            audio = audio.mean(1)
        if audio.ndim != 1:
            raise AudioError(f"expected (samples,) or (samples, channels) audio, got shape {tuple(audio.shape)}")
        if not torch.isfinite(audio).all():
            raise AudioError("audio chunk contains NaN or infinite samples")
        return audio.cpu()


class Stream:
    """One stream with its own state: `accept(chunk, rate)` and `finish()` return events."""

    def __init__(self, recognizer: Recognizer, state: RecognizerState) -> None:
        self.recognizer, self.state = recognizer, state

    def accept(self, samples: np.ndarray | torch.Tensor, sample_rate: int = SAMPLE_RATE) -> list[Event]:
        return self.recognizer.accept(samples, self.state, sample_rate)

    def finish(self) -> list[Event]:
        return self.recognizer.finish(self.state)
