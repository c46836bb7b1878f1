"""Text primitives shared by the calibration modules: sentences, word tokens, emoji.

One tokenizer for features and voice markers alike, so a phrase the marker scorer finds is
exactly a phrase the feature counter sees. Unicode-aware through the ``regex`` module
(``\\p{Extended_Pictographic}`` finds emoji, including ZWJ sequences' parts).
"""

from __future__ import annotations

import regex

EMOJI = regex.compile(r"(?:\p{Extended_Pictographic}|\p{Regional_Indicator}{2})(?:\uFE0F|\p{Emoji_Modifier}|\u200D\p{Extended_Pictographic})*")
URL = regex.compile(r"https?://\S+|www\.\S+", regex.IGNORECASE)
MENTION = regex.compile(r"(?<!\w)@\w+")
HASHTAG = regex.compile(r"(?<!\w)#\w+")
# A hashtag (kept whole, '#' included: a brand's recurring hashtag is a voice marker), a word:
# letters with inner apostrophes or hyphens ("don't", "time-to-insight"), or a number with its
# decimal point, thousands separators, percent or currency sign.
TOKEN = regex.compile(
    r"(?<![\p{L}\d&])#[\p{L}\d_]*\p{L}[\p{L}\p{M}\d_]*"
    r"|[$€£]?\d[\d,.]*%?[kKmMbBx]?|\p{L}[\p{L}\p{M}\d]*(?:['’\-][\p{L}\d][\p{L}\p{M}\d]*)*"
)
NUMBER = regex.compile(r"^[$€£]?\d")
# A sentence ends at . ! ? (or a run of them, or an ellipsis) followed by space, or at a line
# break; emoji-only lines are not sentences of their own.
SENTENCE_END = regex.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n+")
LETTER = regex.compile(r"\p{L}")


def normalize_apostrophes(text: str) -> str:
    return text.replace("’", "'").replace("‘", "'")


def strip_links(text: str) -> str:
    """Text without URLs and @mentions: neither is voice, both would skew word counts."""
    return MENTION.sub(" ", URL.sub(" ", text))


def sentences(text: str) -> list[str]:
    """Sentences that hold at least one letter (a line of emoji or a bare URL is not one)."""
    parts = SENTENCE_END.split(strip_links(text))
    return [p.strip() for p in parts if p and LETTER.search(p)]


def words(text: str) -> list[str]:
    """Lower-cased word, number and hashtag tokens, apostrophes normalized."""
    return [t.casefold().rstrip(".,") for t in TOKEN.findall(normalize_apostrophes(strip_links(text)))]


def is_hashtag(token: str) -> bool:
    return token.startswith("#")


def is_number(token: str) -> bool:
    return bool(NUMBER.match(token))


def emoji_count(text: str) -> int:
    return len(EMOJI.findall(text))


def has_letters(text: str) -> bool:
    return bool(LETTER.search(EMOJI.sub("", text)))
