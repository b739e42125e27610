"""Build the decoder a `DecodeConfig` describes: greedy, or prefix beam search with LM, lexicon and hotwords.

`build_decoder` reads the LM and lexicon files and returns an object with the decoder
protocol (`asr.decode.types.Decoder`), whichever search it is. Mistakes a user can fix (a
missing LM file, a hotword the model cannot spell) raise `DecoderError` with a one-line
message naming the file or the setting.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from asr.config import GREEDY, DecodeConfig
from asr.decode.greedy import GreedyDecoder
from asr.decode.lm import NgramLM
from asr.decode.prefix_beam import BeamSearchDecoder
from asr.decode.types import Decoder
from asr.errors import first_line
from asr.text import normalize_text

log = logging.getLogger("asr")


class DecoderError(ValueError):
    """A decoder setting cannot be used: unreadable LM or lexicon, bad hotword."""


def build_decoder(config: DecodeConfig, tokens: Sequence[str], frame_shift: float) -> Decoder:
    """The decoder `config` describes, for a model with `tokens` (blank first) and `frame_shift` seconds per frame."""
    if config.decoder == GREEDY:
        return GreedyDecoder(tokens, frame_shift)
    index = set(tokens)
    hotwords = dict(parse_hotword(h) for h in config.hotwords)
    hotwords = {_hotword_spelling(word, index): bonus for word, bonus in hotwords.items()}
    lm = load_lm(Path(config.lm)) if config.lm else None
    lexicon = read_lexicon(Path(config.lexicon), index) if config.lexicon else None
    try:
        return BeamSearchDecoder(tokens, config.beam, lm=lm, lexicon=lexicon, hotwords=hotwords or None, frame_shift=frame_shift)
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
        raise DecoderError(f"{path}: not a readable ARPA LM ({first_line(err)})") from None
    log.info("LM %s: order %d, %d words", path, lm.order, len(lm.vocab))
    return lm


def read_lexicon(path: Path, tokens: set[str]) -> list[str]:
    """One word per line, normalised like transcripts; words the model cannot spell are dropped with a warning."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DecoderError(f"{path}: no such lexicon file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise DecoderError(f"{path}: cannot read lexicon ({first_line(err)})") from None
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
