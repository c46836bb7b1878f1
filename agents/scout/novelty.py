"""Novelty: how far a document is from what the brand already has, and story joining.

* Against existing **cards**: the highest cosine between the document vector and a card's
  story vector. At or above ``join_cosine`` the document tells that card's story again: it
  joins the card's ``source_refs`` instead of making a new card.
* Against recent **packages and variants** (what the brand already said): the highest cosine.

novelty = 1 - clip((s - floor) / (1 - floor), 0, 1) with s the highest of both: a document
unlike anything the brand has is fully novel; one the brand just covered is not.
"""

from __future__ import annotations

import numpy as np

JOIN_COSINE = 0.85
NOVELTY_FLOOR = 0.5


def best_match(vectors: np.ndarray, against: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(best cosine, index of the best) of each row of ``vectors`` in ``against``; -1 if empty."""
    if against.size == 0 or vectors.size == 0:
        n = len(vectors)
        return np.full(n, -1.0, dtype=np.float32), np.full(n, -1, dtype=np.int64)
    sims = vectors @ against.T
    best = sims.argmax(axis=1)
    return sims[np.arange(len(vectors)), best], best


def novelty(similarity: np.ndarray, floor: float = NOVELTY_FLOOR) -> np.ndarray:
    return 1.0 - np.clip((similarity - floor) / (1.0 - floor), 0.0, 1.0)
