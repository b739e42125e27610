"""A phone model's decoder: any decoder over phonetic words, its results spelled back in words.

`build_decoder` wraps the greedy or beam-search decoder of a `train.units: phone` model in
`SpelledDecoder`; everything downstream (transcribe, eval, tune-lm, streams, the server)
sees words. Token ids and timings are the search's own; each phonetic word of a result is
replaced by its spelling (`asr.phonetic.Speller`), one word for one word, so word timings and
confidences carry over. A stream's `stable` words keep the spelling they were first given:
later partials and the final result are spelled after them (a homophone there is chosen from
its left context alone), so what a caption has committed never changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from asr.decode.types import Decoder, Hypothesis
from asr.phonetic import Speller


@dataclasses.dataclass
class SpelledState:
    """The inner decoder's state and the stable words given out so far: (phonetic, spelled) pairs."""

    inner: Any
    stable: list[tuple[str, str]] = dataclasses.field(default_factory=list)


class SpelledDecoder:
    """`inner` (the decoder protocol over phonetic words) with every text spelled by `speller`."""

    def __init__(self, inner: Decoder, speller: Speller) -> None:
        self.inner, self.speller = inner, speller

    def __getattr__(self, name: str) -> Any:  # the search's own settings (beam size, LM, ...)
        return getattr(self.inner, name)

    def with_options(self, options: Any) -> SpelledDecoder:
        """The beam search with other settings (`asr tune-lm`'s grid), spelled the same way."""
        return SpelledDecoder(self.inner.with_options(options), self.speller)

    def _spelled(self, hyp: Hypothesis, stable: Sequence[tuple[str, str]] = ()) -> Hypothesis:
        phonetic = hyp.text.split()
        # Keep the stable words' spellings wherever this result starts with them (every
        # surviving hypothesis of a search does).
        fixed = [spelled for _, spelled in stable] if [p for p, _ in stable] == phonetic[: len(stable)] else []
        words = self.speller.spell(hyp.text, fixed)
        aligned = tuple(dataclasses.replace(w, word=s) for w, s in zip(hyp.words, words)) if len(hyp.words) == len(words) else hyp.words
        return dataclasses.replace(hyp, text=" ".join(words), words=aligned)

    def decode(self, logprobs: np.ndarray) -> list[Hypothesis]:
        return [self._spelled(h) for h in self.inner.decode(logprobs)]

    def decode_batch(self, batch: Sequence[np.ndarray], num_threads: int = 1) -> list[list[Hypothesis]]:
        return [[self._spelled(h) for h in hyps] for hyps in self.inner.decode_batch(batch, num_threads)]

    def begin(self) -> SpelledState:
        return SpelledState(self.inner.begin())

    def step(self, state: SpelledState, logprobs: np.ndarray) -> SpelledState:
        state.inner = self.inner.step(state.inner, logprobs)
        return state

    def partial(self, state: SpelledState) -> Hypothesis:
        self._settle(state)  # so that the partial starts with the stable words as `stable` gives them
        return self._spelled(self.inner.partial(state.inner), state.stable)

    def stable(self, state: SpelledState) -> str:
        return " ".join(spelled for _, spelled in self._settle(state))

    def _settle(self, state: SpelledState) -> list[tuple[str, str]]:
        """Spell the words that have become stable, after those already given out, and keep them."""
        phonetic = self.inner.stable(state.inner).split()
        if [p for p, _ in state.stable] != phonetic[: len(state.stable)]:  # not with a search's stable prefix; spell afresh
            state.stable = []
        if len(phonetic) > len(state.stable):
            words = self.speller.spell(" ".join(phonetic), [spelled for _, spelled in state.stable])
            state.stable = list(zip(phonetic, words))
        return state.stable

    def end(self, state: SpelledState) -> list[Hypothesis]:
        return [self._spelled(h, state.stable) for h in self.inner.end(state.inner)]
