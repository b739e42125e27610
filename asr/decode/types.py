"""The decoder protocol and its results: what every decoder (greedy, beam search) offers and returns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np


@dataclass(frozen=True)
class WordAlignment:
    """One decoded word with its position in the audio.

    `start`/`end` are seconds from the start of the utterance; `confidence` is in [0, 1].
    """

    word: str
    start: float
    end: float
    confidence: float

    def to_json(self) -> dict:
        """Rounded for reading: milliseconds, three digits of confidence."""
        return {"word": self.word, "start": round(self.start, 3), "end": round(self.end, 3), "confidence": round(self.confidence, 3)}


@dataclass(frozen=True)
class Hypothesis:
    """One transcript hypothesis.

    `score` = `am_score` + `lm_score` (log domain; LM part already weighted and
    including word-insertion bonuses). Greedy decoding has `lm_score` = 0.
    """

    text: str
    token_ids: tuple[int, ...]
    score: float
    am_score: float
    lm_score: float = 0.0
    words: tuple[WordAlignment, ...] = field(default=())


def words_until(words: Sequence[WordAlignment], end: float) -> tuple[WordAlignment, ...]:
    """`words` with no time past `end` seconds: the audio's end, after which only end padding
    (`StreamConfig.end_padding_ms`) was heard."""
    return tuple(WordAlignment(w.word, min(w.start, end), min(w.end, end), w.confidence) for w in words)


@runtime_checkable
class Decoder(Protocol):
    """What every decoder (greedy, beam search) offers; log-probs are (frames, vocab) float32 natural logs.

    One shot: `decode(logprobs)` -> N-best, best first. Incremental, for streams:
    `state = begin()`, then `state = step(state, chunk)` per chunk, `partial(state)` for the
    best hypothesis so far, `stable(state)` for the words of it no later frame can change,
    `end(state)` for the N-best. Any chunking gives the one-shot result.
    """

    def decode(self, logprobs: np.ndarray) -> list[Hypothesis]: ...

    def decode_batch(self, batch: Sequence[np.ndarray], num_threads: int = 1) -> list[list[Hypothesis]]: ...

    def begin(self) -> Any: ...

    def step(self, state: Any, logprobs: np.ndarray) -> Any: ...

    def partial(self, state: Any) -> Hypothesis: ...

    def stable(self, state: Any) -> str: ...

    def end(self, state: Any) -> list[Hypothesis]: ...


def stable_words(tokens: Sequence[str], ids: Sequence[int], word_units: bool) -> str:
    """The complete words of a token sequence: every token with word units, else those before the last space."""
    if word_units:
        return " ".join(tokens[i] for i in ids)
    text = "".join(tokens[i] for i in ids)
    return " ".join(text[: text.rfind(" ") + 1].split())


def check_logprobs(logprobs: np.ndarray, vocab: int) -> np.ndarray:
    """`logprobs` as a C-contiguous float32 (frames, vocab) array, or a ValueError naming the shape."""
    logprobs = np.asarray(logprobs)
    if logprobs.ndim != 2 or logprobs.shape[1] != vocab:
        raise ValueError(f"log-probs must be (frames, {vocab}), got {logprobs.shape}")
    return np.ascontiguousarray(logprobs, dtype=np.float32)
