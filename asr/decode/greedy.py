"""Greedy (best-path) CTC decoding (Graves et al. 2006): argmax, collapse repeats, drop blanks.

`GreedyDecoder` implements the decoder protocol (`asr.decode.types.Decoder`): one-shot
`decode` and incremental `begin/step/partial/end`, one code path. A chunk's first frame is
collapsed against the previous chunk's last best token, which the state carries, so any
chunking gives the one-shot result. Vectorised over frames: no per-frame Python loop. Numpy
only (the batched torch version that training scores its dev set with is
`asr.train.greedy_ids`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from asr.decode.types import Hypothesis, WordAlignment, check_logprobs, stable_words
from asr.tokenizer import BLANK, SPACE, word_units


@dataclass
class GreedyState:
    """The best path so far: emitted tokens with their frames and log-probs, and the last frame's best token."""

    ids: list[int] = field(default_factory=list)
    frames: list[int] = field(default_factory=list)
    token_logprobs: list[float] = field(default_factory=list)
    last: int = BLANK  # best token of the last frame seen: a repeat of it across a chunk edge is collapsed
    n_frames: int = 0
    am_score: float = 0.0  # sum over frames of the best log-prob


class GreedyDecoder:
    """Best-path decoding with the decoder protocol (an N-best list of one).

    Word timings: a word spans from its first token's frame to the end of its last token's
    frame; its confidence is the geometric mean of its tokens' posteriors at those frames.
    """

    def __init__(self, tokens: Sequence[str], frame_shift: float) -> None:
        self.tokens = tuple(tokens)
        self.frame_shift = frame_shift
        self.word_units = word_units(self.tokens)
        self.space_id = self.tokens.index(SPACE) if SPACE in self.tokens else -1

    def begin(self) -> GreedyState:
        return GreedyState()

    def step(self, state: GreedyState, logprobs: np.ndarray) -> GreedyState:
        """Advance over a chunk of log-probs (frames, vocab); updates `state` in place and returns it."""
        logprobs = check_logprobs(logprobs, len(self.tokens))
        if logprobs.shape[0] == 0:
            return state
        best = logprobs.argmax(-1)
        previous = np.concatenate([[state.last], best[:-1]])
        frames = np.flatnonzero((best != BLANK) & (best != previous))
        state.ids += best[frames].tolist()
        state.token_logprobs += logprobs[frames, best[frames]].tolist()
        state.frames += (frames + state.n_frames).tolist()
        state.last = int(best[-1])
        state.n_frames += logprobs.shape[0]
        state.am_score += float(logprobs.max(-1).astype(np.float64).sum())
        return state

    def partial(self, state: GreedyState) -> Hypothesis:
        """The best path so far (its last word may still grow)."""
        words = self._words(np.array(state.ids, int), np.array(state.frames, int), np.array(state.token_logprobs))
        text = " ".join(w.word for w in words)
        return Hypothesis(text=text, token_ids=tuple(state.ids), score=state.am_score, am_score=state.am_score, words=words)

    def stable(self, state: GreedyState) -> str:
        """The complete words so far: the best path never changes what it has emitted."""
        return stable_words(self.tokens, state.ids, self.word_units)

    def end(self, state: GreedyState) -> list[Hypothesis]:
        return [self.partial(state)]

    def decode(self, logprobs: np.ndarray) -> list[Hypothesis]:
        """logprobs: (frames, vocab) natural-log posteriors -> [best path]."""
        return self.end(self.step(self.begin(), logprobs))

    def decode_batch(self, batch: Sequence[np.ndarray], num_threads: int = 1) -> list[list[Hypothesis]]:
        return [self.decode(x) for x in batch]  # vectorised numpy: threads would not help

    def _words(self, ids: np.ndarray, frames: np.ndarray, token_logprobs: np.ndarray) -> tuple[WordAlignment, ...]:
        if self.word_units:  # every token is a word
            is_space, word_index = np.zeros(len(ids), bool), np.arange(len(ids))
        else:
            is_space = ids == self.space_id
            # Word number of every emitted token; spaces belong to no word.
            word_index = np.cumsum(is_space & np.concatenate([[False], ~is_space[:-1]]))
        words = []
        for w in np.unique(word_index[~is_space]):
            members = np.flatnonzero((word_index == w) & ~is_space)
            word = "".join(self.tokens[i] for i in ids[members])
            start, end = frames[members[0]] * self.frame_shift, (frames[members[-1]] + 1) * self.frame_shift
            confidence = float(np.exp(token_logprobs[members].mean()))
            words.append(WordAlignment(word, round(float(start), 3), round(float(end), 3), confidence))
        return tuple(words)


def greedy_decode(logprobs: np.ndarray, tokens: Sequence[str], frame_shift: float) -> Hypothesis:
    """Best path of one utterance (frames, vocab) with word timings; `frame_shift`: seconds per frame."""
    return GreedyDecoder(tokens, frame_shift).decode(logprobs)[0]
