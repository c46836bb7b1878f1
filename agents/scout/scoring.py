"""The 0-100 opportunity score: relevance gates, the brand's weights blend.

score = 100 * relevance * (w_r + w_f * freshness + w_n * novelty + w_c * competitive)
                        / (w_r + w_f + w_n + w_c)

with the weights from the brand's ``opportunity_scoring_weights`` (missing factors weigh 0;
all zero falls back to the defaults). Relevance multiplies everything: a fresh, novel
document that is not about the brand scores near 0 however the weights are set, and among
relevant documents the weights decide how much recency, novelty and a competitor matter.
Relevance in [0, 1] is the calibrated z-score scaled by ``z_full`` (the z at which a document
is as relevant as it gets) and clipped.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from storage.objects import ScoringFactor

DEFAULT_WEIGHTS: dict[ScoringFactor, float] = {
    ScoringFactor.BRAND_RELEVANCE: 1.0,
    ScoringFactor.FRESHNESS: 0.6,
    ScoringFactor.NOVELTY: 0.5,
    ScoringFactor.COMPETITIVE_ANGLE: 0.4,
}
Z_FULL = 8.0


def relevance_unit(z: np.ndarray, z_full: float = Z_FULL) -> np.ndarray:
    return np.clip(z / z_full, 0.0, 1.0)


def opportunity_score(relevance: np.ndarray, freshness: np.ndarray, novelty: np.ndarray, competitive: np.ndarray,
                      weights: Mapping[ScoringFactor, float] | None = None) -> np.ndarray:  # fmt: skip
    w = {f: float((weights or {}).get(f, 0.0)) for f in ScoringFactor}
    if sum(w.values()) <= 0:
        w = dict(DEFAULT_WEIGHTS)
    total = sum(w.values())
    blend = (
        w[ScoringFactor.BRAND_RELEVANCE]
        + w[ScoringFactor.FRESHNESS] * freshness
        + w[ScoringFactor.NOVELTY] * novelty
        + w[ScoringFactor.COMPETITIVE_ANGLE] * competitive
    ) / total
    return np.clip(100.0 * relevance * blend, 0.0, 100.0)
