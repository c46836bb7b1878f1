"""Token phrases as the taboo gate's lexical evidence: cue and object lists from data files.

A phrase is matched on folded tokens (:mod:`.tokens`), like a banned word: ``can't lose`` is the
token run ``can t lose`` and never matches inside a longer word. Two slots make a list general:
``{number}`` is any token of digits (``{number} off`` matches "15% off"), ``{competitor}`` is
any of the brand's competitors (their names and handles), filled in when the list is compiled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .tokens import words

NUMBER = "{number}"
COMPETITOR = "{competitor}"
_NUMBER_TOKEN = "\x00number"


def _compile(phrase: str, competitors: tuple[str, ...]) -> list[tuple[str, ...]]:
    if COMPETITOR in phrase:
        return [t for name in competitors for t in _compile(phrase.replace(COMPETITOR, name), ())]
    parts = phrase.split(NUMBER)
    tokens: list[str] = []
    for i, part in enumerate(parts):
        if i:
            tokens.append(_NUMBER_TOKEN)
        tokens.extend(words(part))
    return [tuple(tokens)] if tokens else []


@dataclass(frozen=True)
class PhraseSet:
    """A compiled list of phrases; :meth:`find` returns those that occur in a text."""

    phrases: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, phrases: Iterable[str], competitors: Iterable[str] = ()) -> PhraseSet:
        names = tuple(dict.fromkeys(c for c in competitors if words(c)))
        compiled = [t for p in phrases for t in _compile(p, names)]
        return cls(tuple(dict.fromkeys(compiled)))

    def __bool__(self) -> bool:
        return bool(self.phrases)

    def find(self, text_words: list[str]) -> list[str]:
        found = []
        for needle in self.phrases:
            n = len(needle)
            for i in range(len(text_words) - n + 1):
                if all(_same(w, t) for w, t in zip(needle, text_words[i : i + n], strict=True)):
                    found.append(" ".join("#" if w == _NUMBER_TOKEN else w for w in needle))
                    break
        return found


def _same(pattern: str, token: str) -> bool:
    return token.isdigit() if pattern == _NUMBER_TOKEN else pattern == token
