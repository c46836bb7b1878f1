"""Token phrases as the taboo gate's lexical evidence: cue and object lists from data files.

A phrase is matched on folded tokens (:mod:`.tokens`), like a banned word: ``can't lose`` is the
token run ``can t lose`` and never matches inside a longer word. Slots make a list general:
``{number}`` is any token of digits (``{number} off`` matches "15% off"), ``{any}`` is any one
token (``no {any} needed`` matches "no analysts needed"), ``{competitor}`` is any of the
brand's competitors (their names and handles) and ``{name}`` any proper name found in the post
(:mod:`.names`), both filled in when the list is compiled.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from .tokens import words

NUMBER = "{number}"
ANY = "{any}"
COMPETITOR = "{competitor}"
NAME = "{name}"
_NUMBER_TOKEN = "\x00number"
_ANY_TOKEN = "\x00any"
_SLOTS = {NUMBER: _NUMBER_TOKEN, ANY: _ANY_TOKEN}


def _compile(phrase: str, fillers: dict[str, tuple[str, ...]]) -> list[tuple[str, ...]]:
    for slot, names in fillers.items():
        if slot in phrase:
            return [t for name in names for t in _compile(phrase.replace(slot, name, 1), fillers)]
    tokens: list[str] = []
    for part in phrase.replace(NUMBER, f" {_NUMBER_TOKEN} ").replace(ANY, f" {_ANY_TOKEN} ").split():
        tokens.extend([part] if part in _SLOTS.values() else words(part))
    return [tuple(tokens)] if tokens else []


@dataclass(frozen=True)
class PhraseSet:
    """A compiled list of phrases; :meth:`find` returns those that occur in a text."""

    phrases: tuple[tuple[str, ...], ...]

    @classmethod
    def of(cls, phrases: Iterable[str], competitors: Iterable[str] = (), names: Iterable[str] = ()) -> PhraseSet:
        fillers = {
            COMPETITOR: tuple(dict.fromkeys(c for c in competitors if words(c))),
            NAME: tuple(dict.fromkeys(n for n in names if words(n))),
        }
        compiled = [t for p in phrases for t in _compile(p, fillers)]
        return cls(tuple(dict.fromkeys(compiled)))

    def __bool__(self) -> bool:
        return bool(self.phrases)

    @cached_property
    def _by_first(self) -> tuple[dict[str, list[int]], list[int]]:
        """Phrase indexes by their first token, and those that start with a slot."""
        index: dict[str, list[int]] = {}
        slotted: list[int] = []
        for i, needle in enumerate(self.phrases):
            if needle[0] in _SLOTS.values():
                slotted.append(i)
            else:
                index.setdefault(needle[0], []).append(i)
        return index, slotted

    def find(self, text_words: list[str]) -> list[str]:
        """The phrases found, in the order of the list."""
        index, slotted = self._by_first
        found: set[int] = set()
        for start, token in enumerate(text_words):
            for i in (*index.get(token, ()), *slotted):
                needle = self.phrases[i]
                if i not in found and _matches(needle, text_words, start):
                    found.add(i)
        return [" ".join(_SHOWN.get(w, w) for w in self.phrases[i]) for i in sorted(found)]


def _matches(needle: tuple[str, ...], text_words: list[str], start: int) -> bool:
    n = len(needle)
    return start + n <= len(text_words) and all(_same(w, t) for w, t in zip(needle, text_words[start : start + n], strict=True))


_SHOWN = {_NUMBER_TOKEN: "#", _ANY_TOKEN: "*"}


def _same(pattern: str, token: str) -> bool:
    if pattern == _NUMBER_TOKEN:
        return token.isdigit()
    return pattern == _ANY_TOKEN or pattern == token
