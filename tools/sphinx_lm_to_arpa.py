#!/usr/bin/env python3
"""Convert a CMU Sphinx binary "trie" language model (e.g. pocketsphinx's en-us.lm.bin) to ARPA text.

    python tools/sphinx_lm_to_arpa.py [LM_BIN] -o OUT.arpa [--digits 4] [--logbase 1.0001]

LM_BIN defaults to the general English trigram LM shipped with pocketsphinx 5.1.1
(`<pocketsphinx.get_model_path()>/en-us/en-us.lm.bin`); pocketsphinx is imported only to find
that default. The reader itself needs nothing but numpy and the standard library.

Why: pocketsphinx's own ARPA writer (`NGramModel.write(out, NGramModel.str_to_type('arpa'))`)
segfaults on en-us.lm.bin (cmusphinx/pocketsphinx issue #502, fixed by PR #501, not in any PyPI
release). The file's header declares 2,051,547 bigrams but its trie holds only 2,051,541 (the
other six slots are zero padding); the 5.1.1 writer sizes its n-gram list from the header and
dereferences the six entries it never filled. This script decodes the trie directly and takes
each order's count from the trie itself, warning on stderr when the header disagrees.

File layout (all little-endian), as written by pocketsphinx's ngram_model_trie.c / lm_trie.c:
  "Trie Language Model" (19 bytes, no NUL), order (uint8), order x uint32 n-gram counts
  if order > 1: int32 (former quantiser type, ignored), then float32 quantiser tables of 2**16
      entries: for each middle order (2 .. order-1) a prob table then a backoff table, and last a
      prob table for the highest order
  (count[0] + 1) unigram records {float32 prob, float32 backoff, uint32 next}; the extra record's
      `next` closes the last unigram's child range
  bit-packed arrays, one per order 2 .. order, each sized from the header counts:
      middle entry:  word id | backoff code (16) | prob code (16) | next (bits for count[n])
      highest order: word id | prob code (16)
      (word id takes bits for count[0]; fields are packed LSB-first in a little-endian stream)
  int32 byte length, then count[0] NUL-terminated word strings (word id = position)
The trie is keyed right to left: a unigram is the LAST word of an n-gram, its children are the
word before it, and so on, so the ARPA n-gram "w1 w2 w3" lives at path w3 -> w2 -> w1. Entry i's
children are entries next[i] .. next[i+1]-1 of the next order. Scores are stored in sphinx
logmath units (log base 1.0001 by default), not log10.
"""

from __future__ import annotations

import argparse
import gzip
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"Trie Language Model"
QUANT_BITS = 16  # lm_trie_quant.c: prob and backoff codes are both 16 bits
QUANT_TABLE = 1 << QUANT_BITS
MAX_ORDER = 8  # sanity bound on the order byte; pocketsphinx's own limit is smaller
UNIGRAM_DTYPE = np.dtype([("prob", "<f4"), ("backoff", "<f4"), ("next", "<u4")])


class FormatError(Exception):
    """The input is not a readable sphinx trie LM; the message says why."""


@dataclass
class Level:
    """One n-gram order decoded from the trie, in trie order."""

    words: np.ndarray  # word id stored at this level (uint32)
    parents: np.ndarray  # index of the parent entry in the level below (int64)
    prob: np.ndarray  # log10 probability (float64)
    backoff: np.ndarray | None  # log10 backoff; None for the highest order
    unsorted: int = 0  # entries stored out of order, which pocketsphinx's own lookup misses


@dataclass
class TrieLM:
    words: list[bytes]  # vocabulary, indexed by word id
    declared: list[int]  # counts from the header
    levels: list[Level]  # levels[0] is the unigrams; levels[n-1] the n-grams

    @property
    def counts(self) -> list[int]:
        return [len(level.prob) for level in self.levels]


