"""Impression-weighted engagement statistics that can be merged without the raw posts.

Each measured post contributes its engagement rate (engagements / impressions) with its
impressions as weight, so a post seen by 50,000 people counts more than one seen by 50. The
state (weight, mean, variance) combines exactly (Chan et al.'s parallel update), which is what
merging a re-mined cluster into an existing template needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class EngagementStats:
    posts: int = 0
    measured: int = 0
    impressions: int = 0
    engagements: int = 0
    variance: float = 0.0  # impression-weighted variance of the per-post rate

    @property
    def mean(self) -> float | None:
        return self.engagements / self.impressions if self.impressions else None

    @property
    def spread(self) -> float | None:
        return math.sqrt(self.variance) if self.impressions else None

    @classmethod
    def of_post(cls, impressions: int | None, engagements: int | None) -> EngagementStats:
        if impressions is None or engagements is None or impressions <= 0:
            return cls(posts=1)
        return cls(posts=1, measured=1, impressions=impressions, engagements=engagements)

    def __add__(self, other: EngagementStats) -> EngagementStats:
        w = self.impressions + other.impressions
        if w == 0:
            return EngagementStats(posts=self.posts + other.posts)
        mean = (self.engagements + other.engagements) / w
        variance = 0.0
        for part in (self, other):
            if part.impressions:
                assert part.mean is not None
                variance += part.impressions * (part.variance + (part.mean - mean) ** 2)
        return EngagementStats(
            posts=self.posts + other.posts,
            measured=self.measured + other.measured,
            impressions=w,
            engagements=self.engagements + other.engagements,
            variance=variance / w,
        )

    def shrunk_rate(self, prior_rate: float, prior_impressions: float) -> float:
        """The rate pulled towards ``prior_rate`` as if ``prior_impressions`` more were seen at it:
        "evidence-weighted engagement", so three lucky posts do not outrank three hundred."""
        return (self.engagements + prior_rate * prior_impressions) / (self.impressions + prior_impressions)
