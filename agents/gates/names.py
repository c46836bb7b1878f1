"""Proper names of organisations in a post, for the taboo gate's client-naming evidence.

A name is a run of capitalised words ("Fairhaven Dental Group", "Harbor Bank"), joined by
"&" or "of" when a capitalised word follows. The first word of a sentence is capitalised
anyway, so there it starts a name only when the next word is capitalised too. Pronouns,
calendar words, greetings and common acronyms (``data/name_stopwords.txt``) are not names,
nor the brand's own names and its competitors' (``exclude``): a competitor is not a client.
Possessives lose their "'s". Scripts without case (CJK) have no names here.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import cache

import regex

from .rules import load_lines
from .tokens import fold, words

_WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}\p{M}'’&-]*|&")
_BREAK = regex.compile(r"[.!?…:;\n\"“”()\[\]]|\s[-–—]\s")
_JOINERS = {"&", "of"}


@cache
def _stopwords() -> frozenset[str]:
    return frozenset(load_lines("name_stopwords.txt"))


def _capitalised(word: str) -> bool:
    return word[0].isupper() or (word[0].isdigit() and any(c.isupper() for c in word))


def _strip_possessive(word: str) -> str:
    for suffix in ("'s", "’s", "'", "’"):
        if word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _runs(segment: str) -> list[list[str]]:
    found = [_strip_possessive(m.group()) for m in _WORD.finditer(segment)]
    runs: list[list[str]] = []
    current: list[str] = []
    for i, word in enumerate(found):
        if word and _capitalised(word):
            current.append(word)
            continue
        follows = i + 1 < len(found) and found[i + 1] and _capitalised(found[i + 1])
        if word in _JOINERS and current and follows:
            current.append(word)
            continue
        if current:
            runs.append(current)
        current = []
    if current:
        runs.append(current)
    # The segment's first word is capitalised by the sentence: it alone is no name.
    if runs and found and runs[0] and runs[0][0] == found[0] and len(runs[0]) == 1:
        runs = runs[1:]
    return runs


def _trimmed(run: list[str]) -> list[str]:
    stop = _stopwords()
    while run and (fold(run[0]) in stop or run[0] in _JOINERS):
        run = run[1:]
    while run and (fold(run[-1]) in stop or run[-1] in _JOINERS):
        run = run[:-1]
    return run


def proper_names(text: str, exclude: Iterable[str] = ()) -> list[str]:
    """The organisation-like proper names in ``text``, in order, without repeats."""
    text = unicodedata.normalize("NFKC", text)
    excluded = [tuple(words(e)) for e in exclude if words(e)]
    names: list[str] = []
    for segment in _BREAK.split(text):
        for run in _runs(segment.strip()):
            if " ".join(fold(w) for w in run) in _stopwords():
                continue
            run = _trimmed(run)
            if not run:
                continue
            name = " ".join(run)
            tokens = tuple(words(name))
            if any(_contains(tokens, e) or _contains(e, tokens) for e in excluded):
                continue
            names.append(name)
    return list(dict.fromkeys(names))


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))
