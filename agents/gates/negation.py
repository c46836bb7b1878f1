"""Which way a sentence's negation works, for the taboo gate (and whether it reports a claim
rather than making it).

Sentence embeddings hardly see negation: "this is not a treatment for X" sits next to "this
treats X". A cue list cannot decide either, because many acts are phrased with a negation
("you can't lose", "no analysts needed", "nobody wants to see that"). So the gate compares a
sentence with its :func:`denegated` form (negating words removed, contractions made positive):
if taking the negation out moves the sentence *towards* the act, the negation was working
against it (an argument against the act); if it moves it away, the negation is part of the act.
The words are data (``data/negation.json``).
"""

from __future__ import annotations

from functools import cache

import regex

from .phrases import PhraseSet
from .rules import load_json
from .tokens import words

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\uff07": "'"})


@cache
def _patterns() -> tuple[regex.Pattern[str], dict[str, str]]:
    data = load_json("negation.json")
    contractions = {k.casefold(): v for k, v in data["contractions"].items()}
    # Phrases that negate nothing come first in the alternation, so they are matched whole
    # and kept as they are.
    idioms = sorted((p.casefold() for p in data.get("not_negations", [])), key=len, reverse=True)
    alternatives = sorted([*contractions, *(w.casefold() for w in data["words"])], key=len, reverse=True)
    body = "|".join(regex.escape(a) for a in [*idioms, *alternatives])
    pattern = regex.compile(r"(?<![\p{L}\p{N}'])(" + body + r")(?![\p{L}\p{N}'])\s*", regex.I)
    return pattern, contractions


@cache
def _idioms() -> frozenset[str]:
    return frozenset(p.casefold() for p in load_json("negation.json").get("not_negations", []))


def denegated(sentence: str) -> str | None:
    """``sentence`` without its negation, or None when it has none."""
    pattern, contractions = _patterns()
    text = sentence.translate(_APOSTROPHES)
    if not any(m.group(1).casefold() not in _idioms() for m in pattern.finditer(text)):
        return None

    def positive(match: regex.Match[str]) -> str:
        if match.group(1).casefold() in _idioms():
            return match.group(0)
        replacement = contractions.get(match.group(1).casefold())
        return f"{replacement} " if replacement else ""

    return pattern.sub(positive, text).strip() or None


@cache
def _negating_tokens() -> frozenset[str]:
    """Negation as folded tokens: the negating words, and ``t`` of a split ``n't``."""
    data = load_json("negation.json")
    return frozenset(data["words"]) | {"t"}


def negated_outside(text_words: list[str], phrases: tuple[str, ...]) -> bool:
    """Whether a sentence holds a negation that is not part of one of ``phrases`` (cue phrases
    such as "can t lose" carry their own): such a negation may be aimed at the cue, so the cue
    alone is no evidence of the act."""
    negating = _negating_tokens()
    inside = sum(1 for phrase in phrases for token in phrase.split() if token in negating)
    idiomatic = sum(1 for idiom in _idiom_tokens() for token in idiom if token in negating
                    for _ in range(_count(text_words, idiom)))  # fmt: skip
    return sum(1 for token in text_words if token in negating) - idiomatic > inside


@cache
def _idiom_tokens() -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(words(p)) for p in load_json("negation.json").get("not_negations", []))


def _count(text_words: list[str], phrase: tuple[str, ...]) -> int:
    n = len(phrase)
    return sum(1 for i in range(len(text_words) - n + 1) if tuple(text_words[i : i + n]) == phrase)


def negated_inside(phrases: tuple[str, ...]) -> bool:
    """Whether one of ``phrases`` (cues found) holds a negation of its own ("no * needed")."""
    negating = _negating_tokens()
    return any(token in negating for phrase in phrases for token in phrase.split())


@cache
def _distancing() -> PhraseSet:
    return PhraseSet.of(load_json("negation.json").get("distancing", []))


def distanced(text_words: list[str], phrases: tuple[str, ...]) -> bool:
    """Whether a sentence puts a claim in someone else's mouth or warns against it ("a rival
    claims its gummies cure anxiety", "beware of ..."), outside the cue ``phrases`` themselves:
    its cues are then reported, not made."""
    found = _distancing().find(text_words)
    return any(all(f" {d} " not in f" {p} " for p in phrases) for d in found)  # whole tokens, as found
