"""The word lists the calibration counts, loaded once from ``data/lexicon.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Lexicon:
    """Register markers (formal, informal, hedges, assertives, story and tactical cues),
    pronoun sets and stop lists. Frozen sets so membership tests are O(1)."""

    first_person: frozenset[str]
    second_person: frozenset[str]
    contraction_suffixes: tuple[str, ...]
    contractions: frozenset[str]
    formal: frozenset[str]
    informal: frozenset[str]
    hedges: frozenset[str]
    assertive: frozenset[str]
    story: frozenset[str]
    tactical: frozenset[str]
    stopwords: frozenset[str]
    edge_stopwords: frozenset[str]

    def is_contraction(self, token: str) -> bool:
        return token in self.contractions or token.endswith(self.contraction_suffixes)


@cache
def load_lexicon(path: Path = DATA_DIR / "lexicon.json") -> Lexicon:
    raw = json.loads(path.read_text(encoding="utf-8"))
    fields = {k: v for k, v in raw.items() if not k.startswith("_")}
    return Lexicon(**{
        k: tuple(v) if k == "contraction_suffixes" else frozenset(v) for k, v in fields.items()
    })  # fmt: skip
