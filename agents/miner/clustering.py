"""Clustering structure signatures without knowing the number of clusters.

Posts are grouped by their distinct signature first (10,000 posts have far fewer distinct
signatures), and each distinct signature carries its post count as a weight. Then:

1. **Canopies.** A leader pass over signatures, heaviest first: each joins the nearest leader
   within ``canopy_radius``, or becomes a leader. Memory and time are O(signatures × leaders).
2. **Average linkage** over the canopy leaders (weighted by their canopies' post counts), merging
   the closest pair while its distance is at most ``threshold`` (Lance-Williams update on one
   leaders × leaders matrix; leaders are bounded by ``max_leaders``, never by posts).
3. **Medoids.** Each cluster is represented by the member signature with the least weighted
   distance to the others: that is the template's structure.

Deterministic: ties are broken by the signature's string form.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .signature import Signature, signature_key

Distance = Callable[[Signature, Signature], float]


@dataclass(frozen=True)
class SignatureCluster:
    medoid: Signature
    members: dict[Signature, int]  # signature -> post count

    @property
    def weight(self) -> int:
        return sum(self.members.values())


class _Cached:
    def __init__(self, distance: Distance) -> None:
        self.distance = distance
        self.cache: dict[tuple[Signature, Signature], float] = {}

    def __call__(self, a: Signature, b: Signature) -> float:
        if a == b:
            return 0.0
        key = (a, b) if signature_key(a) <= signature_key(b) else (b, a)
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = self.distance(*key)
        return found


class SignatureClusterer:
    """Agglomerative clustering with a distance threshold over weighted signatures."""

    def __init__(
        self,
        distance: Distance,
        *,
        threshold: float = 0.3,
        canopy_radius: float = 0.12,
        max_leaders: int = 2000,
        medoid_candidates: int = 40,
    ) -> None:
        self.distance = distance
        self.threshold = threshold
        self.canopy_radius = canopy_radius
        self.max_leaders = max_leaders
        self.medoid_candidates = medoid_candidates

    def fit(self, weights: Mapping[Signature, int]) -> list[SignatureCluster]:
        """Clusters of the signatures in ``weights``, heaviest first."""
        dist = _Cached(self.distance)
        order = sorted(weights, key=lambda s: (-weights[s], signature_key(s)))
        leaders: list[Signature] = []
        canopy: dict[Signature, list[Signature]] = {}
        for sig in order:
            best, best_d = None, float("inf")
            for leader in leaders:
                d = dist(sig, leader)
                if d < best_d:
                    best, best_d = leader, d
            radius = self.canopy_radius if len(leaders) < self.max_leaders else float("inf")
            if best is not None and best_d <= radius:
                canopy[best].append(sig)
            else:
                leaders.append(sig)
                canopy[sig] = [sig]
        groups = self._average_linkage(leaders, [sum(weights[s] for s in canopy[l]) for l in leaders], dist)
        clusters = []
        for group in groups:
            members = {s: weights[s] for leader in group for s in canopy[leader]}
            clusters.append(SignatureCluster(medoid=self._medoid(members, dist), members=members))
        clusters.sort(key=lambda c: (-c.weight, signature_key(c.medoid)))
        return clusters

    def _average_linkage(self, leaders: list[Signature], weights: list[int], dist: _Cached) -> list[list[Signature]]:
        n = len(leaders)
        if n == 1:
            return [leaders]
        matrix = np.full((n, n), np.inf)
        for i in range(n):
            for j in range(i + 1, n):
                matrix[i, j] = matrix[j, i] = dist(leaders[i], leaders[j])
        size = np.array(weights, dtype=float)
        groups: list[list[Signature] | None] = [[leader] for leader in leaders]
        while True:
            flat = int(np.argmin(matrix))
            i, j = divmod(flat, n)
            if not np.isfinite(matrix[i, j]) or matrix[i, j] > self.threshold:
                break
            # Merge j into i; Lance-Williams for (weighted) average linkage.
            merged = (size[i] * matrix[i] + size[j] * matrix[j]) / (size[i] + size[j])
            matrix[i, :] = merged
            matrix[:, i] = merged
            matrix[i, i] = np.inf
            matrix[j, :] = np.inf
            matrix[:, j] = np.inf
            size[i] += size[j]
            groups[i] = (groups[i] or []) + (groups[j] or [])
            groups[j] = None
        return [g for g in groups if g]

    def _medoid(self, members: Mapping[Signature, int], dist: _Cached) -> Signature:
        ranked = sorted(members, key=lambda s: (-members[s], signature_key(s)))
        candidates = ranked[: self.medoid_candidates]
        pool = ranked[: self.medoid_candidates * 5]
        return min(
            candidates,
            key=lambda c: (sum(members[s] * dist(c, s) for s in pool), signature_key(c)),
        )
