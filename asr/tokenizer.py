"""Character vocabulary for CTC. Index 0 is the CTC blank (Graves et al. 2006)."""

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


class TokenizerError(ValueError):
    """A transcript holds a character the vocabulary does not."""


@dataclass(frozen=True)
class Tokenizer:
    """Maps characters to ids and back. `tokens[0]` is always the blank."""

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

    @property
    def size(self) -> int:
        return len(self.tokens)

    @property
    def space_id(self) -> int:
        return self.tokens.index(SPACE)

    def encode(self, text: str) -> list[int]:
        index = self._index
        try:
            return [index[ch] for ch in text]
        except KeyError as err:
            raise TokenizerError(f"character {err.args[0]!r} is not in the vocabulary (text: {text!r})") from None

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self.tokens[i] for i in ids if i != BLANK)

    @property
    def _index(self) -> dict[str, int]:
        # Cached on first use; the dataclass is frozen, so write through __dict__.
        cached = self.__dict__.get("_index_cache")
        if cached is None:
            cached = {tok: i for i, tok in enumerate(self.tokens)}
            self.__dict__["_index_cache"] = cached
        return cached
