"""Small text helpers the writer's stages share: sentences, words, word sets, clause cuts."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from agents.gates.tokens import words
from agents.ingest.passages import sentences

DATA = Path(__file__).parent / "data"
_WORD = re.compile(r"[A-Za-z0-9][\w'’-]*")
_LOOSE_CLAUSE = re.compile(r";\s|,\s(?=(?:but|while|so|because|although|though|whereas|and|which|including)\s)")
_CLAUSE = re.compile(r";\s|,\s(?=(?:but|while|so|because|although|though|whereas)\s)")
STOPWORDS = frozenset(
    ["a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "by", "from", "as", "is", "are", "was", "were", "be", "been", "being", "it", "its", "this", "that", "these", "those", "they", "them", "their", "we", "our", "us", "you", "your", "i", "me", "my", "he", "she", "his", "her", "not", "no", "do", "does", "did", "so", "than", "then", "there", "here", "what", "which", "who", "whom", "how", "when", "where", "why", "will", "would", "can", "could", "should", "may", "might", "must", "about", "into", "over", "under", "more", "most", "less", "very", "just", "also", "only", "all", "any", "each", "some", "such"]
)


@cache
def load_json(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def word_set(text: str) -> set[str]:
    """Folded words of ``text`` (the gates' tokenizer), as a set."""
    return set(words(text))


def content_words(text: str) -> set[str]:
    return {w for w in words(text) if w not in STOPWORDS and not w.isdigit() and len(w) > 2}


NEAR_SHARED = 2
"""Content words a brand line must share with the argument to be said in its post."""


def near_lines(lines: list[str], argument: list[str], shared: int = NEAR_SHARED) -> list[str]:
    """The brand's lines that share ``shared`` content words with the argument, nearest first."""
    target = content_words(" ".join(argument))
    scored = [(len(content_words(line) & target), i, line) for i, line in enumerate(lines)]
    return [line for n, _, line in sorted(scored, key=lambda t: (-t[0], t[1])) if n >= shared]


def jaccard(a: str, b: str) -> float:
    left, right = word_set(a), word_set(b)
    return len(left & right) / len(left | right) if left | right else 0.0


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def as_sentence(text: str) -> str:
    """``text`` stripped, first letter up, ending in a full stop unless it already ends a sentence."""
    text = " ".join(text.split()).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?…\"”'’" else text + "."


def first_clause(sentence: str, min_words: int = 6, *, loose: bool = False) -> str | None:
    """The sentence cut after its first clause that has at least ``min_words`` words, as a
    sentence of its own; None when no such cut exists (the sentence is one clause). Cuts are
    made before a conjunction that starts a clause of its own (``, but``, ``; ``); ``loose``
    also cuts before ``, and`` / ``, which`` / ``, including`` (the last resort of a tight post:
    what stays is true, only less complete)."""
    for match in (_LOOSE_CLAUSE if loose else _CLAUSE).finditer(sentence):
        head = sentence[: match.start()].rstrip()
        if loose and "," in sentence[match.end() :]:
            continue  # ", and especially X, matters": the cut would leave half an insertion
        if word_count(head) >= min_words and head.count("(") == head.count(")") and head.count('"') % 2 == 0:
            return as_sentence(head)
    return None


def _balanced(text: str) -> bool:
    return text.count("(") == text.count(")") and text.count('"') % 2 == 0 and text.count("“") == text.count("”")


def compress(sentence: str, cap: int) -> str | None:
    """The longest head of ``sentence`` that ends at a phrase boundary (``data/compress.json``)
    and fits ``cap`` characters as a sentence of its own; None when no boundary gives one of
    at least ``min_words`` words. What stays is the source's own words, in order: shorter, never
    invented. A boundary before a qualifier (``but``, ``unless``, ``not``...) is never cut."""
    sentence = as_sentence(sentence)
    if len(sentence) <= cap:
        return sentence
    rules = load_json("compress.json")
    keep_with = set(rules["keep_with"])
    body = sentence.rstrip(".!?…")
    cuts: set[int] = set()
    for sep in rules["separators"]:
        cuts |= {m.start() for m in re.finditer(re.escape(sep), body)}
    for word in rules["after_comma"]:
        cuts |= {m.start() for m in re.finditer(rf",\s(?={re.escape(word)}\s)", body)}
    for word in rules["before_words"]:
        cuts |= {m.start() for m in re.finditer(rf"\s(?={re.escape(word)}\s)", body)}
    best = None
    for cut in sorted(cuts):
        head = body[:cut].rstrip(" ,;:-—–")
        rest = words(body[cut:])
        if rest and rest[0] in keep_with:
            continue
        if word_count(head) >= rules["min_words"] and _balanced(head) and len(as_sentence(head)) <= cap:
            best = head
    return as_sentence(best) if best else None


__all__ = [
    "as_sentence",
    "compress",
    "content_words",
    "first_clause",
    "jaccard",
    "load_json",
    "near_lines",
    "sentences",
    "word_count",
    "word_set",
    "words",
]
