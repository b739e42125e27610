"""The one-line error messages every user-facing failure gets: a helper, and training's own error."""

from __future__ import annotations


def first_line(err: BaseException) -> str:
    """The first line of an exception's message, or its type's name when it has none."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


class TrainingError(RuntimeError):
    """Training cannot go on (for example: too many non-finite losses in a row)."""
