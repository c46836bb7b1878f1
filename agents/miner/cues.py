"""Cue phrases and feature weights of the beat labeller, loaded from ``data/cues_<lang>.json``.

Each beat kind has weighted regular expressions ("I was wrong" → confession, "comment below" →
question CTA) and weights on text features (first person, past tense, numbers, ...). Nothing
language-specific lives in code: a language is added by adding its data file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import regex

from .taxonomy import Taxonomy, default_taxonomy


@dataclass(frozen=True)
class CuePack:
    language: str
    cues: dict[str, list[tuple[regex.Pattern[str], float]]]
    feature_weights: dict[str, dict[str, float]]
    lexicon: dict[str, frozenset[str]]
    cta_min: float
    min_score: float
    tail_units: int
    continuation_paragraph: float
    continuation_anaphor: float

    @classmethod
    def from_dict(cls, raw: dict[str, Any], taxonomy: Taxonomy) -> CuePack:
        unknown = (set(raw["cues"]) | set(raw["features"])) - set(taxonomy.kinds)
        if unknown:
            raise ValueError(f"cue file names unknown beat kinds: {sorted(unknown)}")
        cues = {
            kind: [(regex.compile(pattern, regex.IGNORECASE | regex.V0), float(w)) for pattern, w in entries]
            for kind, entries in raw["cues"].items()
        }
        thresholds = raw["thresholds"]
        return cls(
            language=raw["language"],
            cues=cues,
            feature_weights={k: {f: float(w) for f, w in v.items()} for k, v in raw["features"].items()},
            lexicon={name: frozenset(words) for name, words in raw["lexicon"].items()},
            cta_min=float(thresholds["cta_min"]),
            min_score=float(thresholds["min_score"]),
            tail_units=int(thresholds["tail_units"]),
            continuation_paragraph=float(raw.get("continuation", {}).get("paragraph", 0.0)),
            continuation_anaphor=float(raw.get("continuation", {}).get("anaphor", 0.0)),
        )

    def cue_score(self, kind: str, text: str) -> float:
        return sum(weight for pattern, weight in self.cues.get(kind, ()) if pattern.search(text))


@lru_cache(maxsize=8)
def load_cues(language: str = "en") -> CuePack:
    """The cue pack of ``language`` shipped in ``agents/miner/data``."""
    path = resources.files("agents.miner") / "data" / f"cues_{language}.json"
    if not path.is_file():
        raise ValueError(f"no cue phrases for language {language!r}")
    return CuePack.from_dict(json.loads(path.read_text(encoding="utf-8")), default_taxonomy())
