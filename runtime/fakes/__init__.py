"""Offline fakes of the platforms Kairo publishes to, speaking the same HTTP as the real APIs
(``reference/platform-apis.md``): request validation, success shapes, error bodies, rate-limit
headers, duplicate detection, expiring tokens with rotating refresh tokens, and per-request
fault modes. Tests and the demo both use them; ``python -m runtime.fakes`` (or ``kairo fakes``)
runs them standalone."""

from .base import FakePlatform, FaultPlan
from .bluesky import FakeBluesky
from .linkedin import FakeLinkedIn
from .mastodon import FakeMastodon
from .webhook import FakeWebhookReceiver
from .x import FakeX

FAKES: dict[str, type[FakePlatform]] = {
    "x": FakeX,
    "linkedin": FakeLinkedIn,
    "mastodon": FakeMastodon,
    "bluesky": FakeBluesky,
    "webhook": FakeWebhookReceiver,
}

__all__ = ["FAKES", "FakeBluesky", "FakeLinkedIn", "FakeMastodon", "FakePlatform", "FakeWebhookReceiver", "FakeX", "FaultPlan"]
