"""Splitting an over-long X post into a thread: at sentence boundaries, every part within the
limit as X counts it, numbered (`` 1/3``) when the brand wants it.

Sentences are packed greedily in order. A sentence that alone is too long is split at word
boundaries, and a word that alone is too long at grapheme boundaries, so any text splits. The
numbering suffix is counted in each part; if the part count gains a digit, packing restarts
with the wider suffix.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import regex

THREAD_PARTS_MAX = 25
"""A post longer than this many parts' worth is over length, not a thread."""

_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])\s+|\n\s*")
_WORD_END = re.compile(r"(?<=\S)\s+")
_GRAPHEME = regex.compile(r"\X")


def _pieces(text: str) -> list[str]:
    return [p for p in (s.strip() for s in _SENTENCE_END.split(text)) if p]


def _fit(unit: str, room: int, count: Callable[[str], int]) -> list[str]:
    """``unit`` cut into chunks that each count at most ``room``: words first, then graphemes."""
    if count(unit) <= room:
        return [unit]
    words = [w for w in _WORD_END.split(unit) if w]
    if len(words) > 1:
        return [chunk for part in _pack(words, room, count) for chunk in _fit(part, room, count)]
    # One word over the limit: cut between graphemes. Weights add up within a word (a URL
    # counts 23 whatever its length, so it never gets here), so each grapheme is counted once.
    chunks, current, used = [], "", 0
    for grapheme in _GRAPHEME.findall(unit):
        weight = count(grapheme)
        if current and used + weight > room:
            chunks.append(current)
            current, used = "", 0
        current += grapheme
        used += weight
    return chunks + ([current] if current else [])


def _pack(units: list[str], room: int, count: Callable[[str], int]) -> list[str]:
    parts: list[str] = []
    current = ""
    for unit in units:
        candidate = f"{current} {unit}" if current else unit
        if count(candidate) <= room:
            current = candidate
        else:
            if current:
                parts.append(current)
            current = unit
    return parts + ([current] if current else [])


def split_thread(text: str, limit: int, count: Callable[[str], int], *, numbered: bool = True) -> list[str]:
    """``text`` as thread parts, each counting at most ``limit`` (with its number suffix)."""
    pieces = _pieces(text)
    if not pieces:
        return []
    digits = 1
    while True:
        suffix = (2 * digits + 2) if numbered else 0  # " 12/34" is 2 * digits + 2 characters
        room = max(1, limit - suffix)
        units = [chunk for piece in pieces for chunk in _fit(piece, room, count)]
        parts = _pack(units, room, count)
        if not numbered or len(parts) == 1:
            return parts
        if len(str(len(parts))) <= digits:
            total = len(parts)
            return [f"{part} {i}/{total}" for i, part in enumerate(parts, start=1)]
        digits = len(str(len(parts)))
