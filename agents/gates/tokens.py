"""Tokens as the voice gate sees them: NFKC, case-folded runs of letters, digits and marks.

Everything else - spaces, punctuation, hyphens, ``#``, ``@``, apostrophes, emoji - is a
boundary, so ``#Scrap`` and ``scrap-heap`` hold the token ``scrap`` but ``scrapbook`` does not.
Offsets point into the normalized text (NFKC can change lengths), which is what evidence shows.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import regex

_TOKEN = regex.compile(r"[\p{L}\p{N}\p{M}]+")


def fold(text: str) -> str:
    """NFKC then case folding (``ﬁ`` → ``fi``, full-width ``Ａ`` → ``a``, ``ß`` → ``ss``), then
    NFKC again: folding can undo a composition."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    folded = fold(text)
    return [Token(m.group(), m.start(), m.end()) for m in _TOKEN.finditer(folded)]


def words(text: str) -> list[str]:
    return [t.text for t in tokens(text)]
