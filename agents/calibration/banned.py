"""Banned words: from the brand's taboos (``data/banned_rules.json``) and explicit lists.

Quoted terms in a taboo are banned outright (``Never say "game-changer"``); a lead-in such as
``No …`` or ``Avoid …`` names terms to flag (soft); a taboo that names a behaviour rather than
words (``Trashing competitors``) bans no word: the gates judge behaviour, not this list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex

from storage.objects import BannedSeverity, BannedWord, DnaSource

from .lexicon import DATA_DIR
from .models import Example

QUOTED = regex.compile(r"[\"“”„«»]([^\"“”„«»]{1,120})[\"“”„«»]|(?<!\w)'([^']{1,120})'(?!\w)")


@dataclass(frozen=True)
class BannedRules:
    quoted_severity: BannedSeverity
    max_term_words: int
    lead_ins: tuple[tuple[regex.Pattern[str], BannedSeverity], ...]
    split: regex.Pattern[str]

    @classmethod
    def load(cls, path: Path = DATA_DIR / "banned_rules.json") -> BannedRules:
        raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            quoted_severity=BannedSeverity(raw["quoted_severity"]),
            max_term_words=raw["max_term_words"],
            lead_ins=tuple((regex.compile(r["pattern"], regex.IGNORECASE), BannedSeverity(r["severity"])) for r in raw["lead_ins"]),
            split=regex.compile(raw["split"], regex.IGNORECASE),
        )

    def from_taboo(self, taboo: str) -> list[BannedWord]:
        reason = f"taboo: {taboo}"[:500]
        quoted = [a or b for a, b in QUOTED.findall(taboo)]
        if quoted:
            terms, severity = quoted, self.quoted_severity
        else:
            for pattern, severity in self.lead_ins:
                if match := pattern.match(taboo.strip().rstrip(".!")):
                    terms = self.split.split(match.group("terms"))
                    break
            else:
                return []
        cleaned = [t.strip(" .,:;!?\"'") for t in terms]
        return [
            BannedWord(word=t, reason=reason, severity=severity, source=DnaSource.DETECTED)
            for t in cleaned
            if t and len(t.split()) <= self.max_term_words
        ]


def merge_banned(current: list[BannedWord], explicit: list[BannedWord], derived: list[BannedWord]) -> list[BannedWord]:
    """The new list: words someone set by hand stay; explicit words replace any entry with the
    same word (case-insensitive); words derived from taboos are re-derived each time (a taboo
    removed since the last calibration no longer bans its words)."""
    merged: dict[str, BannedWord] = {}
    for word in current:
        if word.source is not DnaSource.DETECTED:
            merged[word.word.casefold()] = word
    for word in explicit:
        merged[word.word.casefold()] = word
    for word in derived:
        merged.setdefault(word.word.casefold(), word)
    return list(merged.values())


def banned_in_examples(banned: list[BannedWord], examples: list[Example]) -> list[str]:
    """Warnings for examples that use a banned word: the brand's own voice contradicts its
    list, and someone should decide which is right."""
    warnings = []
    for word in banned:
        pattern = regex.compile(r"(?<![\p{L}\d])" + regex.escape(word.word) + r"(?![\p{L}\d])", regex.IGNORECASE)
        rows = [e.row for e in examples if pattern.search(e.text)]
        if rows:
            shown = ", ".join(str(r) for r in rows[:10])
            warnings.append(f"banned word {word.word!r} ({word.severity}) appears in example rows {shown}")
    return warnings
