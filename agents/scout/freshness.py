"""Freshness: exponential decay with the document's age.

freshness = 0.5 ** (age / half_life), with age from ``published_at`` (best effort; a document
without one is as old as its ingestion). A document dated in the future (clock skew, time
zones) counts as brand new, never above 1.
"""

from __future__ import annotations

from datetime import datetime

HALF_LIFE_HOURS = 48.0


def freshness(published_at: datetime | None, ingested_at: datetime, now: datetime,
              half_life_hours: float = HALF_LIFE_HOURS) -> float:  # fmt: skip
    moment = published_at or ingested_at
    age_hours = max((now - moment).total_seconds() / 3600.0, 0.0)
    return 0.5 ** (age_hours / half_life_hours)
