"""Per-connection token buckets, kept in step with what the platform's rate-limit headers say.

A bucket starts from the connection's configured (or default) window; every answer carrying
``limit/remaining/reset`` replaces the bucket's view, because the platform's count is the truth
(other clients of the same account spend from it too). Before a create the publisher asks
:meth:`TokenBucket.wait_until`: None means go, a time means "reschedule to then" without
spending an attempt.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from .outcomes import RateWindow


@dataclass
class TokenBucket:
    capacity: int
    window: timedelta
    tokens: float = field(default=-1.0)
    reset_at: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = float(self.capacity)

    def _refill(self, now: datetime) -> None:
        if self.reset_at is not None:  # a window the platform told us about: full again at reset
            if now >= self.reset_at:
                self.tokens, self.reset_at = float(self.capacity), None
        elif self.updated_at is not None:
            rate = self.capacity / self.window.total_seconds()
            self.tokens = min(self.capacity, self.tokens + rate * (now - self.updated_at).total_seconds())
        self.updated_at = now

    def wait_until(self, now: datetime) -> datetime | None:
        """None when a request may go now (and takes a token), else when one may."""
        self._refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        if self.reset_at is not None:
            return self.reset_at
        rate = self.capacity / self.window.total_seconds()
        return now + timedelta(seconds=(1 - self.tokens) / rate)

    def available(self, now: datetime) -> int:
        """How many requests may go now (nothing is taken: :meth:`wait_until` takes)."""
        self._refill(now)
        return int(self.tokens)

    def observe(self, seen: RateWindow | None, now: datetime) -> None:
        """Adopt the platform's count from one answer's headers."""
        if seen is None:
            return
        if seen.limit:
            self.capacity = seen.limit
        if seen.remaining is not None:
            self.tokens = float(seen.remaining)
        if seen.reset_at is not None:
            self.reset_at = seen.reset_at if seen.reset_at > now else None
        self.updated_at = now

    def block(self, until: datetime) -> None:
        """A 429 or a cap: nothing until ``until``."""
        self.tokens, self.reset_at = 0.0, until


@dataclass
class Buckets:
    """One bucket per connection, created from defaults on first use."""

    default_capacity: int = 100
    default_window: timedelta = timedelta(minutes=15)
    buckets: dict[str, TokenBucket] = field(default_factory=dict)

    def get(self, key: str, capacity: int | None = None, window: timedelta | None = None) -> TokenBucket:
        if key not in self.buckets:
            self.buckets[key] = TokenBucket(capacity or self.default_capacity, window or self.default_window)
        return self.buckets[key]


__all__ = ["Buckets", "TokenBucket"]
