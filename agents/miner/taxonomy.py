"""The beat taxonomy: which kinds of beat a post is made of, and how related two kinds are.

The kinds, their families (hook, body, list, cta), the labels used in template names, where each
may stand, and the edit costs between related kinds all live in ``data/taxonomy.json``, so the
taxonomy is changed by editing data, not code. Documented in ``agents/miner/TAXONOMY.md``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class BeatKind:
    name: str
    family: str  # hook | body | list | cta
    label: str
    position: str  # first | body | tail


@dataclass(frozen=True)
class Taxonomy:
    """Kinds by name plus the substitution and gap costs of the sequence distance."""

    kinds: dict[str, BeatKind]
    substitution_costs: dict[frozenset[str], float]
    gap_costs: dict[str, float]
    default_gap: float
    list_count_step: float
    list_count_cap: float

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Taxonomy:
        kinds = {name: BeatKind(name=name, **spec) for name, spec in raw["kinds"].items()}
        subs: dict[frozenset[str], float] = {}
        for a, b, cost in raw["substitution"]:
            if a not in kinds or b not in kinds:
                raise ValueError(f"substitution names an unknown kind: {a!r}, {b!r}")
            subs[frozenset((a, b))] = float(cost)
        gap = dict(raw.get("gap", {}))
        default_gap = float(gap.pop("default", 1.0))
        return cls(
            kinds=kinds,
            substitution_costs=subs,
            gap_costs={k: float(v) for k, v in gap.items()},
            default_gap=default_gap,
            list_count_step=float(raw.get("list_count_step", 0.1)),
            list_count_cap=float(raw.get("list_count_cap", 0.3)),
        )

    def of_family(self, family: str) -> list[str]:
        return [k.name for k in self.kinds.values() if k.family == family]

    def substitution(self, a: str, b: str) -> float:
        """Cost of replacing kind ``a`` by ``b``: 0 if equal, the listed cost if related, else 1."""
        if a == b:
            return 0.0
        return self.substitution_costs.get(frozenset((a, b)), 1.0)

    def gap(self, kind: str) -> float:
        """Cost of inserting or deleting a beat of ``kind``."""
        return self.gap_costs.get(kind, self.default_gap)


@lru_cache(maxsize=1)
def default_taxonomy() -> Taxonomy:
    """The taxonomy shipped in ``agents/miner/data/taxonomy.json``."""
    text = (resources.files("agents.miner") / "data" / "taxonomy.json").read_text(encoding="utf-8")
    return Taxonomy.from_dict(json.loads(text))
