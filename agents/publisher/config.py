"""A publisher's settings: plain fields, filled by the runtime from its settings
(``runtime/publisher.py``) and by tests and benchmarks directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .performance import PullSchedule
from .policy import RetryPolicy

DEFAULT_CAPS = {"x": 4, "linkedin": 4, "mastodon": 4, "bluesky": 4, "webhook": 8, "outbox": 64}
"""Concurrent creates per adapter in one publisher. The outbox writes the posts that arrive together
under one lock and one fsync, so its cap is the size of that group, not a courtesy to a server."""


@dataclass
class PublisherConfig:
    """The loop's knobs, plain fields (the runtime fills them from settings)."""

    owner: str
    lease_seconds: float = 60.0
    batch: int = 20
    poll_seconds: float = 1.0
    http_timeout: float = 10.0
    platform_caps: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_CAPS))
    outbox_dir: Path = Path("outbox")
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    metrics_every_seconds: float | None = 60.0
    """How often the loop pulls due metrics of published posts (None: never)."""
    pull_schedule: PullSchedule = field(default_factory=PullSchedule)


__all__ = ["DEFAULT_CAPS", "PublisherConfig"]
