"""CTC prefix beam search with a word n-gram LM, hotwords and an optional lexicon.

The search is Hannun et al. 2014 ("First-pass large vocabulary continuous speech
recognition using bi-directional recurrent DNNs", algorithm 1) over the CTC
output of Graves et al. 2006, in log space: each prefix keeps the probability
of the frames so far ending in blank (p_b) and in its last token (p_nb).

The word LM (`asr/decode/lm.py`) is applied when a word ends: a space token
appended after a non-empty word, and at the end of the utterance (the last word,
then `</s>`). Decoding is lexicon-free by default: a word the LM has never seen
is scored as `<unk>`, plus `unk_offset` as soon as the spelling leaves the LM
vocabulary. A lexicon restricts the words that can be completed.
A space after a space (or at the start) leaves the text unchanged, so it adds
to the same prefix: a prefix's probability is that of every alignment whose
collapsed text normalises to it.

Per frame: every hypothesis stays (blank, or a repeat of its last token), then
extends by each of the frame's `token_topk` best tokens; identical prefixes are
merged through a hash of their token sequence; an extension whose own score is
more than `beam_threshold` below the best staying hypothesis is not made; then
the best `beam_size` candidates within `beam_threshold` of the best survive.
Scores of equal value keep the candidate generated first.

Prefixes live in a preallocated tree (parent pointer + token per node), so
extending one is O(1); per node it keeps the LM state, the word-trie and
hotword-trie nodes and its LM/bonus score. The kernels are Numba functions on
arrays (`cache=True`, `nogil=True`) and `asr/decode/reference.py` is the plain
Python version the tests compare them with.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from asr.config import BeamSearchOptions
from asr.decode import prefix_beam_kernels as k
from asr.decode.lexicon import HotwordTrie, WordTrie, empty_hotword_arrays, empty_word_arrays
from asr.decode.lm import BOS, EOS, LN10, UNK, NgramLM
from asr.decode.types import Hypothesis, WordAlignment, check_logprobs, stable_words
from asr.tokenizer import SPACE, word_units

FRAMES_PER_CALL = 256  # frames per kernel call: bounds the tree growth between compactions


@dataclass
class BeamState:
    """The search between chunks. `step` updates it in place (and returns it)."""

    tree: tuple[np.ndarray, ...]  # parent, token, lm state (capacity, order-1), word node, hotword node, ...
    n_nodes: int
    beam_node: np.ndarray  # int32[beam_size], best first
    beam_pb: np.ndarray  # float64[beam_size]
    beam_pnb: np.ndarray  # float64[beam_size]
    n_beam: int
    n_frames: int  # frames decoded so far


class BeamSearchDecoder:
    """CTC prefix beam search over log-probs (frames, vocab) float32 (natural log), with the decoder
    protocol (`asr.decode.types.Decoder`).

    `tokens[0]` is the blank and `" "` separates words. `hotwords` maps a word to
    the bonus (natural log) it earns when completed; while a word is a prefix of
    a hotword it holds a proportional share, taken back if the word ends
    otherwise. Word timings come from the search itself: each character of a
    prefix remembers the frame t where the prefix was likeliest to end in it,
    emitted at t: the highest p_nb(t) (after merges and repeats) relative to the
    probability of the best hypothesis at t, updated in place as frames come (for
    peaky CTC output, the character's spike, even when the prefix entered the beam
    earlier on a tiny probability), and its log-prob there. Read back along the
    winning prefix, a character's frame is moved before the next character's where
    it is not already, so timings never go backwards. A word starts at its first
    character's frame and ends after its last one's, in seconds (t * frame_shift,
    (t + 1) * frame_shift); its confidence is the geometric mean of its characters'
    posteriors at their own frames, exp(mean log p), in [0, 1]. Cost per frame: one
    log-add and one comparison per surviving hypothesis.
    """

    def __init__(
        self,
        tokens: Sequence[str],
        options: BeamSearchOptions = BeamSearchOptions(),
        lm: NgramLM | None = None,
        lexicon: Iterable[str] | None = None,
        hotwords: Mapping[str, float] | None = None,
        frame_shift: float = 0.04,
    ) -> None:
        self.tokens = tuple(tokens)
        self.options = options
        self.frame_shift = frame_shift
        index = {t: i for i, t in enumerate(self.tokens)}
        self.space_id = index.get(SPACE, -1)
        self.word_units = word_units(self.tokens)
        if self.word_units and (lm is not None or lexicon is not None or hotwords):
            raise ValueError("this model has word units: its vocabulary is the lexicon, and an LM or hotwords need character units")
        if self.space_id < 0 and (lm is not None or lexicon is not None or hotwords):
            raise ValueError("an LM, a lexicon or hotwords need a space token")
        if lexicon is not None:
            words = {w: (lm.word_ids.get(w, lm.unk_id) if lm else 0) for w in lexicon}
            self._words = WordTrie.build(words, index).arrays()
        elif lm is not None:
            words = {w: i for w, i in lm.word_ids.items() if w not in (BOS, EOS, UNK)}
            self._words = WordTrie.build(words, index).arrays()
        else:
            self._words = empty_word_arrays()
        hot = HotwordTrie.build(hotwords, index) if hotwords else None
        self._hot = hot.arrays() if hot else empty_hotword_arrays()
        self._lm = lm.arrays if lm else _EMPTY_LM
        self._ctx_len = lm.state_size if lm else 0
        self._root_ctx = lm.initial_state() if lm else np.zeros(0, np.int32)
        self._sources = (lm, lexicon is not None, hot)
        self._fpar, self._ipar = self._params(options)

    def with_options(self, options: BeamSearchOptions) -> BeamSearchDecoder:
        """This decoder (same tokens, LM, lexicon, hotwords) with other options, without rebuilding
        its tries: for sweeping alpha / beta / beam."""
        other = copy.copy(self)
        other.options = options
        other._fpar, other._ipar = self._params(options)
        return other

    def _params(self, o: BeamSearchOptions) -> tuple[np.ndarray, np.ndarray]:
        lm, use_lexicon, hot = self._sources
        log_skip = math.log(o.blank_skip_threshold) if o.blank_skip_threshold < 1 else math.inf
        return k.pack_params(
            alpha_ln10=o.alpha * LN10, beta=o.beta, unk_offset=o.unk_offset, threshold=o.beam_threshold,
            min_logprob=o.token_min_logprob, log_skip=log_skip, max_gain=_max_gain(o, lm, hot),
            beam=o.beam_size, topk=o.token_topk, space=self.space_id, use_lm=lm is not None,
            use_lexicon=use_lexicon, use_hotwords=hot is not None, unk=lm.unk_id if lm else -1,
            eos=lm.eos_id if lm else -1,
        )  # fmt: skip

    # -- incremental decoding ---------------------------------------------------------------

    def begin(self) -> BeamState:
        """A state holding only the empty prefix."""
        tree = k.new_tree(1 + self.options.beam_size * FRAMES_PER_CALL, self._ctx_len)
        k.init_root(tree, self._root_ctx, self._ipar)
        size = self.options.beam_size
        node, pb, pnb = np.zeros(size, np.int32), np.zeros(size), np.full(size, -np.inf)
        return BeamState(tree, 1, node, pb, pnb, 1, 0)

    def step(self, state: BeamState, logprobs: np.ndarray) -> BeamState:
        """Advance over a chunk of log-probs (frames, vocab)."""
        logprobs = self._check(logprobs)
        for start in range(0, logprobs.shape[0], FRAMES_PER_CALL):
            chunk = logprobs[start : start + FRAMES_PER_CALL]
            self._reserve(state, chunk.shape[0])
            state.n_beam, state.n_nodes = k.advance(
                chunk, state.n_frames, state.beam_node, state.beam_pb, state.beam_pnb, state.n_beam,
                state.tree, state.n_nodes, self._lm, self._words, self._hot, self._fpar, self._ipar,
            )  # fmt: skip
            state.n_frames += chunk.shape[0]
        return state

    def partial(self, state: BeamState) -> Hypothesis:
        """The best hypothesis so far, without end-of-utterance scoring (its last word may be incomplete)."""
        node = int(state.beam_node[0])
        am = _logaddexp(float(state.beam_pb[0]), float(state.beam_pnb[0]))
        return self._hypothesis(state, node, am, float(state.tree[k.EXT][node]))

    def stable(self, state: BeamState) -> str:
        """The complete words every surviving prefix shares: whatever comes later extends one of them."""
        paths = [k.node_path(state.tree[k.PARENT], int(node)) for node in state.beam_node[: state.n_beam]]
        shared = min(map(len, paths), default=0)
        for path in paths[1:]:
            differ = np.flatnonzero(path[:shared] != paths[0][:shared])
            shared = int(differ[0]) if differ.size else shared
        ids = state.tree[k.TOKEN][paths[0][:shared]].tolist() if paths else []
        return stable_words(self.tokens, ids, self.word_units)

    def end(self, state: BeamState) -> list[Hypothesis]:
        """Score the last word and `</s>`; the N-best (best first), each with word timings.

        When a lexicon rejects every surviving prefix, returns the empty text with score -inf.
        """
        return self._nbest(k.finish(
            state.beam_node, state.beam_pb, state.beam_pnb, state.n_beam, state.tree, self._lm, self._words,
            self._hot, self._fpar, self._ipar, self.options.nbest,
        ))  # fmt: skip

    # -- one shot ---------------------------------------------------------------------------

    def decode(self, logprobs: np.ndarray) -> list[Hypothesis]:
        """N-best hypotheses, best first, for log-probs (frames, vocab); the same as `end(step(begin(), x))`
        in one kernel call."""
        return self._nbest(k.decode_utterance(
            self._check(logprobs), FRAMES_PER_CALL, self._root_ctx, self._lm, self._words, self._hot,
            self._fpar, self._ipar, self.options.nbest,
        ))  # fmt: skip

    def decode_batch(self, batch: Sequence[np.ndarray], num_threads: int = 1) -> list[list[Hypothesis]]:
        """`decode` on each (frames_i, vocab) array; the kernels release the GIL, so threads scale."""
        if num_threads <= 1:
            return [self.decode(x) for x in batch]
        with ThreadPoolExecutor(num_threads) as pool:
            return list(pool.map(self.decode, batch))

    # -- helpers ----------------------------------------------------------------------------

    def _check(self, logprobs: np.ndarray) -> np.ndarray:
        return check_logprobs(logprobs, len(self.tokens))

    def _reserve(self, state: BeamState, n_frames: int) -> None:
        """Make room for `n_frames` more frames of new nodes: drop dead branches, grow if still tight."""
        capacity = state.tree[k.PARENT].shape[0]
        need = n_frames * self.options.beam_size
        if state.n_nodes + need <= capacity:
            return
        state.n_nodes = k.compact(state.tree, state.n_nodes, state.beam_node, state.n_beam)
        if 2 * (state.n_nodes + need) > capacity:
            state.tree = k.grow_tree(state.tree, 2 * (state.n_nodes + need))

    def _hypothesis(self, state: BeamState, node: int, am: float, lm: float) -> Hypothesis:
        nodes = k.node_path(state.tree[k.PARENT], node)
        if len(nodes) and state.tree[k.TOKEN][nodes[-1]] == self.space_id:
            nodes = nodes[:-1]  # "a b " is the text "a b"
        ids, logprobs = state.tree[k.TOKEN][nodes].tolist(), state.tree[k.EMIT][nodes].tolist()
        return self._make(ids, _ordered(state.tree[k.FRAME][nodes]), logprobs, am, lm)

    def _nbest(self, ranked: tuple[np.ndarray, np.ndarray]) -> list[Hypothesis]:
        """Hypotheses from what `k.finish` returns (as lists first: slicing arrays costs more here)."""
        ints, floats = ranked[0].tolist(), ranked[1].tolist()
        n = ints[0]
        if not n:
            return [Hypothesis("", (), -math.inf, -math.inf)]
        offsets = ints[1 : n + 2]
        ids, frames, logprobs = ints[n + 2 : n + 2 + offsets[-1]], ints[n + 2 + offsets[-1] :], floats[2 * n :]
        return [
            self._make(ids[a:b], frames[a:b], logprobs[a:b], floats[r], floats[n + r])
            for r, (a, b) in enumerate(zip(offsets, offsets[1:]))
        ]

    def _make(self, ids: list[int], frames: list[int], logprobs: list[float], am: float, lm: float) -> Hypothesis:
        """A hypothesis from its tokens with their frames and log-probs (text length,)."""
        pieces = [self.tokens[i] for i in ids]
        if self.word_units:  # each token is a word, timed by its own frame
            shift = self.frame_shift
            words = tuple(WordAlignment(w, f * shift, (f + 1) * shift, min(1.0, math.exp(p))) for w, f, p in zip(pieces, frames, logprobs))
            return Hypothesis(" ".join(pieces), tuple(ids), am + lm, am, lm, words)
        text = "".join(pieces)
        return Hypothesis(text, tuple(ids), am + lm, am, lm, _words(text, frames, logprobs, self.frame_shift))


def _words(text: str, frames: list[int], logprobs: list[float], frame_shift: float) -> tuple[WordAlignment, ...]:
    """Word timings and confidences (see `BeamSearchDecoder`); frames, logprobs: per character of text.
    Plain Python: for a few words it is faster than numpy."""
    words, start = [], 0
    for word in text.split(SPACE):
        end = start + len(word)
        if word:
            confidence = min(1.0, math.exp(math.fsum(logprobs[start:end]) / len(word)))
            begin, finish = frames[start] * frame_shift, (frames[end - 1] + 1) * frame_shift
            words.append(WordAlignment(word, begin, finish, confidence))
        start = end + 1
    return tuple(words)


def _ordered(frames: np.ndarray) -> list[int]:
    """Each frame moved before the next one where it is not already: min(f[i], f[i + 1] - 1), from the
    end (as `k.finish` does). On f[i] - i that is a running minimum from the end."""
    steps = np.arange(len(frames))
    return (np.minimum.accumulate((frames.astype(np.int64) - steps)[::-1])[::-1] + steps).tolist()


def _logaddexp(a: float, b: float) -> float:
    """log(exp(a) + exp(b)), the kernels' formula."""
    if a < b:
        a, b = b, a
    return a if b == -math.inf else a + math.log1p(math.exp(b - a))


def _max_gain(o: BeamSearchOptions, lm: NgramLM | None, hot: HotwordTrie | None) -> float:
    """An upper bound on how much an extension can raise the non-acoustic score (for early pruning)."""
    gain = 0.0
    if lm is not None:
        _, probs, backoffs, uni_probs, uni_backoffs = lm.arrays
        best_bow = max(0.0, float(backoffs.max()), float(uni_backoffs.max()))
        best_prob = max(float(probs.max()), float(uni_probs.max()))
        gain += max(0.0, o.alpha * LN10 * (best_prob + (lm.order - 1) * best_bow) + o.beta) + max(0.0, o.unk_offset)
    if hot is not None:
        values = np.concatenate([hot.partial, hot.final, [0.0]])
        gain += float(values.max() - values.min())
    return gain


_EMPTY_LM = (
    np.zeros(2, np.uint64), np.zeros(2, np.float32), np.zeros(2, np.float32), np.zeros(1, np.float32),
    np.zeros(1, np.float32),
)  # fmt: skip
