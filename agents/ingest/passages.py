"""Passages: a document cut into a few sentence windows, the unit the scout compares.

A whole article's single embedding blurs its topics together (and MiniLM reads only its first
~256 word pieces); a trap that borrows a pillar's words in one sentence looks like the pillar
in the average. Windows of consecutive sentences (about ``target_words`` words, never split
inside a sentence) keep each claim with its context. The title, when there is one, opens the
first passage. Long documents keep their first ``max_passages`` windows: news puts the story
first.
"""

from __future__ import annotations

import regex

_SENTENCE = regex.compile(r"(?<=[.!?…])\s+(?=[\p{Lu}\p{N}\"'“‘(\[¿¡])|(?<=[。！？])")
_CJK_CHAR = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]")

TARGET_WORDS = 60
MAX_PASSAGES = 10


def sentences(text: str) -> list[str]:
    """Sentences of ``text``, paragraph breaks respected."""
    found: list[str] = []
    for paragraph in text.split("\n\n"):
        found.extend(s.strip() for s in _SENTENCE.split(paragraph) if s and s.strip())
    return found


def _weight(sentence: str) -> int:
    """Words in a sentence; a CJK character counts as half a word (no spaces to count)."""
    cjk = len(_CJK_CHAR.findall(sentence))
    return len(sentence.split()) + cjk // 2


def split_passages(
    text: str, title: str | None = None, *, target_words: int = TARGET_WORDS, max_passages: int = MAX_PASSAGES
) -> list[str]:
    """Sentence windows of about ``target_words`` words (at least one passage)."""
    passages: list[str] = []
    current: list[str] = []
    words = 0
    for sentence in sentences(text):
        weight = _weight(sentence)
        if current and words + weight > target_words:
            passages.append(" ".join(current))
            current, words = [], 0
            if len(passages) == max_passages:
                break
        current.append(sentence)
        words += weight
    if current and len(passages) < max_passages:
        passages.append(" ".join(current))
    if not passages:
        passages = [text.strip()[:2000]]
    if title:
        passages[0] = f"{title.strip()}. {passages[0]}"
    return passages
