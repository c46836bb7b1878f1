"""A brand's feed subscriptions (RSS or Atom URLs): add one, list them, read one, remove one,
each with its polling health (last poll, last success, last error, failures in a row, next
poll, whether the feed's ETag / Last-Modified make the next poll a conditional GET).

The scheduler polls due feeds (``runtime/scheduler.py``); a new subscription is due at once.
One subscription per feed and brand: the same feed again (after URL normalization) is a 409.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import Depends
from pydantic import Field

from agents.ingest.health import FeedHealth, health, new_subscription
from storage.errors import Invalid
from storage.objects import FeedSubscription
from storage.objects.base import HttpUrl, ShortText, utcnow
from storage.postgres import Database
from storage.postgres import sources as store

from ..access import READ, STRATEGY, BrandAccess
from ..routing import kairo_router
from ..schemas import ApiModel, View
from ..services import database
from .queries import Cursor, Limit, brand_page, by_created, page_of

router = kairo_router("/v1/brands/{brand_id}", "feeds")

FEEDS = by_created("feed_subscriptions")


class FeedCreate(ApiModel):
    url: HttpUrl = Field(description="the RSS or Atom feed's URL")
    title: ShortText | None = Field(default=None, description="a name for it; default the feed's own title")
    poll_interval_seconds: int = Field(default=3600, ge=60, le=604800, description="how often it is polled when healthy")


class FeedHealthView(FeedHealth, View):
    """How the feed's polls went."""


class FeedView(View):
    feed: FeedSubscription
    health: FeedHealthView


FeedPage = page_of(FeedView, "FeedPage")


def _view(sub: FeedSubscription) -> FeedView:
    return FeedView(feed=sub, health=FeedHealthView.model_validate(health(sub).model_dump()))


@router.post("/feeds", response_model=FeedView, status_code=201)
async def add_feed(body: FeedCreate, access: BrandAccess = STRATEGY, db: Database = Depends(database)) -> FeedView:
    """Subscribe the brand to a feed; it is polled at once, then every ``poll_interval_seconds``
    (backing off while it fails). The same feed twice is a 409."""
    try:
        sub = new_subscription(access.brand.id, body.url, poll_interval_seconds=body.poll_interval_seconds,
                               now=utcnow(), title=body.title)  # fmt: skip
    except Invalid as exc:
        raise Invalid(exc.message, details={**exc.details, "field": "body.url"}) from None
    async with db.transaction() as conn:
        await store.feed_subscriptions.insert(conn, sub)
    return _view(sub)


@router.get("/feeds", response_model=FeedPage)
async def list_feeds(
    limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ, db: Database = Depends(database)
) -> Any:
    """The brand's feeds with their health, oldest subscription first."""
    async with db.connection() as conn:
        items, next_cursor = await brand_page(conn, store.feed_subscriptions, access.brand.id, order=FEEDS,
                                              cursor=cursor, limit=limit)  # fmt: skip
    return FeedPage(items=[_view(s) for s in items], next_cursor=next_cursor)


@router.get("/feeds/{feed_id}", response_model=FeedView)
async def get_feed(feed_id: UUID, access: BrandAccess = READ, db: Database = Depends(database)) -> FeedView:
    """One feed and its health."""
    async with db.connection() as conn:
        return _view(await store.brand_feed(conn, access.brand.id, feed_id))


@router.delete("/feeds/{feed_id}", response_model=FeedView)
async def remove_feed(feed_id: UUID, access: BrandAccess = STRATEGY, db: Database = Depends(database)) -> FeedView:
    """Unsubscribe (the removed subscription comes back); the documents it brought stay, as
    cards cite them."""
    async with db.transaction() as conn:
        sub = await store.brand_feed(conn, access.brand.id, feed_id)
        await store.remove_feed(conn, access.brand.id, feed_id)
    return _view(sub)


__all__ = ["router"]
