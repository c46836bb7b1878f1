"""Reasons to post now: a brand's sources (pasted text and bulk items), scouting them into
opportunity cards, the board of a day, and the card actions (snooze, pin, dismiss, restore).

Documents a brand adds are its org's own (other tenants never read them). Cleaning, language
detection, deduplication, embedding and scoring run in the scout pool (``services.engines``).
"""

from __future__ import annotations

from datetime import date as Date
from datetime import timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, Query
from pydantic import AwareDatetime, Field

from agents.ingest.models import RawItem
from agents.scout import lifecycle
from agents.scout.batches import date_scope
from agents.scout.service import ingest, scout_brand
from storage.errors import Invalid
from storage.objects import OpportunityCard, OpportunityState
from storage.objects.base import HttpUrl, ShortText, Text, utcnow
from storage.postgres import Database
from storage.postgres import repositories as repo
from storage.postgres import sources as store

from ...gateway import pooled
from ..access import READ, STRATEGY, BrandAccess
from ..routing import kairo_router
from ..schemas import ApiModel, View
from ..services import EngineCaller, database, engines
from .queries import Cursor, Limit, brand_page, by_created, page_of

router = kairo_router("/v1/brands/{brand_id}", "opportunities")

SOURCES_MAX = 100
CARDS = by_created("opportunity_cards", descending=True)
CardPage = page_of(OpportunityCard, "OpportunityPage")


class SourceItem(ApiModel):
    text: Text = Field(max_length=200_000, description="the article or note; markup is cleaned")
    title: ShortText | None = None
    source_url: HttpUrl | None = None
    published_at: AwareDatetime | None = Field(default=None, description="when it was published, if known")


class SourcesAdd(ApiModel):
    items: list[SourceItem] = Field(min_length=1, max_length=SOURCES_MAX)


class SourcesAdded(View):
    stored: list[UUID] = Field(description="ids of the new documents, in the order of their items")
    merged: list[dict[str, Any]] = Field(description="items that were already known: index, doc_id, reason")
    rejected: list[dict[str, Any]] = Field(description="items that could not be ingested: index, field, reason")


class ScoutRun(View):
    docs: int = Field(description="documents the brand may read that were scored")
    created: int
    updated: int
    batch_id: UUID
    date: str = Field(description="the day's batch (UTC)")
    outcomes: dict[str, int] = Field(description="per outcome (card, joined, below_threshold, language, dismissed)")


class Board(View):
    date: str
    cards: list[OpportunityCard] = Field(description="pinned first, then best score; no dismissed or snoozed card")


SNOOZE_MAX_SECONDS = 366 * 86400


class Snooze(ApiModel):
    action: Literal["snooze"]
    for_seconds: int = Field(ge=60, le=SNOOZE_MAX_SECONDS, description="the card comes back this long from now")


class OtherAction(ApiModel):
    action: Literal["pin", "unpin", "dismiss", "restore"]


CardAction = Annotated[Snooze | OtherAction, Field(discriminator="action")]


@router.post("/sources", response_model=SourcesAdded, status_code=201)
async def add_sources(
    body: SourcesAdd, access: BrandAccess = STRATEGY, db: Database = Depends(database),
    pool: EngineCaller = Depends(engines),
) -> SourcesAdded:  # fmt: skip
    """Add articles or notes (pasted or in bulk) as the org's own documents; an item that repeats a
    known document (same URL, same or reworded text) joins it instead of making a new one."""
    items = [RawItem(text=i.text, title=i.title, source_url=i.source_url, published_at=i.published_at)
             for i in body.items]  # fmt: skip
    report = await ingest(db, pooled(pool, "scout"), items, org_id=access.brand.org_id)
    return SourcesAdded(stored=report.stored, merged=report.merged, rejected=report.rejected)


@router.post("/scout", response_model=ScoutRun, status_code=201)
async def start_scout(
    access: BrandAccess = STRATEGY, db: Database = Depends(database), pool: EngineCaller = Depends(engines)
) -> ScoutRun:
    """Score the documents of the last 30 days into the brand's cards now; again the same day
    updates the day's batch and never duplicates a card."""
    report = await scout_brand(db, pooled(pool, "scout"), access.brand.id)
    return ScoutRun(docs=report.docs, created=report.created, updated=report.updated, batch_id=report.batch.id,
                    date=report.batch.date_scope, outcomes=report.outcomes)  # fmt: skip


@router.get("/board", response_model=Board)
async def get_board(
    date: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", json_schema_extra={"format": "date"},
                                      description="the day (UTC, YYYY-MM-DD); default today")] = None,
    access: BrandAccess = READ, db: Database = Depends(database),
) -> Board:  # fmt: skip
    """The day's cards as the board shows them."""
    try:
        scope = Date.fromisoformat(date).isoformat() if date else date_scope(utcnow())
    except ValueError:
        raise Invalid(f"{date} is not a day of the calendar", details={"field": "query.date"}) from None
    async with db.connection() as conn:
        batch = await store.batch_for(conn, access.brand.id, scope)
        ids = batch.opportunity_ids if batch else []
        cards = await repo.opportunity_cards.list(conn, "brand_id = $1 AND id = ANY($2::uuid[])", access.brand.id, ids)
    return Board(date=scope, cards=lifecycle.board(cards, utcnow()))


@router.get("/opportunities", response_model=CardPage)
async def list_opportunities(
    state: OpportunityState | None = None, limit: Limit = 50, cursor: Cursor = None,
    access: BrandAccess = READ, db: Database = Depends(database),
) -> Any:  # fmt: skip
    """The brand's cards, newest first, optionally of one lifecycle state."""
    async with db.connection() as conn:
        items, next_cursor = await brand_page(conn, repo.opportunity_cards, access.brand.id, order=CARDS, cursor=cursor,
                                              limit=limit, lifecycle_state=state)  # fmt: skip
    return CardPage(items=items, next_cursor=next_cursor)


@router.post("/opportunities/{card_id}/actions", response_model=OpportunityCard)
async def act_on_opportunity(
    card_id: UUID, body: CardAction, access: BrandAccess = STRATEGY, db: Database = Depends(database)
) -> OpportunityCard:
    """Snooze (for a while), pin, unpin, dismiss (for good, even if the story comes again) or
    restore a card; a move its state does not allow is a 409."""
    now = utcnow()
    until = now + timedelta(seconds=body.for_seconds) if isinstance(body, Snooze) else None
    async with db.transaction() as conn:
        await conn.execute("SELECT 1 FROM opportunity_cards WHERE id = $1 AND brand_id = $2 FOR UPDATE",
                           card_id, access.brand.id)  # fmt: skip
        card = await store.card(conn, access.brand.id, card_id)
        changed = lifecycle.apply(card, body.action, now, until=until)
        await store.save_cards(conn, [changed])
    return changed


__all__ = ["router"]
