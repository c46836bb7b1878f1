"""Splitting a post into units, the candidates for beats.

A unit is a sentence, or one line of a list. Paragraphs (blank lines) and lines are kept as
coordinates, because the labeller merges same-kind sentences of one paragraph into one beat and
position (first, last, start of a paragraph) is a feature.

List lines are lines starting with a bullet (``-``, ``•``, ``*``, ``–``, ``—``, ``→``, ``>``), a
number (``1.``, ``2)``, ``#3``, ``Step 4:``), or an emoji/symbol, when at least two consecutive
lines of a paragraph start that way (one emoji-led line is decoration, not a list). Lines of
only hashtags, mentions or links are footers and make no unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

_BULLET = regex.compile(r"^\s*(?:[-•*–—→>▪◦·]\s*|\d{1,2}[.)]\s+|\d{1,2}/\s+|#\d{1,2}\b[:.)]?\s*|step\s+\d{1,2}\s*[:.)-]\s*)", regex.IGNORECASE)
_SYMBOL_LEAD = regex.compile(r"^\s*[\p{So}\p{Sk}\p{Sm}\p{Emoji_Presentation}](?:\uFE0F|\u200D|\p{So}|\p{Emoji_Presentation}|\p{Emoji_Modifier})*\s*")
_SENTENCE_END = regex.compile(r"(?<=[.!?…])[\"'”’)]*\s+(?=[\"'“‘(]?[\p{Lu}\p{N}\p{So}\p{Emoji_Presentation}])")
_LETTER = regex.compile(r"\p{L}|\p{N}")
# A line of only hashtags, mentions and links is a footer, not a beat.
_FOOTER = regex.compile(r"^(?:\s*(?:#[\p{L}\p{N}_]+|@[\p{L}\p{N}_.]+|https?://\S+|www\.\S+)[\s,.;|·•]*)+$")


@dataclass(frozen=True)
class Unit:
    text: str
    paragraph: int
    line: int
    is_list: bool


def normalize(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def has_words(text: str) -> bool:
    """True if ``text`` has a letter or digit (a post of only emoji and punctuation has none)."""
    return bool(_LETTER.search(text))


def _list_flags(lines: list[str]) -> list[bool]:
    bullet = [bool(_BULLET.match(line)) for line in lines]
    symbol = [bool(_SYMBOL_LEAD.match(line)) and not b for line, b in zip(lines, bullet)]
    flags = []
    for i, line in enumerate(lines):
        neighbours = (i > 0 and (bullet[i - 1] or symbol[i - 1])) or (
            i + 1 < len(lines) and (bullet[i + 1] or symbol[i + 1])
        )
        numbered_alone = bullet[i] and bool(regex.match(r"^\s*(?:\d|#\d|step)", line, regex.IGNORECASE))
        flags.append(bullet[i] and (neighbours or numbered_alone or line.lstrip()[:1] in "-•*") or (symbol[i] and neighbours))
    return flags


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def segment_units(text: str) -> list[Unit]:
    """The units of ``text`` in reading order: list lines whole, the first line whole when the post
    has several lines (it is the hook), other lines split into sentences."""
    units: list[Unit] = []
    paragraphs = regex.split(r"\n[ \t]*\n", normalize(text))
    several_lines = sum(1 for line in normalize(text).split("\n") if has_words(line)) > 1
    line_no = 0
    for p_index, paragraph in enumerate(p for p in paragraphs if p.strip()):
        lines = [line.strip() for line in paragraph.split("\n") if line.strip()]
        for line, is_list in zip(lines, _list_flags(lines)):
            if not has_words(line) or _FOOTER.match(line):
                line_no += 1
                continue
            # The hook is what shows before "see more": the whole first line, when there are more.
            whole = is_list or (not units and several_lines)
            pieces = [line] if whole else split_sentences(line)
            units.extend(Unit(text=piece, paragraph=p_index, line=line_no, is_list=is_list) for piece in pieces)
            line_no += 1
    return units