class Reader:
    """Sequential little-endian reader over the file bytes that reports truncation as FormatError."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if self.pos + n > len(self.data):
            raise FormatError(f"truncated: {what} needs {n} bytes at offset {self.pos}, "
                              f"file has {len(self.data)} bytes")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def array(self, dtype: np.dtype | str, count: int, what: str) -> np.ndarray:
        dtype = np.dtype(dtype)
        return np.frombuffer(self.take(dtype.itemsize * count, what), dtype=dtype)


def required_bits(max_value: int) -> int:
    # bitarr_required_bits(): bits needed to store 0..max_value (0 when max_value is 0).
    return int(max_value).bit_length()


def packed_array_bytes(entries: int, entry_bits: int) -> int:
    # lm_trie.c base_size(): one extra entry holds the closing next pointer, the bits are rounded
    # up to bytes, and 8 bytes of slack let the C code read a whole uint64 at the last entry.
    return ((1 + entries) * entry_bits + 7) // 8 + 8


def read_bits(mem: np.ndarray, bit_offsets: np.ndarray, nbits: int) -> np.ndarray:
    """Read nbits (<= 25) at each bit offset of a little-endian, LSB-first bit stream."""
    byte = bit_offsets >> 3
    # A field of up to 25 bits starting anywhere inside a byte fits in the 4 bytes from there.
    value = (mem[byte].astype(np.uint32) | (mem[byte + 1].astype(np.uint32) << 8)
             | (mem[byte + 2].astype(np.uint32) << 16) | (mem[byte + 3].astype(np.uint32) << 24))
    return (value >> (bit_offsets & 7).astype(np.uint32)) & np.uint32((1 << nbits) - 1)


def load_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    # pocketsphinx opens LMs through fopen_comp(), so a gzipped .lm.bin is legitimate too.
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise FormatError(f"bad gzip data ({e})") from None
    return data


def read_header(rd: Reader) -> list[int]:
    if rd.take(len(MAGIC), "magic") != MAGIC:
        raise FormatError(f"not a sphinx trie LM (does not start with {MAGIC.decode()!r})")
    order = rd.take(1, "order")[0]
    if not 1 <= order <= MAX_ORDER:
        raise FormatError(f"implausible LM order {order}")
    counts = [int(c) for c in rd.array("<u4", order, "n-gram counts")]
    if counts[0] == 0:
        raise FormatError("header declares no unigrams")
    return counts


def read_quant_tables(rd: Reader, order: int) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Return ([(prob, backoff) table per middle order], highest-order prob table)."""
    rd.take(4, "quantiser type")  # written as 1 and ignored by pocketsphinx
    middles = []
    for n in range(2, order):
        prob = rd.array("<f4", QUANT_TABLE, f"{n}-gram prob table")
        backoff = rd.array("<f4", QUANT_TABLE, f"{n}-gram backoff table")
        middles.append((prob, backoff))
    longest = rd.array("<f4", QUANT_TABLE, f"{order}-gram prob table")
    return middles, longest


def child_parents(next_ptr: np.ndarray, what: str, capacity: int) -> np.ndarray:
    """Parent index of every child, from a level's next pointers (one more than its entries)."""
    steps = np.diff(next_ptr.astype(np.int64))
    if next_ptr[0] != 0 or (steps < 0).any():
        raise FormatError(f"corrupt trie: {what} child pointers are not ascending from 0")
    if int(next_ptr[-1]) > capacity:
        raise FormatError(f"corrupt trie: {what} point to {int(next_ptr[-1])} children, "
                          f"only {capacity} slots allocated")
    return np.repeat(np.arange(len(steps), dtype=np.int64), steps)


