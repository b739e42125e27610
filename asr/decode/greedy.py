"""Greedy (best-path) CTC decoding (Graves et al. 2006): argmax, collapse repeats, drop blanks.

Vectorised over frames: no per-frame Python loop. Numpy only (the batched torch version that
training scores its dev set with is `asr.train.greedy_ids`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from asr.decode.types import Hypothesis, WordAlignment
from asr.tokenizer import BLANK, SPACE, word_units


def greedy_decode(logprobs: np.ndarray, tokens: Sequence[str], frame_shift: float) -> Hypothesis:
    """Best path of one utterance with word timings.

    logprobs: (frames, vocab) natural-log posteriors. `frame_shift` is seconds per frame.
    A word spans from its first character's frame to the end of its last character's
    frame; its confidence is the geometric mean of its characters' posteriors.
    """
    best = logprobs.argmax(-1)
    previous = np.concatenate([[BLANK], best[:-1]])
    frames = np.flatnonzero((best != BLANK) & (best != previous))
    ids = best[frames]
    token_logprobs = logprobs[frames, ids]
    words = _words(ids, frames, token_logprobs, tokens, frame_shift)
    text = " ".join(w.word for w in words)
    am_score = float(logprobs.max(-1).sum())
    return Hypothesis(text=text, token_ids=tuple(int(i) for i in ids), score=am_score, am_score=am_score, words=words)


def _words(ids: np.ndarray, frames: np.ndarray, token_logprobs: np.ndarray, tokens: Sequence[str], frame_shift: float) -> tuple[WordAlignment, ...]:
    if word_units(tokens):  # every token is a word
        is_space, word_index = np.zeros(len(ids), bool), np.arange(len(ids))
    else:
        is_space = ids == (tokens.index(SPACE) if SPACE in tokens else -1)
        # Word number of every emitted token; spaces belong to no word.
        word_index = np.cumsum(is_space & np.concatenate([[False], ~is_space[:-1]]))
    words = []
    for w in np.unique(word_index[~is_space]):
        members = np.flatnonzero((word_index == w) & ~is_space)
        word = "".join(tokens[i] for i in ids[members])
        start, end = frames[members[0]] * frame_shift, (frames[members[-1]] + 1) * frame_shift
        confidence = float(np.exp(token_logprobs[members].mean()))
        words.append(WordAlignment(word, round(float(start), 3), round(float(end), 3), confidence))
    return tuple(words)
