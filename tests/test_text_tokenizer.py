import pytest

from asr.text import normalize_text
from asr.tokenizer import BLANK, Tokenizer, TokenizerError


@pytest.mark.parametrize(
    "raw,normal",
    [
        ("Hello, World!", "hello world"),
        ("  don't  STOP\n", "don't stop"),
        ("'quoted' words", "quoted words"),
        ("Café—au-lait", "cafe au lait"),
        ("it’s", "it's"),
        ("", ""),
    ],
)
def test_normalize_text(raw, normal):
    assert normalize_text(raw) == normal


def test_english_vocabulary_round_trip():
    tok = Tokenizer.english()
    assert tok.tokens[BLANK] == "<blank>" and tok.size == 29
    ids = tok.encode("don't stop")
    assert BLANK not in ids and tok.decode(ids) == "don't stop"
    assert tok.decode([BLANK, *ids, BLANK]) == "don't stop"


def test_from_texts_adds_digits_and_rejects_unknown():
    tok = Tokenizer.from_texts(["route 66"])
    assert "6" in tok.tokens
    with pytest.raises(TokenizerError, match="'7'"):
        tok.encode("route 77")


def test_word_units_round_trip():
    tok = Tokenizer.from_words(["yes no no", "no yes"])
    assert tok.tokens == ("<blank>", "no", "yes") and tok.units == "word"
    ids = tok.encode("yes no yes")
    assert ids == [2, 1, 2]  # no space token: the pause between words is the blank's
    assert tok.decode([BLANK, *ids, BLANK]) == "yes no yes"
    assert Tokenizer.english().units == "char"
    with pytest.raises(TokenizerError, match="word 'maybe' is not in the vocabulary"):
        tok.encode("yes maybe")
