"""Word n-gram language model read from an ARPA file, scored inside Numba kernels.

The ARPA file (what KenLM's `lmplz` writes, any order; log10 probabilities and
back-off weights) is read once into numpy arrays:
  * unigram log-probs and back-offs indexed by word id;
  * an open-addressing hash table for orders >= 2 whose key is a 64-bit hash of
    the n-gram's word ids taken right to left (as KenLM's probing model does:
    the key is not stored, a collision between two n-grams is ~n^2 / 2^64).

`lm_logprob10` scores a word after a context with the usual back-off rule
(Katz 1987; here the interpolated Kneser-Ney model of Chen & Goodman 1998 that
`asr/decode/lm_build.py` writes), matching `kenlm.Model.score`:
    p(w | c1..ck) = p(c1..ck w)                   if that n-gram is listed
                  = bow(c1..ck) + p(w | c2..ck)  otherwise (missing bow = 0).
A state is the last `order - 1` word ids, oldest first, padded on the left with -1.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numba import njit

from asr.decode.lexicon import GOLDEN, mix64, table_capacity

LN10 = math.log(10.0)
BOS, EOS, UNK = "<s>", "</s>", "<unk>"
UNK_LOGPROB10 = -100.0  # KenLM's choice when an ARPA file lacks <unk>
NO_WORD = -1

LmArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


@njit  # scalars only: LLVM inlines it; Numba-level inlining would only slow the compile
def _extend_hash(h, word):
    """Hash of an n-gram grown one word to the left; never 0 (0 marks an empty slot)."""
    return mix64(h + np.uint64(word + 1) * np.uint64(GOLDEN)) | np.uint64(1)


@njit(inline="always")
def _find(keys, h):
    mask = np.uint64(keys.shape[0] - 1)
    slot = h & mask
    while True:
        k = keys[slot]
        if k == h:
            return np.int64(slot)
        if k == 0:
            return np.int64(-1)
        slot = (slot + np.uint64(1)) & mask


@njit(cache=True)
def _insert_ngrams(ids, probs, backoffs, keys, table_probs, table_backoffs):
    """ids: int32 (count, n), words left to right."""
    for i in range(ids.shape[0]):
        h = np.uint64(0)
        for j in range(ids.shape[1] - 1, -1, -1):
            h = _extend_hash(h, ids[i, j])
        mask = np.uint64(keys.shape[0] - 1)
        slot = h & mask
        while keys[slot] != 0 and keys[slot] != h:
            slot = (slot + np.uint64(1)) & mask
        keys[slot] = h
        table_probs[slot] = probs[i]
        table_backoffs[slot] = backoffs[i]


@njit(inline="always")
def lm_logprob10(lm, state, word, out_state):
    """log10 p(word | state) with back-off; writes the next state into `out_state`.

    lm: the `NgramLM.arrays` tuple. state, out_state: int32[order - 1] (may be the same array).
    Inlined into the calling kernel (a call would pass and reference-count five arrays).
    """
    keys, probs, backoffs, uni_probs, uni_backoffs = lm
    n = state.shape[0]
    return lm_logprob10_rows(
        keys, probs, backoffs, uni_probs, uni_backoffs, state.reshape((1, n)), 0, word, out_state.reshape((1, n)), 0
    )


@njit(inline="always")
def lm_logprob10_rows(keys, probs, backoffs, uni_probs, uni_backoffs, states, row, word, out_states, out_row):
    """`lm_logprob10` with the LM arrays unpacked and the states rows of 2-D arrays
    (states[row] -> out_states[out_row]; may be the same row): for hot loops, where
    unpacking a tuple or slicing a row costs an atomic reference-count update per array."""
    n = states.shape[1]
    prob = np.float64(uni_probs[word])
    matched = 0  # context words of the longest listed n-gram ending in `word`
    h = _extend_hash(np.uint64(0), word)
    for j in range(n):
        c = states[row, n - 1 - j]
        if c < 0:
            break
        h = _extend_hash(h, c)
        slot = _find(keys, h)
        if slot < 0:
            break  # ARPA n-grams are suffix-closed: no longer match either
        prob = np.float64(probs[slot])
        matched = j + 1
    backoff = 0.0  # bows of the contexts longer than the matched one
    h = np.uint64(0)
    for j in range(n):
        c = states[row, n - 1 - j]
        if c < 0:
            break
        h = _extend_hash(h, c)
        if j < matched:
            continue
        if j == 0:
            backoff += uni_backoffs[c]
        else:
            slot = _find(keys, h)
            if slot < 0:
                break
            backoff += backoffs[slot]
    for j in range(n - 1):
        out_states[out_row, j] = states[row, j + 1]
    if n > 0:
        out_states[out_row, n - 1] = word
    return prob + backoff


@njit(cache=True, nogil=True)
def _score_word(lm, state, word, out_state):
    return lm_logprob10(lm, state, word, out_state)


@njit(cache=True, nogil=True)
def _score_ids(lm, ids, state):
    total = 0.0
    for i in range(ids.shape[0]):
        total += lm_logprob10(lm, state, ids[i], state)
    return total


@dataclass(frozen=True)
class ArpaModel:
    """An ARPA file as read: vocabulary in unigram order, and per order n (index n - 1)
    word ids int32 (count, n), log10 probs float32 (count,), log10 back-offs float32 (count,)."""

    vocab: tuple[str, ...]
    ngrams: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]

    @property
    def order(self) -> int:
        return len(self.ngrams)


def _lines(source: str | Path) -> Iterator[str]:
    path = Path(source)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:  # type: ignore[operator]
        yield from f


def read_arpa_file(path: str | Path) -> ArpaModel:
    """Read an ARPA file, gzipped if its name ends in `.gz`."""
    return read_arpa(_lines(path))


def read_arpa(lines: Iterable[str]) -> ArpaModel:
    """Parse ARPA text (an iterable of lines). Fields may be separated by tabs or spaces."""
    it = iter(lines)
    for line in it:
        if line.strip() == "\\data\\":
            break
    counts: dict[int, int] = {}
    section = ""
    for line in it:
        line = line.strip()
        if line.startswith("ngram "):
            n, count = line[len("ngram ") :].split("=")
            counts[int(n)] = int(count)
        elif line.startswith("\\"):
            section = line
            break
    if not counts:
        raise ValueError("not an ARPA file: no \\data\\ section with ngram counts")
    word_ids: dict[str, int] = {}
    ngrams = []
    while section != "\\end\\":
        n = int(section[1 : section.index("-")])
        words, probs, backoffs = [], [], []
        section = "\\end\\"
        for line in it:
            parts = line.split()
            if not parts:
                continue
            if parts[0].startswith("\\"):
                section = parts[0]
                break
            probs.append(float(parts[0]))
            backoffs.append(float(parts[n + 1]) if len(parts) > n + 1 else 0.0)
            if n == 1:
                word_ids.setdefault(parts[1], len(word_ids))
                words.append(word_ids[parts[1]])
            else:
                words.extend(word_ids[w] for w in parts[1 : n + 1])
        if len(probs) != counts.get(n):
            raise ValueError(f"ARPA header says {counts.get(n)} {n}-grams, found {len(probs)}")
        ids = np.asarray(words, dtype=np.int32).reshape(len(probs), n)
        ngrams.append((ids, np.asarray(probs, dtype=np.float32), np.asarray(backoffs, dtype=np.float32)))
    return ArpaModel(tuple(word_ids), tuple(ngrams))


class NgramLM:
    """A back-off word n-gram LM in arrays; log10 scores as `kenlm.Model.score`.

    `arrays` is what Numba kernels take; `initial_state()` begins a sentence after `<s>`.
    Words outside the vocabulary are scored as `<unk>`.
    """

    def __init__(self, model: ArpaModel) -> None:
        self.order = model.order
        self.vocab = model.vocab
        self.word_ids = {w: i for i, w in enumerate(model.vocab)}
        _, uni_probs, uni_backoffs = model.ngrams[0]  # unigram i has word id i
        if UNK not in self.word_ids:
            self.word_ids[UNK] = len(self.vocab)
            self.vocab = (*self.vocab, UNK)
            uni_probs = np.append(uni_probs, np.float32(UNK_LOGPROB10))
            uni_backoffs = np.append(uni_backoffs, np.float32(0.0))
        n_higher = sum(ids.shape[0] for ids, _, _ in model.ngrams[1:])
        keys = np.zeros(table_capacity(max(n_higher, 1)), dtype=np.uint64)
        probs = np.zeros(keys.shape[0], dtype=np.float32)
        backoffs = np.zeros(keys.shape[0], dtype=np.float32)
        for ids, p, b in model.ngrams[1:]:
            _insert_ngrams(ids, p, b, keys, probs, backoffs)
        self.arrays: LmArrays = (keys, probs, backoffs, uni_probs, uni_backoffs)
        self.bos_id = self.word_ids[BOS]
        self.eos_id = self.word_ids[EOS]
        self.unk_id = self.word_ids[UNK]

    @classmethod
    def load(cls, path: str | Path) -> NgramLM:
        """Read an ARPA file (`.arpa` or `.arpa.gz`)."""
        return cls(read_arpa_file(path))

    @classmethod
    def from_arpa_text(cls, text: str) -> NgramLM:
        return cls(read_arpa(text.splitlines()))

    @property
    def state_size(self) -> int:
        return self.order - 1

    def word_id(self, word: str) -> int:
        return self.word_ids.get(word, self.unk_id)

    def initial_state(self, bos: bool = True) -> np.ndarray:
        """int32[order - 1]: the context after `<s>` (bos) or no context at all."""
        state = np.full(self.state_size, NO_WORD, dtype=np.int32)
        if bos and self.state_size:
            state[-1] = self.bos_id
        return state

    def score_word(self, state: np.ndarray, word: str) -> tuple[float, np.ndarray]:
        """(log10 p(word | state), next state)."""
        out = np.empty_like(state)
        return float(_score_word(self.arrays, state, self.word_id(word), out)), out

    def score_sentence(self, text: str, bos: bool = True, eos: bool = True) -> float:
        """log10 probability of the whitespace-split words of `text`, like `kenlm.Model.score`."""
        ids = [self.word_id(w) for w in text.split()]
        if eos:
            ids.append(self.eos_id)
        return float(_score_ids(self.arrays, np.asarray(ids, dtype=np.int32), self.initial_state(bos)))
