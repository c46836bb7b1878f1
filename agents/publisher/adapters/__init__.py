"""One module per platform, the same small interface for all (:class:`base.Adapter`); the
registry maps a delivery name to its adapter class."""

from __future__ import annotations

from .base import Adapter, Credentials, PostRequest
from .bluesky import BlueskyAdapter
from .linkedin import LinkedInAdapter
from .mastodon import MastodonAdapter
from .outbox import OutboxAdapter
from .webhook import WebhookAdapter
from .x import XAdapter

ADAPTERS: dict[str, type[Adapter]] = {
    "x": XAdapter,
    "linkedin": LinkedInAdapter,
    "mastodon": MastodonAdapter,
    "bluesky": BlueskyAdapter,
    "webhook": WebhookAdapter,
    "outbox": OutboxAdapter,
}

__all__ = ["ADAPTERS", "Adapter", "Credentials", "PostRequest"]
