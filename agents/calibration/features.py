"""Measured text features of a brand's examples: per example, then aggregated.

Every feature is a rate (per word or per sentence) or a mean length, so a 40-word post and a
400-word article are comparable. The tone mapping (``tone.py``) turns these into scores by
comparing them with the same features measured on the background corpus.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import regex

from .lexicon import Lexicon, load_lexicon
from .text import emoji_count, is_number, sentences, words

FEATURES: tuple[str, ...] = (
    "sentence_words",       # mean words per sentence
    "word_length",          # mean letters per (non-number) word
    "first_person_rate",    # I/we/my/our ... per word
    "second_person_rate",   # you/your ... per word
    "question_rate",        # share of sentences that ask
    "exclamation_rate",     # share of sentences that exclaim
    "number_rate",          # numbers, percentages, amounts per word
    "emoji_rate",           # emoji per word
    "formal_rate",          # formal register markers per word
    "informal_rate",        # informal markers and contractions per word
    "hedge_rate",           # maybe/might/perhaps ... per word
    "assertive_rate",       # never/always/stop/wrong ... per word
    "story_rate",           # narrative cues per word
    "tactical_rate",        # how-to cues per word
    "list_rate",            # share of lines that are list items
)

LIST_LINE = regex.compile(r"^\s*(?:[-*•→▪️✅]|\d{1,2}[.)]|\p{Extended_Pictographic})\s*\S")


def measure(text: str, lexicon: Lexicon | None = None) -> dict[str, float]:
    """The features of one text. A text without a word (only emoji or a link) has no features:
    callers reject it before it gets here (see ``importing``)."""
    lex = lexicon or load_lexicon()
    tokens = words(text)
    sents = sentences(text) or [text]
    n_words = max(len(tokens), 1)
    n_sents = len(sents)
    alpha = [t for t in tokens if not is_number(t)]
    lines = [line for line in text.splitlines() if line.strip()]

    def per_word(vocabulary: frozenset[str]) -> float:
        return sum(t in vocabulary for t in tokens) / n_words

    return {
        "sentence_words": len(tokens) / n_sents,
        "word_length": sum(len(t) for t in alpha) / max(len(alpha), 1),
        "first_person_rate": per_word(lex.first_person),
        "second_person_rate": per_word(lex.second_person),
        "question_rate": sum(s.rstrip("\"'”’) ").endswith("?") for s in sents) / n_sents,
        "exclamation_rate": sum("!" in s for s in sents) / n_sents,
        "number_rate": sum(is_number(t) for t in tokens) / n_words,
        "emoji_rate": emoji_count(text) / n_words,
        "formal_rate": per_word(lex.formal),
        "informal_rate": sum(t in lex.informal or lex.is_contraction(t) for t in tokens) / n_words,
        "hedge_rate": per_word(lex.hedges),
        "assertive_rate": per_word(lex.assertive),
        "story_rate": per_word(lex.story),
        "tactical_rate": per_word(lex.tactical),
        "list_rate": sum(bool(LIST_LINE.match(line)) for line in lines) / max(len(lines), 1),
    }


def aggregate(per_example: Sequence[dict[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and standard deviation of each feature over examples (each example weighs the
    same: a brand's one long article must not drown its twenty short posts)."""
    n = len(per_example)
    means = {f: sum(m[f] for m in per_example) / n for f in FEATURES}
    stds = {
        f: math.sqrt(sum((m[f] - means[f]) ** 2 for m in per_example) / max(n - 1, 1)) for f in FEATURES
    }
    return means, stds
