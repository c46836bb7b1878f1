"""Text features of one unit, as 0/1 flags the labeller weighs (weights in the cue file).

Features are deliberately shallow and cheap (no parser, no model) so the miner runs over
thousands of posts a second: person, tense, numbers, question and exclamation marks, a leading
imperative verb, negation, list marker, length and position.
"""

from __future__ import annotations

import regex

from .cues import CuePack
from .segmentation import Unit

_WORD = regex.compile(r"[\p{L}']+|\d[\d,.]*")
_LEAD_NOISE = regex.compile(r"^[^\p{L}\p{N}]+")
_BULLET_PREFIX = regex.compile(r"^\s*(?:[-•*–—→>▪◦·]\s*|\d{1,2}[.)/]\s+|#\d{1,2}\b[:.)]?\s*|step\s+\d{1,2}\s*[:.)-]\s*)", regex.IGNORECASE)
_NEGATION = regex.compile(r"\b(?:not|never|no|nobody|nothing|none|isn't|aren't|wasn't|weren't|don't|doesn't|didn't|won't|can't|cannot|shouldn't|stop)\b|n't\b", regex.IGNORECASE)
_PRESENT = regex.compile(r"\b(?:is|are|isn't|aren't|do|does|don't|doesn't|can|can't|will|won't|need|needs|makes|beats|wins|matters|works)\b", regex.IGNORECASE)


def strip_marker(text: str) -> str:
    """The text without a leading bullet, number or emoji (what the words of a beat are)."""
    text = _BULLET_PREFIX.sub("", text, count=1)
    return _LEAD_NOISE.sub("", text)


def words_of(text: str) -> list[str]:
    return [w.lower().strip("'") for w in _WORD.findall(strip_marker(text))]


def starts_with_anaphor(unit: Unit, cues: CuePack) -> bool:
    words = words_of(unit.text)
    return bool(words) and words[0] in cues.lexicon["anaphors"]


def unit_features(unit: Unit, index: int, count: int, cues: CuePack, previous: Unit | None = None,
                  before: Unit | None = None) -> dict[str, float]:
    """The unit's features; ``previous`` is the unit before it in the same paragraph, if any,
    ``before`` the unit before it anywhere."""
    body = strip_marker(unit.text)
    words = [w.lower().strip("'") for w in _WORD.findall(body)]
    word_set = set(words)
    lex = cues.lexicon
    past = any(w in lex["past_irregular"] for w in words) or any(
        len(w) > 4 and w.endswith("ed") and w not in lex["past_exceptions"] for w in words
    )
    stripped = unit.text.rstrip()
    first_word = words[0] if words else ""
    return {
        "bias": 1.0,
        "first_person": float(bool(word_set & lex["first_person"])),
        "first_person_plural": float(bool(word_set & lex["first_person_plural"])),
        "second_person": float(bool(word_set & lex["second_person"])),
        "past_tense": float(past),
        "present_tense_general": float(not past and bool(_PRESENT.search(body))),
        "has_number": float(any(ch.isdigit() for ch in body)),
        "has_percent": float("%" in body or "percent" in word_set),
        "starts_with_number": float(bool(first_word) and first_word[0].isdigit()),
        "question": float(stripped.endswith("?") or stripped.endswith("?\"")),
        "exclamation": float("!" in stripped),
        "imperative": float(first_word in lex["imperative_verbs"]),
        # Advice in the imperative ("Map the money before...", "Start broad"): a first word that is
        # no function word nor an inflected form, followed by what usually follows a verb.
        "imperative_advice": float(
            len(words) >= 2
            and first_word not in lex["function_words"]
            and not first_word[:1].isdigit()
            and not first_word.endswith(("s", "ing", "ed", "ly"))
            and words[1] in lex["advice_objects"]
            and not stripped.endswith("?")
        ),
        "negation": float(bool(_NEGATION.search(body))),
        "short": float(len(words) <= 8),
        "list_marker": float(unit.is_list),
        "first": float(index == 0),
        "last": float(index == count - 1),
        "in_tail": float(index >= count - cues.tail_units),
        "after_list": float(before is not None and before.is_list and not unit.is_list),
        # "The problem isn't X. It's Y.": the second sentence carries the reframe.
        "after_negation_anaphor": float(
            previous is not None
            and bool(_NEGATION.search(previous.text))
            and not _NEGATION.search(body)
            and bool(words) and words[0] in lex["anaphors"]
        ),
    }