def count_unsorted_siblings(words: np.ndarray, parents: np.ndarray, n: int) -> int:
    """Number of entries whose word id is below its previous sibling's; FormatError on duplicates."""
    # Siblings should have ascending word ids (pocketsphinx finds a child by interpolation
    # search). en-us.lm.bin has two 3-gram sibling pairs out of order, so a few are tolerated;
    # many, or a repeated word under one parent, mean the bits are not what we think they are.
    same_parent = parents[1:] == parents[:-1]
    unsorted = int((np.diff(words.astype(np.int64))[same_parent] < 0).sum())
    if unsorted:
        key = np.lexsort((words, parents))
        dup = (parents[key][1:] == parents[key][:-1]) & (words[key][1:] == words[key][:-1])
    else:
        dup = np.diff(words.astype(np.int64))[same_parent] == 0
    if dup.any():
        raise FormatError(f"corrupt trie: {int(dup.sum())} duplicate {n}-grams")
    if unsorted > max(10, len(words) // 1000):
        raise FormatError(f"corrupt trie: {unsorted} {n}-grams out of order among their siblings")
    return unsorted


def decode_packed_level(mem: np.ndarray, n: int, entries: int, counts: list[int], is_longest: bool) -> tuple:
    """Decode `entries` entries of order n: (word ids, prob codes, backoff codes, next pointers).

    The highest order has no backoff codes or next pointers; those come back as None.
    """
    word_bits = required_bits(counts[0])
    next_bits = 0 if is_longest else required_bits(counts[n])
    entry_bits = word_bits + (QUANT_BITS if is_longest else 2 * QUANT_BITS + next_bits)
    start = np.arange(entries, dtype=np.int64) * entry_bits
    words = read_bits(mem, start, word_bits)
    if is_longest:
        return words, read_bits(mem, start + word_bits, QUANT_BITS), None, None
    # Middle layout: the backoff code sits in the low 16 bits of the 32-bit quant field.
    backoff = read_bits(mem, start + word_bits, QUANT_BITS)
    prob = read_bits(mem, start + word_bits + QUANT_BITS, QUANT_BITS)
    # entries + 1 next pointers: the one after the last entry closes the last child range.
    next_start = np.arange(entries + 1, dtype=np.int64) * entry_bits + word_bits + 2 * QUANT_BITS
    next_ptr = read_bits(mem, next_start, next_bits) if next_bits else np.zeros(entries + 1, np.uint32)
    return words, prob, backoff, next_ptr


def read_ngram_levels(rd: Reader, counts: list[int], unigram_next: np.ndarray, to_log10: float,
                      quant: tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]) -> list[Level]:
    """Decode orders 2..N. Array sizes follow the header counts; entry counts follow the trie."""
    order = len(counts)
    middles, longest = quant
    word_bits = required_bits(counts[0])
    levels = []
    next_ptr = unigram_next
    for n in range(2, order + 1):
        is_longest = n == order
        entry_bits = word_bits + (QUANT_BITS if is_longest else 2 * QUANT_BITS + required_bits(counts[n]))
        region = rd.take(packed_array_bytes(counts[n - 1], entry_bits), f"{n}-gram array")
        mem = np.frombuffer(region, dtype=np.uint8)
        parents = child_parents(next_ptr, f"{n - 1}-grams", counts[n - 1])
        entries = len(parents)
        words, prob_code, bo_code, next_ptr = decode_packed_level(mem, n, entries, counts, is_longest)
        if entries and int(words.max()) >= counts[0]:
            raise FormatError(f"corrupt trie: {n}-gram word id out of range")
        unsorted = count_unsorted_siblings(words, parents, n)
        prob_table = longest if is_longest else middles[n - 2][0]
        prob = prob_table[prob_code].astype(np.float64) * to_log10
        backoff = None if is_longest else middles[n - 2][1][bo_code].astype(np.float64) * to_log10
        levels.append(Level(words, parents, prob, backoff, unsorted))
    return levels


def read_words(rd: Reader, n_words: int) -> list[bytes]:
    size = int(rd.array("<i4", 1, "word string length")[0])
    if size < n_words:
        raise FormatError(f"word string block of {size} bytes cannot hold {n_words} words")
    blob = rd.take(size, "word strings")
    words = blob.split(b"\0")
    # n_words NUL-terminated strings leave one empty piece after the last NUL.
    if len(words) != n_words + 1 or words[-1] != b"":
        raise FormatError(f"word string block holds {len(words) - 1} words, header declares {n_words}")
    return words[:-1]


def read_trie_lm(path: Path, logbase: float) -> TrieLM:
    rd = Reader(load_bytes(path))
    counts = read_header(rd)
    order = len(counts)
    quant = read_quant_tables(rd, order) if order > 1 else None
    unigrams = rd.array(UNIGRAM_DTYPE, counts[0] + 1, "unigram table")
    # Stored scores are log_base(p) as float32; ARPA wants log10(p).
    to_log10 = math.log10(logbase)
    uni = Level(np.arange(counts[0], dtype=np.uint32), np.zeros(counts[0], np.int64),
                unigrams["prob"][:-1].astype(np.float64) * to_log10,
                unigrams["backoff"][:-1].astype(np.float64) * to_log10)
    levels = [uni]
    if order > 1:
        levels += read_ngram_levels(rd, counts, unigrams["next"], to_log10, quant)
    words = read_words(rd, counts[0])
    if rd.pos != len(rd.data):
        print(f"warning: {path.name}: {len(rd.data) - rd.pos} unexpected trailing bytes ignored", file=sys.stderr)
    return TrieLM(words, counts, levels)


def ngram_word_ids(lm: TrieLM, n: int) -> list[np.ndarray]:
    """Word ids of every n-gram of order n, in ARPA (left-to-right) order: [w1, ..., wn]."""
    # Walking up the trie from an order-n entry visits w1, w2, ..., wn (the unigram is wn).
    ids = []
    index = np.arange(len(lm.levels[n - 1].prob), dtype=np.int64)
    for k in range(n - 1, -1, -1):
        level = lm.levels[k]
        ids.append(level.words[index])
        index = level.parents[index]
    return ids


