"""A feed's polling state as pure functions over :class:`FeedSubscription`.

* success (200 or 304): failures reset, ``last_success_at`` set, the validators (ETag,
  Last-Modified) kept for the next conditional GET, next poll one interval later;
* failure: failures in a row + 1, the error and its time recorded, next poll after an
  exponential backoff ``min(base * 2**(failures - 1), max)`` (never sooner than the base, never
  later than the cap), so a dead feed is asked less and less often but never forgotten.

A small deterministic jitter (from the subscription id) spreads feeds that failed together.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from storage.errors import Invalid
from storage.objects import FeedSubscription

from .urls import normalize_url

URL_SHAPE = re.compile(r"^https://[^\s/$.?#\x00-\x1f\x7f-\x9f][^\s\x00-\x1f\x7f-\x9f]*$")
"""What a stored ``url_key`` looks like (the HttpUrl shape, on https)."""


@dataclass(frozen=True)
class BackoffPolicy:
    base_seconds: float = 60.0
    max_seconds: float = 24 * 3600.0
    jitter: float = 0.1
    """Fraction of the delay added at most, the same for a given subscription."""

    def delay(self, failures: int, key: str = "") -> float:
        if failures <= 0:
            return 0.0
        raw = min(self.base_seconds * 2 ** min(failures - 1, 40), self.max_seconds)
        spread = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=2).digest(), "big") / 65535.0
        return min(raw * (1.0 + self.jitter * spread), self.max_seconds)


def new_subscription(brand_id, url: str, *, poll_interval_seconds: int = 3600, now: datetime,
                     title: str | None = None) -> FeedSubscription:  # fmt: skip
    """A subscription polled at once (``next_poll_at = now``)."""
    return FeedSubscription(brand_id=brand_id, url=url.strip(), url_key=feed_key(url), title=title,
                            poll_interval_seconds=poll_interval_seconds, next_poll_at=now, created_at=now,
                            updated_at=now)  # fmt: skip


def feed_key(url: str) -> str:
    """The subscription's key: the normalized URL (:func:`.urls.normalize_url`), or, for a URL
    normalization cannot read or turns into something that is no URL any more (a host whose
    characters NFKC-fold into spaces, a port out of range), the URL itself on ``https``: such a
    feed is still subscribed once, and its polls record why it cannot be fetched."""
    url = url.strip()
    try:
        key = normalize_url(url)
    except Invalid:
        key = ""
    if not URL_SHAPE.match(key):
        key = "https://" + url.split("://", 1)[-1]
    return key[:2048]  # the stored URL's own bound (``https`` is one character longer than ``http``)


def _update(sub: FeedSubscription, **changes: object) -> FeedSubscription:
    return FeedSubscription.model_validate({**sub.model_dump(), **changes})


def record_success(sub: FeedSubscription, now: datetime, *, etag: str | None, last_modified: str | None,
                   not_modified: bool, title: str | None = None) -> FeedSubscription:  # fmt: skip
    """After a 200 (new validators replace the old) or a 304 (the old ones stay valid)."""
    return _update(
        sub, last_polled_at=now, last_success_at=now, consecutive_failures=0,
        etag=sub.etag if not_modified else etag, last_modified=sub.last_modified if not_modified else last_modified,
        title=title or sub.title, next_poll_at=now + timedelta(seconds=sub.poll_interval_seconds),
        updated_at=max(now, sub.created_at),
    )  # fmt: skip


def record_failure(sub: FeedSubscription, now: datetime, error: str,
                   policy: BackoffPolicy = BackoffPolicy()) -> FeedSubscription:  # fmt: skip
    failures = sub.consecutive_failures + 1
    delay = policy.delay(failures, str(sub.id))
    return _update(
        sub, last_polled_at=now, last_error=(error.strip() or "unknown error")[:500], last_error_at=now,
        consecutive_failures=failures, next_poll_at=now + timedelta(seconds=delay), updated_at=max(now, sub.created_at),
    )  # fmt: skip


def is_due(sub: FeedSubscription, now: datetime) -> bool:
    return sub.next_poll_at <= now


class FeedHealth(BaseModel):
    """What the API shows about a feed."""

    model_config = ConfigDict(frozen=True)

    status: Literal["never_polled", "ok", "failing"]
    last_polled_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    consecutive_failures: int
    next_poll_at: datetime
    conditional_get: bool
    """Whether the next poll asks ``If-None-Match`` / ``If-Modified-Since`` (the feed gave an
    ETag or a Last-Modified), so an unchanged feed costs a 304 and no parsing."""


def health(sub: FeedSubscription) -> FeedHealth:
    if sub.last_polled_at is None:
        status: Literal["never_polled", "ok", "failing"] = "never_polled"
    else:
        status = "failing" if sub.consecutive_failures else "ok"
    return FeedHealth(status=status, last_polled_at=sub.last_polled_at, last_success_at=sub.last_success_at,
                      last_error=sub.last_error, last_error_at=sub.last_error_at,
                      consecutive_failures=sub.consecutive_failures, next_poll_at=sub.next_poll_at,
                      conditional_get=bool(sub.etag or sub.last_modified))  # fmt: skip
