"""A phone model's decoder: any decoder over phonetic words, its results spelled back in words.

`build_decoder` wraps the greedy or beam-search decoder of a `train.units: phone` model in
`SpelledDecoder`; everything downstream (transcribe, eval, tune-lm, streams, the server)
sees words. Token ids and timings are the search's own; each phonetic word of a result is
replaced by its spelling (`asr.phonetic.Speller`), one word for one word, so word timings and
confidences carry over. A partial's `stable` words are spelled from the stable words alone:
a homophone among them may be respelled once the words after it are known.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from asr.decode.types import Decoder, Hypothesis
from asr.phonetic import Speller


class SpelledDecoder:
    """`inner` (the decoder protocol over phonetic words) with every text spelled by `speller`."""

    def __init__(self, inner: Decoder, speller: Speller) -> None:
        self.inner, self.speller = inner, speller

    def __getattr__(self, name: str) -> Any:  # the search's own settings (beam size, LM, ...)
        return getattr(self.inner, name)

    def with_options(self, options: Any) -> SpelledDecoder:
        """The beam search with other settings (`asr tune-lm`'s grid), spelled the same way."""
        return SpelledDecoder(self.inner.with_options(options), self.speller)

    def _spelled(self, hyp: Hypothesis) -> Hypothesis:
        words = self.speller.spell(hyp.text)
        aligned = tuple(dataclasses.replace(w, word=s) for w, s in zip(hyp.words, words)) if len(hyp.words) == len(words) else hyp.words
        return dataclasses.replace(hyp, text=" ".join(words), words=aligned)

    def decode(self, logprobs: np.ndarray) -> list[Hypothesis]:
        return [self._spelled(h) for h in self.inner.decode(logprobs)]

    def decode_batch(self, batch: Sequence[np.ndarray], num_threads: int = 1) -> list[list[Hypothesis]]:
        return [[self._spelled(h) for h in hyps] for hyps in self.inner.decode_batch(batch, num_threads)]

    def begin(self) -> Any:
        return self.inner.begin()

    def step(self, state: Any, logprobs: np.ndarray) -> Any:
        return self.inner.step(state, logprobs)

    def partial(self, state: Any) -> Hypothesis:
        return self._spelled(self.inner.partial(state))

    def stable(self, state: Any) -> str:
        return " ".join(self.speller.spell(self.inner.stable(state)))

    def end(self, state: Any) -> list[Hypothesis]:
        return [self._spelled(h) for h in self.inner.end(state)]
