"""Plain-Python CTC prefix beam search: the specification `prefix_beam.py` is tested against.

The same algorithm (Hannun et al. 2014 over CTC, Graves et al. 2006), pruning,
LM, hotword and lexicon rules as `asr/decode/prefix_beam.py` (read its module
docstring), written for clarity: prefixes are tuples of token ids, their scores
are recomputed from the words they spell, and the LM is a dict of n-grams
read from the same ARPA file. Slow; for tests on small inputs only.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from asr.decode.lm import BOS, EOS, LN10, UNK, read_arpa_file
from asr.decode.prefix_beam import SPACE, BeamSearchOptions
from asr.decode.types import Hypothesis, WordAlignment

Prefix = tuple[int, ...]


def logaddexp(a: float, b: float) -> float:
    if a < b:
        a, b = b, a
    return a if b == -math.inf else a + math.log1p(math.exp(b - a))


class ReferenceNgramLM:
    """A back-off n-gram LM as dicts of word tuples: log10 p and back-off (Katz 1987)."""

    def __init__(self, path: str | Path) -> None:
        model = read_arpa_file(path)
        self.order = model.order
        self.prob: dict[tuple[str, ...], float] = {}
        self.backoff: dict[tuple[str, ...], float] = {}
        for ids, probs, backoffs in model.ngrams:
            for row, p, b in zip(ids, probs, backoffs):
                gram = tuple(model.vocab[i] for i in row)
                self.prob[gram], self.backoff[gram] = float(p), float(b)
        self.vocab = {g[0] for g in self.prob if len(g) == 1}

    def logprob10(self, history: Sequence[str], word: str) -> float:
        """log10 p(word | history); history words outside the vocabulary count as <unk>."""
        context = tuple(w if w in self.vocab else UNK for w in history)[max(0, len(history) - self.order + 1) :]
        word = word if word in self.vocab else UNK
        backoff = 0.0
        for i in range(len(context) + 1):
            if context[i:] + (word,) in self.prob:
                return self.prob[context[i:] + (word,)] + backoff
            backoff += self.backoff.get(context[i:], 0.0)
        return -100.0  # no <unk> in the file (KenLM's value)


class ReferenceBeamSearch:
    """`BeamSearchDecoder.decode` in plain Python; same arguments, same results."""

    def __init__(
        self,
        tokens: Sequence[str],
        options: BeamSearchOptions,
        lm: ReferenceNgramLM | None = None,
        lexicon: Iterable[str] | None = None,
        hotwords: Mapping[str, float] | None = None,
        frame_shift: float = 0.04,
    ) -> None:
        self.tokens, self.options, self.lm, self.frame_shift = tuple(tokens), options, lm, frame_shift
        self.space = self.tokens.index(SPACE) if SPACE in self.tokens else -1
        spellable = set(self.tokens[1:]) - {SPACE}
        self.lexicon = {w for w in lexicon if w and set(w) <= spellable} if lexicon is not None else None
        self.hotwords = dict(hotwords or {})
        known = self.lexicon if self.lexicon is not None else (lm.vocab - {BOS, EOS, UNK} if lm else set())
        known = {w for w in known if set(w) <= spellable}
        self.prefixes = {w[:i] for w in known for i in range(len(w) + 1)}
        self.score = lru_cache(maxsize=None)(self._score)

    def text(self, prefix: Prefix) -> str:
        return "".join(self.tokens[c] for c in prefix)

    def _score(self, prefix: Prefix) -> float | None:
        """LM + bonus score of a prefix (its completed words and its partial word); None if the
        lexicon forbids it."""
        *done, partial = self.text(prefix).split(SPACE) if self.space >= 0 else [self.text(prefix)]
        o, score, history = self.options, 0.0, [BOS]
        for word in done:
            if self.lexicon is not None and word not in self.lexicon:
                return None
            score += self.hotwords.get(word, 0.0)
            if self.lm is not None:
                oov = word not in self.lm.vocab or word in (BOS, EOS, UNK)
                score += o.alpha * LN10 * self.lm.logprob10(history, UNK if oov else word) + o.beta
                score += o.unk_offset if oov else 0.0
                history.append(word)
        if self.lexicon is not None and partial not in self.prefixes:
            return None
        if self.lm is not None and self.lexicon is None and partial not in self.prefixes:
            score += o.unk_offset
        return score + max((w * len(partial) / len(h) for h, w in self.hotwords.items() if h.startswith(partial)),
                           default=0.0) if partial else score  # fmt: skip

    def selected_tokens(self, row: np.ndarray) -> list[int]:
        o = self.options
        kept = [c for c in range(1, len(row)) if row[c] >= o.token_min_logprob]
        return sorted(kept, key=lambda c: (-row[c], c))[: o.token_topk]

    def decode(self, logprobs: np.ndarray) -> list[Hypothesis]:
        o, space = self.options, self.space
        beam: dict[Prefix, tuple[float, float]] = {(): (0.0, -math.inf)}  # prefix -> (p_b, p_nb), best first
        # Timings live in a tree, as in the kernels: a prefix that leaves the beam and comes back is a new node
        # (its descendants in the beam keep the old one). Per node: [parent, frame, log-prob of its token
        # there, log p_nb there relative to the best hypothesis].
        nodes: list[list] = [[-1, -1, 0.0, -math.inf]]
        node_of: dict[Prefix, int] = {(): 0}  # the node of each prefix in the beam
        for t, row in enumerate(logprobs.astype(np.float64)):
            if o.blank_skip_threshold < 1 and row[0] > math.log(o.blank_skip_threshold):
                beam = {p: (logaddexp(pb, pnb) + row[0], -math.inf) for p, (pb, pnb) in beam.items()}
                continue
            candidates: dict[Prefix, list[float]] = {}
            made_from: dict[Prefix, Prefix] = {}  # the first prefix each new candidate extended
            for prefix, (pb, pnb) in beam.items():  # stay: blank, or repeat the last token
                last = prefix[-1] if prefix else space
                candidates[prefix] = [logaddexp(pb, pnb) + row[0], pnb + row[last] if last >= 0 else -math.inf]
            cutoff = max(logaddexp(*c) + self.score(p) for p, c in candidates.items()) - o.beam_threshold
            for prefix, (pb, pnb) in beam.items():  # extend
                last = prefix[-1] if prefix else space
                for c in self.selected_tokens(row):
                    contribution = (pb if c == last else logaddexp(pb, pnb)) + row[c]
                    new = prefix if c == last == space else prefix + (c,)
                    score = self.score(new)
                    if score is None or contribution == -math.inf or contribution + score < cutoff:
                        continue
                    if new not in candidates:
                        candidates[new], made_from[new] = [-math.inf, -math.inf], prefix
                    candidates[new][1] = logaddexp(candidates[new][1], contribution)
            totals = {p: logaddexp(*c) + self.score(p) for p, c in candidates.items()}
            best = max(totals.values())
            ranked = sorted(candidates, key=lambda p: -totals[p])[: o.beam_size]  # stable: first generated wins ties
            beam = {p: tuple(candidates[p]) for p in ranked if totals[p] >= best - o.beam_threshold}
            node_of = self.update_timing(beam, made_from, node_of, nodes, t, row)
        return self.finish(beam, {p: self.path(nodes, n) for p, n in node_of.items()})

    @staticmethod
    def update_timing(beam: dict, made_from: dict, node_of: dict, nodes: list, t: int, row: np.ndarray) -> dict:
        """Each prefix's token moves to frame t where its p_nb, relative to p_b + p_nb of the best
        hypothesis, is higher than at its frame so far (ties keep the earlier frame); new prefixes get
        a node at t. Returns the new node_of."""
        norm = logaddexp(*next(iter(beam.values())))
        norm = 0.0 if norm == -math.inf else norm
        new_node_of = {}
        for p, (_, pnb) in beam.items():
            relative = pnb - norm
            if p in made_from:  # entered the beam at this frame
                nodes.append([node_of[made_from[p]], t, row[p[-1]], relative])
                new_node_of[p] = len(nodes) - 1
            else:
                new_node_of[p] = node = node_of[p]
                if p and relative > nodes[node][3]:
                    nodes[node][1:] = [t, row[p[-1]], relative]
        return new_node_of

    @staticmethod
    def path(nodes: list, node: int) -> tuple[tuple[int, float], ...]:
        """(frame, log-prob) of each token from the root's child to `node`."""
        timing = []
        while nodes[node][0] >= 0:
            timing.append((nodes[node][1], nodes[node][2]))
            node = nodes[node][0]
        return tuple(reversed(timing))

    def finish(self, beam: dict[Prefix, tuple[float, float]], timing: dict) -> list[Hypothesis]:
        """Score the last word and </s>; merge "a b " into "a b"; the N-best."""
        final: dict[Prefix, list] = {}
        for prefix, (pb, pnb) in beam.items():
            text = prefix[:-1] if prefix and prefix[-1] == self.space else prefix
            score = self.score(text + (self.space,)) if self.space >= 0 and text else self.score(text)
            if score is None:
                continue
            if self.lm is not None:
                history = [BOS, *self.text(text).split(SPACE)] if text else [BOS]
                score += self.options.alpha * LN10 * self.lm.logprob10(history, EOS)
            if text in final:
                final[text][0] = logaddexp(final[text][0], logaddexp(pb, pnb))
            else:
                final[text] = [logaddexp(pb, pnb), score, timing[prefix][: len(text)]]
        ranked = sorted(final.items(), key=lambda item: -(item[1][0] + item[1][1]))[: self.options.nbest]
        if not ranked:
            return [Hypothesis("", (), -math.inf, -math.inf)]
        return [Hypothesis(self.text(p), p, am + lm, am, lm, self.words(p, tm)) for p, (am, lm, tm) in ranked]

    def words(self, prefix: Prefix, timing: Sequence[tuple[int, float]]) -> tuple[WordAlignment, ...]:
        """Words with their characters' frames, each moved before the next character's frame where it is
        not already, and log-probs (see `BeamSearchDecoder`)."""
        frames = [f for f, _ in timing]
        for i in range(len(frames) - 2, -1, -1):
            frames[i] = min(frames[i], frames[i + 1] - 1)
        timing = [(f, lp) for f, (_, lp) in zip(frames, timing)]
        words, start = [], 0
        for end in [i for i, c in enumerate(prefix) if c == self.space] + [len(prefix)]:
            if end > start:
                (first, _), (last, _) = timing[start], timing[end - 1]
                confidence = math.exp(sum(lp for _, lp in timing[start:end]) / (end - start))
                text = self.text(prefix[start:end])
                words.append(WordAlignment(text, first * self.frame_shift, (last + 1) * self.frame_shift, confidence))
            start = end + 1
        return tuple(words)
