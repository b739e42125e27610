"""English transcript normalisation, shared by data preparation, training and scoring."""

import re
import unicodedata

_NOT_KEPT = re.compile(r"[^a-z0-9' ]+")
_SPACES = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Lower-case, strip punctuation except the apostrophe, collapse whitespace.

    Accents are folded to ASCII first ("café" -> "cafe") so that a character
    vocabulary built from training text stays small. Apostrophes at word edges
    (quotes, not contractions) are dropped: "'hello'" -> "hello", "don't" stays.
    """
    text = text.replace("\u2019", "'")  # typographic apostrophe, common in book text
    # Drop accents (combining marks after NFKD); other non-ASCII characters (dashes,
    # symbols) separate words rather than vanish.
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    text = _NOT_KEPT.sub(" ", text.lower())
    words = (w.strip("'") for w in _SPACES.split(text))
    return " ".join(w for w in words if w)
