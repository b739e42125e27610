"""Estimate an interpolated modified Kneser-Ney word n-gram LM and write it as ARPA.

Chen & Goodman 1998, "An empirical study of smoothing techniques for language
modeling" (section 3.5), estimated the way KenLM's `lmplz` does (Heafield et
al. 2013, "Scalable modified Kneser-Ney language model estimation"):
  * the highest order uses raw counts; lower orders use continuation counts
    (the number of distinct words seen to the left), except n-grams that begin
    with `<s>`, which have nothing to their left and keep their raw counts;
  * each order has three discounts D1, D2, D3+ from its counts of counts t_k:
        Y = t1 / (t1 + 2 t2),  D_k = k - (k + 1) Y t_{k+1} / t_k;
  * p(w | h) = (a(h w) - D(a(h w))) / sum_x a(h x) + gamma(h) p(w | h'),
    gamma(h) = (D1 N1(h .) + D2 N2(h .) + D3+ N3+(h .)) / sum_x a(h x),
    the unigram level interpolating with the uniform distribution over the
    vocabulary (which includes `</s>` and `<unk>`, not `<s>`), so `<unk>` gets
    gamma() / |V|. The ARPA back-off of h is gamma(h).
Text goes through `normalize_text` first. Pure Python with dicts: a few seconds
for a few hundred thousand words.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from asr.decode.lm import BOS, EOS, UNK
from asr.text import normalize_text

# lmplz --discount_fallback: used when counts of counts cannot give valid discounts
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)
BOS_LOGPROB10 = -99.0  # `<s>` is never predicted

Ngram = tuple[str, ...]


def build_arpa(texts: Iterable[str], order: int = 3) -> str:
    """ARPA text of an interpolated modified Kneser-Ney LM of `order` over `texts` (one sentence each)."""
    if order < 1:
        raise ValueError("order must be >= 1")
    counts = adjusted_counts(texts, order)
    if not counts[0]:
        raise ValueError("no words in the training text")
    discounts = [_discounts(c) for c in counts]
    probs, backoffs = _interpolate(counts, discounts)
    return _format_arpa(probs, backoffs)


def write_arpa(texts: Iterable[str], path: str | Path, order: int = 3) -> None:
    Path(path).write_text(build_arpa(texts, order), encoding="utf-8")


def adjusted_counts(texts: Iterable[str], order: int) -> list[Counter[Ngram]]:
    """Per order n (index n - 1): the counts Kneser-Ney discounts (see the module docstring)."""
    top: Counter[Ngram] = Counter()
    initial: list[Counter[Ngram]] = [Counter() for _ in range(order)]  # raw counts of <s>-initial n-grams
    for text in texts:
        words = normalize_text(text).split()
        if not words:
            continue
        sentence = (BOS, *words, EOS)
        for i in range(len(sentence) - order + 1):
            top[sentence[i : i + order]] += 1
        for n in range(1, min(order, len(sentence) + 1)):
            initial[n - 1][sentence[:n]] += 1
    counts = [Counter() for _ in range(order)]
    counts[order - 1] = top
    for n in range(order - 1, 0, -1):
        lower = counts[n - 1]
        for gram in counts[n]:
            lower[gram[1:]] += 1  # each distinct (n+1)-gram is one distinct left neighbour
        lower.update(initial[n - 1])  # disjoint keys: a suffix never begins with <s>
    del counts[0][(BOS,)]
    return counts


def _discounts(counts: Counter[Ngram]) -> tuple[float, float, float]:
    t = Counter(c for c in counts.values() if c <= 4)
    if min(t[1], t[2], t[3], t[4]) == 0:
        return FALLBACK_DISCOUNTS
    y = t[1] / (t[1] + 2 * t[2])
    d = (1 - 2 * y * t[2] / t[1], 2 - 3 * y * t[3] / t[2], 3 - 4 * y * t[4] / t[3])
    if not all(0 < dk < k for k, dk in enumerate(d, start=1)):
        return FALLBACK_DISCOUNTS
    return d


def _context_stats(counts: Counter[Ngram], discounts: tuple[float, float, float]) -> dict[Ngram, tuple[float, float]]:
    """context -> (sum of counts, gamma) over the n-grams that extend it."""
    total: Counter[Ngram] = Counter()
    mass: Counter[Ngram] = Counter()
    for gram, c in counts.items():
        total[gram[:-1]] += c
        mass[gram[:-1]] += discounts[min(c, 3) - 1]
    return {h: (total[h], mass[h] / total[h]) for h in total}


def _interpolate(
    counts: list[Counter[Ngram]], discounts: list[tuple[float, float, float]]
) -> tuple[list[dict[Ngram, float]], list[dict[Ngram, float]]]:
    """Interpolated probabilities per order, and gamma (the back-off) of each context."""
    vocab_size = len(counts[0]) + 1  # words and </s>, plus <unk> (normalize_text never writes "<")
    probs: list[dict[Ngram, float]] = []
    backoffs: list[dict[Ngram, float]] = []
    for n, (order_counts, d) in enumerate(zip(counts, discounts), start=1):
        stats = _context_stats(order_counts, d)
        probs_n: dict[Ngram, float] = {}
        for gram, c in order_counts.items():
            total, gamma = stats[gram[:-1]]
            lower = 1.0 / vocab_size if n == 1 else probs[-1][gram[1:]]
            probs_n[gram] = (c - d[min(c, 3) - 1]) / total + gamma * lower
        if n == 1:
            probs_n[(UNK,)] = stats[()][1] / vocab_size
            probs_n[(BOS,)] = 0.0
        probs.append(probs_n)
        backoffs.append({h: gamma for h, (_, gamma) in stats.items()})
    return probs, backoffs


def _format_arpa(probs: list[dict[Ngram, float]], backoffs: list[dict[Ngram, float]]) -> str:
    order = len(probs)
    lines = ["", "\\data\\"]
    lines += [f"ngram {n}={len(p)}" for n, p in enumerate(probs, start=1)]
    for n, probs_n in enumerate(probs, start=1):
        lines += ["", f"\\{n}-grams:"]
        contexts = backoffs[n] if n < order else {}
        for gram in sorted(probs_n):
            p = probs_n[gram]
            logp = BOS_LOGPROB10 if gram == (BOS,) else math.log10(p)
            line = f"{logp:.7f}\t{' '.join(gram)}"
            if gram in contexts:
                line += f"\t{math.log10(contexts[gram]):.7f}"
            lines.append(line)
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)
