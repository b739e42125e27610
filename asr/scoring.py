"""Word and character error rates with jiwer, in total and per utterance."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jiwer


@dataclass(frozen=True)
class ErrorRates:
    wer: float
    cer: float
    substitutions: int
    deletions: int
    insertions: int
    reference_words: int

    @property
    def word_errors(self) -> int:
        return self.substitutions + self.deletions + self.insertions


def error_rates(references: Sequence[str], hypotheses: Sequence[str]) -> ErrorRates:
    """Corpus-level rates (errors summed over utterances, divided by reference length)."""
    if not references:
        return ErrorRates(0.0, 0.0, 0, 0, 0, 0)
    words = jiwer.process_words(list(references), list(hypotheses))
    chars = jiwer.process_characters(list(references), list(hypotheses))
    return ErrorRates(
        wer=words.wer, cer=chars.cer, substitutions=words.substitutions, deletions=words.deletions,
        insertions=words.insertions, reference_words=words.hits + words.substitutions + words.deletions,
    )


def utterance_errors(reference: str, hypothesis: str) -> ErrorRates:
    return error_rates([reference], [hypothesis])
