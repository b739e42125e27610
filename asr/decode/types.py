"""Decoder results: what every decoder (greedy, beam search) returns."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class WordAlignment:
    """One decoded word with its position in the audio.

    `start`/`end` are seconds from the start of the utterance; `confidence` is in [0, 1].
    """

    word: str
    start: float
    end: float
    confidence: float


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
