"""One poll of one feed: conditional GET, parse, and the subscription's new health.

Never raises for the feed's faults: a timeout, a 500, an oversized or malformed body all end
as a recorded failure with its reason (and a backed-off next poll); a 304 is a success with
no items. What to do with the items (ingest, scout) is the caller's business.
"""

from __future__ import annotations

from datetime import datetime

from storage.errors import Invalid
from storage.objects import FeedSubscription

from .feeds import parse_feed
from .fetch import FetchRequest, Fetcher
from .health import BackoffPolicy, record_failure, record_success
from .models import IngestModel, RawItem


class PollOutcome(IngestModel):
    subscription: FeedSubscription
    items: list[RawItem] = []
    not_modified: bool = False
    error: str | None = None


async def poll_feed(fetcher: Fetcher, sub: FeedSubscription, now: datetime,
                    policy: BackoffPolicy = BackoffPolicy()) -> PollOutcome:  # fmt: skip
    result = await fetcher.fetch(FetchRequest(url=sub.url, etag=sub.etag, last_modified=sub.last_modified))
    if result.outcome == "not_modified":
        updated = record_success(sub, now, etag=result.etag, last_modified=result.last_modified, not_modified=True)
        return PollOutcome(subscription=updated, not_modified=True)
    if result.outcome == "error":
        reason = f"{result.error_code}: {result.error}"
        return PollOutcome(subscription=record_failure(sub, now, reason, policy), error=reason)
    try:
        parsed = parse_feed(result.body or b"", result.final_url or sub.url)
    except Invalid as exc:
        reason = f"invalid_feed: {exc.message}"
        return PollOutcome(subscription=record_failure(sub, now, reason, policy), error=reason)
    updated = record_success(sub, now, etag=result.etag, last_modified=result.last_modified, not_modified=False,
                             title=parsed.title)  # fmt: skip
    return PollOutcome(subscription=updated, items=parsed.items)
