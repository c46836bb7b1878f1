"""Pattern miner: a post segmented into beats (hook, context, list, CTA)."""

from __future__ import annotations

import re
from typing import ClassVar, Literal

from pydantic import Field


from .base import TEXT_MAX, EngineModel



BeatName = Literal["hook", "context", "list", "cta"]


class Beat(EngineModel):
    name: BeatName
    text: str


class SegmentInput(EngineModel):
    text: str = Field(min_length=1, max_length=TEXT_MAX)


class SegmentResult(EngineModel):
    beats: list[Beat]


_LIST_ITEM = re.compile(r"^\s*(?:[-•*–]\s+|\d{1,2}[.)]\s+)")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")
_CTA_WORDS = re.compile(
    r"\b(?:dm|comment|follow|link|subscribe|sign\s+up|register|download|repost|share|reply)\b",
    re.IGNORECASE,
)
_IMPERATIVE_START = re.compile(
    r"^\W*(?:try|get|grab|join|book|read|check|click|tap|visit|watch|start|save|learn|tell|drop|"
    r"let\s+me\s+know|let\s+us\s+know|send|see|find\s+out|claim|request|schedule|contact|ask)\b",
    re.IGNORECASE,
)


def _looks_like_cta(line: str) -> bool:
    stripped = line.strip()
    return (
        stripped.endswith("?")
        or bool(_CTA_WORDS.search(stripped))
        or bool(_IMPERATIVE_START.match(stripped))
    )


class PatternMiner:
    """Mines the structure of posts. Today: segmentation of one post into beats.

    The heuristic, in order:

    1. Line endings are normalised; the post is split into blocks at blank lines and each block
       into its non-empty lines. A post that is a single line is split into sentences instead
       (at ``.``, ``!``, ``?`` or ``…`` followed by whitespace).
    2. The first unit is the ``hook``.
    3. The last unit (when there are at least two) is the ``cta`` if it reads like a call to
       action: it ends with a question mark, contains "DM", "comment", "follow", "link",
       "subscribe", "sign up", "register", "download", "repost", "share" or "reply", or starts
       with an imperative verb ("try", "get", "join", "book", "read", "check", "visit", ...).
    4. Any other unit starting with ``-``, ``•``, ``*``, ``–`` or ``1.``/``1)`` is ``list``.
    5. Everything else is ``context``.
    6. Consecutive ``list`` lines, and consecutive ``context`` lines of the same block, are
       merged into one beat (joined with a newline): a bullet list is one beat, not five.

    Words are matched, not meanings: "follow" in a closing statement makes it a CTA. Later work
    adds more beat kinds (confession, lesson, ...) and clusters beat sequences into templates.
    """

    OPS: ClassVar[dict[str, type[EngineModel]]] = {"segment": SegmentInput}

    async def segment(self, payload: SegmentInput) -> SegmentResult:
        return SegmentResult(beats=segment_beats(payload.text))


def _units(text: str) -> list[tuple[int, str]]:
    """(block index, unit text) pairs, in order."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    units: list[tuple[int, str]] = []
    for block_index, block in enumerate(re.split(r"\n[ \t]*\n", text)):
        units.extend((block_index, line.strip()) for line in block.split("\n") if line.strip())
    if len(units) == 1:
        units = [(0, s.strip()) for s in _SENTENCE_END.split(units[0][1]) if s.strip()]
    return units


def segment_beats(text: str) -> list[Beat]:
    units = _units(text)
    labelled: list[tuple[int, BeatName, str]] = []
    last = len(units) - 1
    for i, (block, unit) in enumerate(units):
        name: BeatName
        if i == 0:
            name = "hook"
        elif i == last and _looks_like_cta(unit):
            name = "cta"
        elif _LIST_ITEM.match(unit):
            name = "list"
        else:
            name = "context"
        labelled.append((block, name, unit))
    beats: list[Beat] = []
    previous: tuple[int, BeatName] | None = None
    for block, name, unit in labelled:
        mergeable = previous is not None and previous[1] == name and (
            name == "list" or (name == "context" and previous[0] == block)
        )
        if mergeable:
            beats[-1] = Beat(name=name, text=f"{beats[-1].text}\n{unit}")
        else:
            beats.append(Beat(name=name, text=unit))
        previous = (block, name)
    return beats