def format_values(values: np.ndarray, digits: int) -> tuple[np.ndarray, np.ndarray]:
    """(codes, object array of formatted bytes) so each distinct value is formatted only once."""
    # Quantised scores take at most 65536 distinct values per table, so format the unique ones.
    uniq, codes = np.unique(values, return_inverse=True)
    text = np.array([b"%.*f" % (digits, v) for v in uniq.tolist()], dtype=object)
    return codes.reshape(-1), text


def section_lines(lm: TrieLM, n: int, digits: int) -> bytes:
    """All lines of the \\n-grams: section: "prob<TAB>w1 w2 ...[<TAB>backoff]\\n"."""
    level = lm.levels[n - 1]
    ids = ngram_word_ids(lm, n)
    # Any ARPA order is valid; sort by w1, w2, ... as SRILM/KenLM do.
    order = np.lexsort(ids[::-1]) if n > 1 else np.arange(len(level.prob))
    vocab = np.array(lm.words, dtype=object)
    codes, text = format_values(level.prob, digits)
    line = text[codes[order]] + b"\t" + vocab[ids[0][order]]
    for k in range(1, n):
        line = line + b" " + vocab[ids[k][order]]
    if level.backoff is not None and n < len(lm.levels):
        codes, text = format_values(level.backoff, digits)
        line = line + b"\t" + text[codes[order]]
    return b"\n".join(line.tolist()) + b"\n" if len(line) else b""


def write_arpa(lm: TrieLM, out: Path, digits: int) -> None:
    # Write beside the target and rename, so a failed run never leaves a cut-off ARPA behind.
    tmp = out.with_name(out.name + ".part")
    try:
        write_sections(lm, tmp, digits)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def write_sections(lm: TrieLM, out: Path, digits: int) -> None:
    with open(out, "wb") as f:
        f.write(b"\\data\\\n")
        for n, count in enumerate(lm.counts, 1):
            f.write(b"ngram %d=%d\n" % (n, count))
        for n in range(1, len(lm.levels) + 1):
            f.write(b"\n\\%d-grams:\n" % n)
            f.write(section_lines(lm, n, digits))
        f.write(b"\n\\end\\\n")


def warn_oddities(lm: TrieLM, name: str) -> None:
    for n, (declared, held) in enumerate(zip(lm.declared, lm.counts), 1):
        if declared != held:
            print(f"warning: {name} declares {declared} {n}-grams, its trie holds {held}", file=sys.stderr)
    for n, level in enumerate(lm.levels, 1):
        if level.unsorted:
            print(f"warning: {name} stores {level.unsorted} {n}-grams out of order, so pocketsphinx itself "
                  f"never finds them; written with their stored scores", file=sys.stderr)


def default_lm_path() -> Path:
    try:
        import pocketsphinx
    except ImportError:
        raise SystemExit("error: no LM_BIN given and pocketsphinx is not installed: "
                         "pip install pocketsphinx==5.1.1, or pass the path of a .lm.bin") from None
    return Path(pocketsphinx.get_model_path()) / "en-us" / "en-us.lm.bin"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Convert a CMU Sphinx binary trie LM (.lm.bin) to ARPA text.")
    p.add_argument("lm_bin", nargs="?", type=Path,
                   help="sphinx trie LM (default: pocketsphinx's en-us/en-us.lm.bin)")
    p.add_argument("-o", "--output", type=Path, required=True, help="ARPA file to write")
    p.add_argument("--digits", type=int, default=4,
                   help="decimals for log10 values (default 4, like pocketsphinx's own writer)")
    p.add_argument("--logbase", type=float, default=1.0001,
                   help="logmath base the file was built with (default 1.0001, sphinx's default)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    path = args.lm_bin or default_lm_path()
    try:
        lm = read_trie_lm(path, args.logbase)
    except FormatError as e:
        print(f"error: {path}: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {path}: {e.strerror or e}", file=sys.stderr)
        return 1
    warn_oddities(lm, path.name)
    try:
        write_arpa(lm, args.output, args.digits)
    except OSError as e:
        print(f"error: {args.output}: {e.strerror or e}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{n}-grams: {c}" for n, c in enumerate(lm.counts, 1))
    print(f"wrote {args.output} ({counts})", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
