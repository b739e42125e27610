"""Build a decoder from a description: greedy, or prefix beam search with LM, lexicon and hotwords.

A `DecoderSpec` says what to build (the CLI makes one from its flags);
`build_decoder` reads the LM and lexicon files and returns an object with
`decode(logprobs) -> list[Hypothesis]` (best first) and `decode_batch`, whichever
search it is. Mistakes a user can fix (a missing LM file, a hotword the model
cannot spell, a bad option value) raise `DecoderError` with a one-line message.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from asr.decode.greedy import greedy_decode
from asr.decode.lm import NgramLM
from asr.decode.prefix_beam import BeamSearchDecoder, BeamSearchOptions
from asr.decode.types import Hypothesis
from asr.text import normalize_text

GREEDY, BEAM = "greedy", "beam"
log = logging.getLogger("asr")


class DecoderError(ValueError):
    """A decoder setting cannot be used: unreadable LM or lexicon, bad hotword, bad option."""


@dataclass(frozen=True)
class DecoderSpec:
    """What to decode with. `hotwords`: (word, bonus in natural log) pairs; the files are read by `build_decoder`."""

    kind: str = GREEDY
    options: BeamSearchOptions = field(default_factory=BeamSearchOptions)
    lm: Path | None = None
    lexicon: Path | None = None
    hotwords: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in (GREEDY, BEAM):
            raise DecoderError(f"unknown decoder {self.kind!r} (greedy or beam)")
        if self.kind == GREEDY and (self.lm or self.lexicon or self.hotwords or self.options.nbest > 1):
            raise DecoderError("an LM, a lexicon, hotwords and --nbest need the beam decoder (--decoder beam)")

    def describe(self, omit: Sequence[str] = ()) -> str:
        """One line naming every setting (but the options in `omit`), for logs and reports."""
        if self.kind == GREEDY:
            return GREEDY
        fields = [f.name for f in dataclasses.fields(self.options) if f.name not in omit]
        options = " ".join(f"{name}={getattr(self.options, name)}" for name in fields)
        hotwords = ",".join(f"{w}:{b:g}" for w, b in self.hotwords) or "-"
        return f"beam {options} lm={self.lm or '-'} lexicon={self.lexicon or '-'} hotwords={hotwords}"


class GreedyDecoder:
    """Best-path decoding with the beam decoder's interface (an N-best list of one)."""

    def __init__(self, tokens: Sequence[str], frame_shift: float) -> None:
        self.tokens = tuple(tokens)
        self.frame_shift = frame_shift

    def decode(self, logprobs: np.ndarray) -> list[Hypothesis]:
        """logprobs: (frames, vocab) natural-log posteriors."""
        return [greedy_decode(logprobs, self.tokens, self.frame_shift)]

    def decode_batch(self, batch: Sequence[np.ndarray], num_threads: int = 1) -> list[list[Hypothesis]]:
        return [self.decode(x) for x in batch]  # vectorised numpy: threads would not help


Decoder = GreedyDecoder | BeamSearchDecoder


def build_decoder(spec: DecoderSpec, tokens: Sequence[str], frame_shift: float) -> Decoder:
    """The decoder `spec` describes, for a model with `tokens` (blank first) and `frame_shift` seconds per frame."""
    if spec.kind == GREEDY:
        return GreedyDecoder(tokens, frame_shift)
    index = set(tokens)
    hotwords = {_hotword_spelling(word, index): bonus for word, bonus in spec.hotwords}
    lm = load_lm(spec.lm) if spec.lm else None
    lexicon = read_lexicon(spec.lexicon, index) if spec.lexicon else None
    try:
        return BeamSearchDecoder(tokens, spec.options, lm=lm, lexicon=lexicon, hotwords=hotwords or None, frame_shift=frame_shift)
    except ValueError as err:
        raise DecoderError(str(err)) from None


def parse_hotword(text: str) -> tuple[str, float]:
    """'WORD:WEIGHT' -> (word, weight); the weight is a natural-log bonus and may be negative."""
    word, colon, weight = text.rpartition(":")
    try:
        bonus = float(weight)
    except ValueError:
        bonus = float("nan")
    if not colon or not word.strip() or not np.isfinite(bonus):
        raise DecoderError(f"bad hotword {text!r}: expected WORD:WEIGHT, e.g. paris:5")
    return word, bonus


def load_lm(path: Path) -> NgramLM:
    if not path.is_file():
        raise DecoderError(f"{path}: no such LM file")
    try:
        lm = NgramLM.load(path)
    except (OSError, ValueError, KeyError, IndexError, EOFError) as err:  # what a malformed ARPA file raises
        raise DecoderError(f"{path}: not a readable ARPA LM ({_first_line(err)})") from None
    log.info("LM %s: order %d, %d words", path, lm.order, len(lm.vocab))
    return lm


def read_lexicon(path: Path, tokens: set[str]) -> list[str]:
    """One word per line, normalised like transcripts; words the model cannot spell are dropped with a warning."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DecoderError(f"{path}: no such lexicon file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DecoderError(f"{path}: cannot read lexicon ({_first_line(err)})") from None
    words = {w for w in map(normalize_text, lines) if w and " " not in w}
    spellable = sorted(w for w in words if set(w) <= tokens)
    if len(spellable) < len(words):
        log.warning("lexicon %s: %d words use characters outside the vocabulary, left out", path, len(words) - len(spellable))
    if not spellable:
        raise DecoderError(f"{path}: the lexicon has no word the model can spell")
    return spellable


def _hotword_spelling(word: str, tokens: set[str]) -> str:
    """The hotword as transcripts spell it (normalised); an error if that is not one spellable word."""
    normal = normalize_text(word)
    if " " in normal:
        raise DecoderError(f"hotword {word!r} is more than one word")
    missing = "".join(sorted(set(normal or word.lower()) - tokens))
    if missing:
        raise DecoderError(f"hotword {word!r} uses characters outside the model's vocabulary: {missing!r}")
    if not normal:
        raise DecoderError(f"hotword {word!r} has no letters")
    return normal


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
