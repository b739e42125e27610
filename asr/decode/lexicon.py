"""Character prefix tries stored in flat arrays, for the Numba beam-search kernel.

A trie node is an int; node 0 is the root (the empty word) and -1 means "not in
the trie". Edges live in an open-addressing hash table keyed by
`node * n_tokens + token`, so following an edge is O(1) whatever the
vocabulary size, and the whole trie is three numpy arrays.

Two tries serve the decoder (`asr/decode/prefix_beam.py`):
  * the word trie spells the LM vocabulary (or the lexicon, when one constrains
    the search); `word_id[node]` is the word ending at that node, or -1;
  * the hotword trie carries `partial[node]`, the bonus held while a word is a
    prefix of a hotword, and `final[node]`, the bonus a completed hotword keeps.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

EMPTY_KEY = -1
NOT_IN_TRIE = -1
ROOT = 0
GOLDEN = 0x9E3779B97F4A7C15  # 2^64 / golden ratio: multiplying by it spreads small ids over a hash's bits


@njit(inline="always")
def mix64(x):
    """MurmurHash3's 64-bit finaliser: spreads a uint64 key over all bits."""
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xFF51AFD7ED558CCD)
    x ^= x >> np.uint64(33)
    x *= np.uint64(0xC4CEB9FE1A85EC53)
    x ^= x >> np.uint64(33)
    return x


@njit(inline="always")
def trie_child(keys, children, node, token, n_tokens):
    """The child of `node` along `token`, or -1. `keys`: int64[capacity], a power of two.

    Inlined into the calling kernel (a call would pass and reference-count the arrays).
    """
    key = np.int64(node) * n_tokens + token
    mask = np.uint64(keys.shape[0] - 1)
    slot = mix64(np.uint64(key)) & mask
    while True:
        k = keys[slot]
        if k == key:
            return np.int64(children[slot])
        if k == EMPTY_KEY:
            return np.int64(NOT_IN_TRIE)
        slot = (slot + np.uint64(1)) & mask


@njit(cache=True)
def _fill_edges(edge_keys, edge_children, keys, children):
    mask = np.uint64(keys.shape[0] - 1)
    for i in range(edge_keys.shape[0]):
        slot = mix64(np.uint64(edge_keys[i])) & mask
        while keys[slot] != EMPTY_KEY:
            slot = (slot + np.uint64(1)) & mask
        keys[slot] = edge_keys[i]
        children[slot] = edge_children[i]


@njit(cache=True)
def _child(keys, children, node, token, n_tokens):
    return trie_child(keys, children, node, token, n_tokens)


def table_capacity(n_items: int) -> int:
    """A power of two at least twice `n_items` (load factor <= 0.5 keeps probes short)."""
    return 1 << max(1, (2 * n_items - 1).bit_length())


@dataclass(frozen=True)
class CharTrie:
    """A trie over token-id spellings. `end_node[i]` is the node where spelling i ends."""

    keys: np.ndarray  # int64[capacity], edge key node * n_tokens + token, -1 = empty slot
    children: np.ndarray  # int32[capacity]
    n_nodes: int
    n_tokens: int
    end_node: np.ndarray  # int32[n_spellings]

    @classmethod
    def build(cls, spellings: Iterable[Sequence[int]], n_tokens: int) -> CharTrie:
        edges: dict[int, int] = {}
        ends = []
        for spelling in spellings:
            node = ROOT
            for token in spelling:
                key = node * n_tokens + int(token)
                child = edges.get(key)
                if child is None:
                    child = edges[key] = len(edges) + 1
                node = child
            ends.append(node)
        keys = np.full(table_capacity(len(edges)), EMPTY_KEY, dtype=np.int64)
        children = np.zeros(keys.shape[0], dtype=np.int32)
        _fill_edges(
            np.fromiter(edges.keys(), np.int64, len(edges)),
            np.fromiter(edges.values(), np.int32, len(edges)),
            keys,
            children,
        )
        return cls(keys, children, len(edges) + 1, n_tokens, np.asarray(ends, dtype=np.int32))

    def child(self, node: int, token: int) -> int:
        return int(_child(self.keys, self.children, node, token, self.n_tokens))


def spell(word: str, token_index: Mapping[str, int]) -> list[int] | None:
    """Token ids spelling `word` character by character, or None if a character is missing."""
    ids = [token_index.get(ch) for ch in word]
    return None if None in ids else ids  # type: ignore[return-value]


@dataclass(frozen=True)
class WordTrie:
    """Words spelled in tokens; `word_id[node]` >= 0 where a word ends (its LM id, or 0 without LM)."""

    trie: CharTrie
    word_id: np.ndarray  # int32[n_nodes]

    @classmethod
    def build(cls, words: Mapping[str, int], token_index: Mapping[str, int]) -> WordTrie:
        """`words`: word -> id. Words a token cannot spell (or with a space) are left out."""
        kept = [(w, i) for w, i in words.items() if w and " " not in w and spell(w, token_index) is not None]
        trie = CharTrie.build((spell(w, token_index) for w, _ in kept), len(token_index))  # type: ignore[misc]
        word_id = np.full(trie.n_nodes, -1, dtype=np.int32)
        for (_, i), node in zip(kept, trie.end_node):
            word_id[node] = i
        return cls(trie, word_id)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.trie.keys, self.trie.children, self.word_id


@dataclass(frozen=True)
class HotwordTrie:
    """Hotword bonuses (natural log) per trie node.

    A hotword of n characters with weight w adds w/n per character while the
    current word follows it; `partial[node]` is the largest such running bonus
    among the hotwords through `node`. When the word ends, the running bonus is
    replaced by `final[node]`: w if the word is that hotword, else 0 (taken back).
    """

    trie: CharTrie
    partial: np.ndarray  # float64[n_nodes]
    final: np.ndarray  # float64[n_nodes]

    @classmethod
    def build(cls, hotwords: Mapping[str, float], token_index: Mapping[str, int]) -> HotwordTrie:
        spellings = []
        for word in hotwords:
            ids = spell(word, token_index)
            if not word or " " in word or ids is None:
                raise ValueError(f"hotword {word!r} must be one word spelled with the decoder's tokens")
            spellings.append(ids)
        trie = CharTrie.build(spellings, len(token_index))
        partial = np.zeros(trie.n_nodes)
        final = np.zeros(trie.n_nodes)
        has_partial = np.zeros(trie.n_nodes, dtype=bool)
        for weight, ids in zip(hotwords.values(), spellings, strict=True):
            node = ROOT
            for depth, token in enumerate(ids, start=1):
                node = trie.child(node, token)
                bonus = weight * depth / len(ids)
                partial[node] = bonus if not has_partial[node] else max(partial[node], bonus)
                has_partial[node] = True
            final[node] = weight
        return cls(trie, partial, final)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        return self.trie.keys, self.trie.children, self.partial, self.final


def empty_word_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Placeholder word-trie arrays with the kernel's types, for decoding without LM or lexicon."""
    return np.full(2, EMPTY_KEY, dtype=np.int64), np.zeros(2, dtype=np.int32), np.full(1, -1, dtype=np.int32)


def empty_hotword_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    return np.full(2, EMPTY_KEY, dtype=np.int64), np.zeros(2, dtype=np.int32), np.zeros(1), np.zeros(1)
