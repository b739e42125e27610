"""CTC vocabularies: characters, or whole words for small closed vocabularies. Index 0 is the CTC blank (Graves et al. 2006).

Word units: each word is one token and there is no space token (the pause between two words
is the blank's, as in Kaldi's and icefall's yes/no recipes, where a word is one unit). They
suit corpora of a few words whose spelling says nothing about their sound (yes/no spoken as
Hebrew "ken"/"lo", digits): a character model must invent where in "ken" the y, e and s
are, a word model only has to tell the words apart. Decoders see it from the tokens:
`word_units(tokens)`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

BLANK = 0
BLANK_SYMBOL = "<blank>"
SPACE = " "
# Letters, apostrophe and space: what normalize_text() leaves of English text
# without digits. Corpora with digits in their transcripts grow the vocabulary
# through Tokenizer.from_texts().
ENGLISH_CHARS = " '" + "abcdefghijklmnopqrstuvwxyz"


def word_units(tokens: Sequence[str]) -> bool:
    """Whether `tokens` (blank first) are words: no space token, and a token longer than one character."""
    return SPACE not in tokens and any(len(t) > 1 for t in tokens[1:])


class TokenizerError(ValueError):
    """A transcript holds a character the vocabulary does not."""


@dataclass(frozen=True)
class Tokenizer:
    """Maps characters (or words) to ids and back. `tokens[0]` is always the blank."""

    tokens: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.tokens or self.tokens[0] != BLANK_SYMBOL:
            raise ValueError(f"tokens[0] must be {BLANK_SYMBOL!r}")
        if len(set(self.tokens)) != len(self.tokens):
            raise ValueError("duplicate tokens in vocabulary")

    @classmethod
    def english(cls) -> Tokenizer:
        return cls((BLANK_SYMBOL, *ENGLISH_CHARS))

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> Tokenizer:
        """The English letters plus any other character seen in `texts`, sorted."""
        seen = set(ENGLISH_CHARS)
        for text in texts:
            seen.update(text)
        extra = sorted(seen - set(ENGLISH_CHARS))
        return cls((BLANK_SYMBOL, *ENGLISH_CHARS, *extra))

    @classmethod
    def from_words(cls, texts: Iterable[str]) -> Tokenizer:
        """Word units: the blank, then every word seen in `texts`, sorted."""
        tokens = (BLANK_SYMBOL, *sorted({word for text in texts for word in text.split()}))
        if not word_units(tokens):  # all one-letter words: the tokens would read as characters
            raise TokenizerError("word units need a word longer than one character in the training text")
        return cls(tokens)

    @property
    def size(self) -> int:
        return len(self.tokens)

    @property
    def units(self) -> str:
        # Cached on first use, like `_index` (encode and decode ask once per utterance).
        cached = self.__dict__.get("_units_cache")
        if cached is None:
            cached = self.__dict__["_units_cache"] = "word" if word_units(self.tokens) else "char"
        return cached

    def encode(self, text: str) -> list[int]:
        index = self._index
        if self.units == "word":
            try:
                return [index[word] for word in text.split()]
            except KeyError as err:
                raise TokenizerError(f"word {err.args[0]!r} is not in the vocabulary (text: {text!r})") from None
        try:
            return [index[ch] for ch in text]
        except KeyError as err:
            raise TokenizerError(f"character {err.args[0]!r} is not in the vocabulary (text: {text!r})") from None

    def decode(self, ids: Sequence[int]) -> str:
        separator = " " if self.units == "word" else ""
        return separator.join(self.tokens[i] for i in ids if i != BLANK)

    @property
    def _index(self) -> dict[str, int]:
        # Cached on first use; the dataclass is frozen, so write through __dict__.
        cached = self.__dict__.get("_index_cache")
        if cached is None:
            cached = {tok: i for i, tok in enumerate(self.tokens)}
            self.__dict__["_index_cache"] = cached
        return cached
