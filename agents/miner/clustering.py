"""Clustering structure signatures without knowing the number of clusters.

Posts are grouped by their distinct signature first (10,000 posts have far fewer distinct
signatures), and each distinct signature carries its post count as a weight. Then:

1. **Canopies.** A leader pass over signatures, heaviest first: each joins the nearest leader
   within ``canopy_radius``, or becomes a leader (at most ``max_leaders``; after that it joins the
   nearest). Time O(signatures × leaders), memory O(leaders).
2. **Average linkage** over the canopy leaders, weighted by their canopies' post counts, merging
   the closest pair while its distance is at most ``threshold`` (Lance-Williams update on one
   leaders × leaders matrix, bounded by ``max_leaders``, never by posts).
3. **Medoids.** Each cluster is represented by the member signature with the least weighted
   distance to the others: that is the template's structure.

Distances from one signature to many are computed vectorised (:func:`.signature.to_many`).
Deterministic: ties are broken by the signature's string form.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from .signature import (
    SequenceDistance,
    Signature,
    SignatureBatch,
    signature_key,
    to_many,
)


@dataclass(frozen=True)
class SignatureCluster:
    medoid: Signature
    members: dict[Signature, int]  # signature -> post count

    @property
    def weight(self) -> int:
        return sum(self.members.values())


class SignatureClusterer:
    """Agglomerative clustering with a distance threshold over weighted signatures."""

    def __init__(
        self,
        distance: SequenceDistance,
        *,
        threshold: float = 0.3,
        canopy_radius: float = 0.12,
        max_leaders: int = 2000,
        medoid_candidates: int = 12,
    ) -> None:
        self.distance = distance
        self.threshold = threshold
        self.canopy_radius = canopy_radius
        self.max_leaders = max_leaders
        self.medoid_candidates = medoid_candidates

    def fit(self, weights: Mapping[Signature, int]) -> list[SignatureCluster]:
        """Clusters of the signatures in ``weights``, heaviest first."""
        if not weights:
            return []
        order = sorted(weights, key=lambda s: (-weights[s], signature_key(s)))
        width = max(1, *(len(s) for s in order))
        leaders = SignatureBatch(self.distance, width=width, capacity=min(len(order), self.max_leaders))
        canopy: list[list[Signature]] = []
        for sig in order:
            if leaders.signatures:
                d = to_many(self.distance, sig, leaders)
                nearest = int(np.argmin(d))  # first minimum: the heaviest leader among equals
                full = len(leaders.signatures) >= self.max_leaders
                if d[nearest] <= self.canopy_radius or full:
                    canopy[nearest].append(sig)
                    continue
            leaders.append(sig)
            canopy.append([sig])
        groups = self._average_linkage(leaders, [sum(weights[s] for s in c) for c in canopy])
        clusters = []
        for group in groups:
            members = {s: weights[s] for leader in group for s in canopy[leader]}
            clusters.append(SignatureCluster(medoid=self._medoid(members, width), members=members))
        clusters.sort(key=lambda c: (-c.weight, signature_key(c.medoid)))
        return clusters

    def _average_linkage(self, leaders: SignatureBatch, weights: list[int]) -> list[list[int]]:
        n = len(leaders.signatures)
        if n == 1:
            return [[0]]
        matrix = np.vstack([to_many(self.distance, sig, leaders) for sig in leaders.signatures])
        matrix = np.minimum(matrix, matrix.T)  # exact already; guards float asymmetry
        np.fill_diagonal(matrix, np.inf)
        size = np.array(weights, dtype=float)
        alive = np.ones(n, dtype=bool)
        row_min = matrix.min(axis=1)
        row_arg = matrix.argmin(axis=1)
        groups: list[list[int] | None] = [[i] for i in range(n)]
        while True:
            i = int(np.argmin(row_min))
            j = int(row_arg[i])
            if not np.isfinite(row_min[i]) or row_min[i] > self.threshold:
                break
            # Merge j into i; Lance-Williams for (weighted) average linkage.
            merged = (size[i] * matrix[i] + size[j] * matrix[j]) / (size[i] + size[j])
            merged[~alive] = np.inf
            merged[i] = merged[j] = np.inf
            matrix[i, :] = merged
            matrix[:, i] = merged
            matrix[j, :] = np.inf
            matrix[:, j] = np.inf
            alive[j] = False
            size[i] += size[j]
            groups[i] = (groups[i] or []) + (groups[j] or [])
            groups[j] = None
            row_min[j] = np.inf
            # Rows whose nearest was i or j look again (their distance to i may have grown);
            # every other row can only have come closer to i.
            stale = np.flatnonzero(alive & ((row_arg == i) | (row_arg == j)))
            for k in {i, *stale.tolist()}:
                row_arg[k] = int(np.argmin(matrix[k]))
                row_min[k] = matrix[k, row_arg[k]]
            closer = alive & (merged < row_min)
            row_min[closer] = merged[closer]
            row_arg[closer] = i
        return [g for g in groups if g]

    def _medoid(self, members: Mapping[Signature, int], width: int) -> Signature:
        ranked = sorted(members, key=lambda s: (-members[s], signature_key(s)))
        pool = ranked[: self.medoid_candidates * 5]
        batch = SignatureBatch(self.distance, pool, width=width)
        pool_weights = np.array([members[s] for s in pool], dtype=float)
        costs = [(float(to_many(self.distance, c, batch) @ pool_weights), signature_key(c), c)
                 for c in ranked[: self.medoid_candidates]]
        return min(costs, key=lambda item: item[:2])[2]
