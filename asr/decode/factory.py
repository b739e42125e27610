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

from asr.config import GREEDY, PHONE, DecodeConfig
from asr.decode.greedy import GreedyDecoder
from asr.decode.lm import BOS, EOS, UNK, ArpaModel, NgramLM, read_arpa_file
from asr.decode.prefix_beam import BeamSearchDecoder
from asr.decode.spelled import SpelledDecoder
from asr.decode.types import Decoder
from asr.errors import first_line
from asr.phonetic import Pronouncer, PronunciationError, Speller, phonetic_lm
from asr.text import normalize_text

log = logging.getLogger("asr")


class DecoderError(ValueError):
    """A decoder setting cannot be used: unreadable LM or lexicon, bad hotword."""


def build_decoder(
    config: DecodeConfig, tokens: Sequence[str], frame_shift: float, units: str = "char", words: dict[str, int] | None = None
) -> Decoder:
    """The decoder `config` describes, for a model with `tokens` (blank first) and `frame_shift` seconds per frame.

    A phone model (`units` "phone") gets the same search over phonetic words, spelled back in
    words (`SpelledDecoder`) from `words` (its training text's word counts) and the LM's and
    lexicon's words; the LM, lexicon and hotwords are given in words, as for any model.
    """
    if units == PHONE:
        try:
            return _phone_decoder(config, tokens, frame_shift, words or {})
        except PronunciationError as err:
            raise DecoderError(str(err)) from None
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


def _phone_decoder(config: DecodeConfig, tokens: Sequence[str], frame_shift: float, words: dict[str, int]) -> Decoder:
    pronouncer = Pronouncer()
    vocabulary = dict(words)  # the words that may be output, with their training counts
    if config.decoder == GREEDY:
        return SpelledDecoder(GreedyDecoder(tokens, frame_shift), Speller(vocabulary, pronouncer=pronouncer))
    index = set(tokens)
    hotwords = {_hotword_spelling(word, index): bonus for word, bonus in map(parse_hotword, config.hotwords)}
    for word in hotwords:
        vocabulary.setdefault(word, 0)  # a hotword may be spelled out even if nothing else knows it
    hotwords = {pronouncer.word(word): bonus for word, bonus in hotwords.items()}
    word_lm = phone_lm = None
    if config.lm:
        arpa = load_arpa(Path(config.lm))
        word_lm, phone_lm = NgramLM(arpa), NgramLM(phonetic_lm(arpa, pronouncer))
        log.info("LM %s: order %d, %d words, %d phonetic words", config.lm, word_lm.order, len(word_lm.vocab), len(phone_lm.vocab))
        for word in arpa.vocab:
            vocabulary.setdefault(word, 0)
    lexicon = None
    if config.lexicon:
        lexicon_words = read_lexicon(Path(config.lexicon), index)
        pronouncer.prepare(lexicon_words)
        lexicon = sorted({pronouncer.cache[w] for w in lexicon_words} - {""})
        vocabulary = {w: vocabulary.get(w, 0) for w in lexicon_words}  # the lexicon is all the search may output
    for special in (BOS, EOS, UNK):
        vocabulary.pop(special, None)
    try:
        inner = BeamSearchDecoder(tokens, config.beam, lm=phone_lm, lexicon=lexicon, hotwords=hotwords or None, frame_shift=frame_shift)
    except ValueError as err:
        raise DecoderError(str(err)) from None
    return SpelledDecoder(inner, Speller(vocabulary, lm=word_lm, pronouncer=pronouncer))


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
    lm = NgramLM(load_arpa(path))
    log.info("LM %s: order %d, %d words", path, lm.order, len(lm.vocab))
    return lm


def load_arpa(path: Path) -> ArpaModel:
    if not path.is_file():
        raise DecoderError(f"{path}: no such LM file")
    try:
        return read_arpa_file(path)
    except (OSError, ValueError, KeyError, IndexError, EOFError) as err:  # what a malformed ARPA file raises
        raise DecoderError(f"{path}: not a readable ARPA LM ({first_line(err)})") from None


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
