"""A brand's anchor texts: what its documents are compared with.

* one anchor per pillar: ``name. description`` (the pillar's topic);
* the brand's *context*: positioning, persona descriptions and memory fragments, averaged
  into one direction (the world the brand speaks in and how it sounds);
* one text per persona (name, description, pains, goals) to pick the best persona.

Embedding anchors costs a model call, so :class:`AnchorCache` keeps them per brand, keyed by
the texts themselves: a changed pillar or new memory is a new key, never a stale vector.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from .models import BrandProfile


def pillar_text(name: str, description: str) -> str:
    return f"{name}. {description}"


def persona_text(name: str, description: str, pain_points: list[str], goals: list[str]) -> str:
    parts = [f"{name}. {description}"]
    if pain_points:
        parts.append("Struggles with " + "; ".join(pain_points) + ".")
    if goals:
        parts.append("Wants to " + "; ".join(g[0].lower() + g[1:] for g in goals) + ".")
    return " ".join(parts)


def anchor_texts(brand: BrandProfile) -> tuple[list[str], list[str], list[str]]:
    """(pillar texts, context texts, persona texts) of a brand."""
    pillars = [pillar_text(p.name, p.description) for p in brand.pillars]
    personas = [persona_text(p.name, p.description, p.pain_points, p.goals) for p in brand.personas]
    context = [brand.positioning, *(p.description for p in brand.personas), *brand.memory]
    return pillars, context, personas


@dataclass(frozen=True)
class BrandAnchors:
    """Unit vectors of a brand's anchors: pillars (k x d), personas (m x d), context (d)."""

    pillars: np.ndarray
    personas: np.ndarray
    context: np.ndarray


def _unit(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms == 0, 1.0, norms)


def anchors_from_vectors(pillars: np.ndarray, context: np.ndarray, personas: np.ndarray) -> BrandAnchors:
    return BrandAnchors(
        pillars=_unit(np.asarray(pillars, dtype=np.float32)),
        personas=_unit(np.asarray(personas, dtype=np.float32)),
        context=_unit(np.asarray(context, dtype=np.float32).mean(axis=0)),
    )


class AnchorCache:
    """LRU of brand anchors keyed by a hash of the anchor texts (and the model name)."""

    def __init__(self, maxsize: int = 4096) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[str, BrandAnchors] = OrderedDict()

    @staticmethod
    def key(model_name: str, texts: tuple[list[str], list[str], list[str]]) -> str:
        return hashlib.sha256(json.dumps([model_name, *texts]).encode()).hexdigest()

    def get(self, key: str) -> BrandAnchors | None:
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
        return found

    def put(self, key: str, anchors: BrandAnchors) -> None:
        self._items[key] = anchors
        self._items.move_to_end(key)
        while len(self._items) > self.maxsize:
            self._items.popitem(last=False)
