"""The retry and reconcile policy: how long to wait, how often to try, per kind of operation.

Creates are never retried blindly (see :mod:`agents.publisher.machine`); what this policy
spaces out is the *next attempt* of a job after a failure that certainly did not publish, and
the reconciliation reads after an unconfirmed create. Reads, uploads and token refreshes may
retry in place with :meth:`RetryPolicy.backoff`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped; plain fields like an estimator's parameters."""

    base_seconds: float = 30.0
    factor: float = 2.0
    cap_seconds: float = 3600.0
    jitter: float = 0.2
    """Each delay is scaled by a random factor in [1 - jitter, 1 + jitter] so that jobs failed
    together do not come back together."""
    reconcile_delay_seconds: float = 60.0
    """How long after an unconfirmed create the post is looked up. Longer than the client's
    timeout, so a request the platform is still processing has landed by then."""
    max_reconcile_checks: int = 6
    """Reconciliation reads that may fail (platform unreachable) before the job fails with
    'could not confirm'; the job never stays ``running``."""
    refresh_margin_seconds: float = 300.0
    """Tokens that expire within this margin are refreshed before a create."""
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def backoff(self, attempt: int) -> timedelta:
        """Delay before attempt ``attempt + 1`` (``attempt`` ≥ 1 attempts made)."""
        raw = min(self.cap_seconds, self.base_seconds * self.factor ** max(attempt - 1, 0))
        spread = 1 + self.jitter * (2 * self.rng.random() - 1) if self.jitter else 1.0
        return timedelta(seconds=min(self.cap_seconds, raw * spread))

    def next_reconcile(self, now: datetime, checks: int) -> datetime:
        """When to look again after ``checks`` failed reconciliation reads."""
        return now + timedelta(seconds=self.reconcile_delay_seconds) + (self.backoff(checks) if checks else timedelta())

    def needs_refresh(self, expires_at: datetime | None, now: datetime) -> bool:
        return expires_at is not None and expires_at - now <= timedelta(seconds=self.refresh_margin_seconds)


__all__ = ["RetryPolicy"]
