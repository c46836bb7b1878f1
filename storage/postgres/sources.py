"""Where ingestion and the scout keep their state: documents with their passage vectors,
opportunity cards and batches, and feed subscriptions.

Every function takes the caller's connection (``Database.transaction()``), so a document and
its passages, or a day's cards and their batch, commit together or not at all: never a
half-written document or card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from storage.errors import NotFound
from storage.objects import FeedSubscription, GlobalSourceDoc, OpportunityBatch, OpportunityCard, OpportunityState

from . import tables
from .database import translate_errors
from .repositories import VersionedRepository
from .rows import Repository, Table

FEED_SUBSCRIPTIONS = Table("feed_subscriptions", FeedSubscription)
feed_subscriptions: VersionedRepository[FeedSubscription] = VersionedRepository(FEED_SUBSCRIPTIONS)
_docs: Repository[GlobalSourceDoc] = Repository(tables.SOURCE_DOCS)
_cards: Repository[OpportunityCard] = Repository(tables.OPPORTUNITY_CARDS)
_batches: Repository[OpportunityBatch] = Repository(tables.OPPORTUNITY_BATCHES)


@dataclass(frozen=True)
class StoredDoc:
    """A document with its passages and their vectors, as the scout reads it."""

    doc: GlobalSourceDoc
    passages: list[str]
    vectors: list[list[float]]


async def save_document(conn: asyncpg.Connection, doc: GlobalSourceDoc, passages: list[str],
                        vectors: list[list[float]], model: str) -> bool:  # fmt: skip
    """Store a document and its passages; False (nothing written) when the same content is
    already stored for the same org (the content-hash unique index), e.g. by a concurrent
    ingest of the same feed."""
    if len(passages) != len(vectors) or not passages:
        raise ValueError("a document needs one vector per passage, and at least one passage")
    row = tables.SOURCE_DOCS.to_row(doc)
    columns = tables.SOURCE_DOCS.columns
    sql = (f"INSERT INTO global_source_docs ({', '.join(columns)}) VALUES "
           f"({', '.join(f'${i}' for i in range(1, len(columns) + 1))}) ON CONFLICT DO NOTHING")  # fmt: skip
    with translate_errors():
        status = await conn.execute(sql, *[row[c] for c in columns])
        if status.endswith(" 0"):
            return False
        await conn.executemany(
            "INSERT INTO source_doc_passages (doc_id, position, text, model, vector) VALUES ($1, $2, $3, $4, $5)",
            [(doc.id, i, text, model, vector) for i, (text, vector) in enumerate(zip(passages, vectors, strict=True))],
        )
    return True


async def recent_documents(conn: asyncpg.Connection, *, org_id: UUID | None, since: datetime,
                           limit: int = 5000) -> list[StoredDoc]:  # fmt: skip
    """Documents ingested since ``since`` that ``org_id`` may read (public ones and its own),
    newest first, with their passages in order."""
    docs = await _docs.list(conn, "(org_id IS NULL OR org_id = $1) AND ingested_at >= $2", org_id, since,
                            order_by="ingested_at DESC, id", limit=limit)  # fmt: skip
    if not docs:
        return []
    with translate_errors():
        rows = await conn.fetch(
            "SELECT doc_id, text, vector FROM source_doc_passages WHERE doc_id = ANY($1::uuid[]) ORDER BY doc_id, position",
            [d.id for d in docs],
        )
    passages: dict[UUID, tuple[list[str], list[list[float]]]] = {d.id: ([], []) for d in docs}
    for row in rows:
        texts, vectors = passages[row["doc_id"]]
        texts.append(row["text"])
        vectors.append(list(row["vector"]))
    return [StoredDoc(d, *passages[d.id]) for d in docs if passages[d.id][0]]


_CARD_MUTABLE = ("persona_id", "pillar_id", "source_refs", "angle_summary", "opportunity_type", "score",
                 "lifecycle_state", "pinned", "snoozed_until", "updated_at")  # fmt: skip


async def save_cards(conn: asyncpg.Connection, cards: list[OpportunityCard]) -> None:
    """Insert new cards and update known ones (``created_at`` never changes: the table's
    trigger refuses it)."""
    table = tables.OPPORTUNITY_CARDS
    columns = table.columns
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in _CARD_MUTABLE)
    sql = (f"INSERT INTO opportunity_cards ({', '.join(columns)}) VALUES "
           f"({', '.join(f'${i}' for i in range(1, len(columns) + 1))}) "
           f"ON CONFLICT (id) DO UPDATE SET {updates} WHERE opportunity_cards.brand_id = EXCLUDED.brand_id")  # fmt: skip
    rows = [[table.to_row(c)[col] for col in columns] for c in cards]
    if rows:
        with translate_errors():
            await conn.executemany(sql, rows)


async def brand_cards(conn: asyncpg.Connection, brand_id: UUID, *, states: list[OpportunityState] | None = None,
                      since: datetime | None = None, limit: int = 1000) -> list[OpportunityCard]:  # fmt: skip
    """A brand's cards (optionally of some states, created since a time), best first."""
    where, args = ["brand_id = $1"], [brand_id]
    if states:
        args.append([str(s) for s in states])
        where.append(f"lifecycle_state = ANY(${len(args)}::text[])")
    if since is not None:
        args.append(since)
        where.append(f"created_at >= ${len(args)}")
    return await _cards.list(conn, " AND ".join(where), *args, order_by="score DESC, created_at, id", limit=limit)


async def card(conn: asyncpg.Connection, brand_id: UUID, card_id: UUID) -> OpportunityCard:
    found = await _cards.list(conn, "id = $1 AND brand_id = $2", card_id, brand_id, limit=1)
    if not found:
        raise NotFound(f"OpportunityCard {card_id} not found", details={"id": str(card_id)})
    return found[0]


async def save_batch(conn: asyncpg.Connection, batch: OpportunityBatch) -> OpportunityBatch:
    """The brand's batch for its date scope, created or its card list replaced (one per scope)."""
    with translate_errors():
        await conn.execute(
            "INSERT INTO opportunity_batches (id, brand_id, date_scope, opportunity_ids, created_at) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (brand_id, date_scope) "
            "DO UPDATE SET opportunity_ids = EXCLUDED.opportunity_ids",
            batch.id, batch.brand_id, batch.date_scope, batch.opportunity_ids, batch.created_at,
        )  # fmt: skip
    stored = await batch_for(conn, batch.brand_id, batch.date_scope)
    assert stored is not None
    return stored


async def batch_for(conn: asyncpg.Connection, brand_id: UUID, date_scope: str) -> OpportunityBatch | None:
    found = await _batches.list(conn, "brand_id = $1 AND date_scope = $2", brand_id, date_scope, limit=1)
    return found[0] if found else None


async def due_feeds(conn: asyncpg.Connection, now: datetime, *, limit: int = 100) -> list[FeedSubscription]:
    """Feeds whose next poll is due, oldest first, locked for this transaction (several
    schedulers never poll the same feed at once: ``FOR UPDATE SKIP LOCKED``)."""
    with translate_errors():
        rows = await conn.fetch(
            "SELECT * FROM feed_subscriptions WHERE next_poll_at <= $1 ORDER BY next_poll_at, id "
            "LIMIT $2 FOR UPDATE SKIP LOCKED", now, limit,
        )  # fmt: skip
    return [FEED_SUBSCRIPTIONS.from_row(r) for r in rows]


async def brand_feeds(conn: asyncpg.Connection, brand_id: UUID) -> list[FeedSubscription]:
    return await feed_subscriptions.list(conn, "brand_id = $1", brand_id, order_by="created_at, id")


async def remove_feed(conn: asyncpg.Connection, brand_id: UUID, feed_id: UUID) -> None:
    with translate_errors():
        status = await conn.execute("DELETE FROM feed_subscriptions WHERE id = $1 AND brand_id = $2", feed_id, brand_id)
    if status == "DELETE 0":
        raise NotFound(f"FeedSubscription {feed_id} not found", details={"id": str(feed_id)})


_CLAIM_SQL = """
WITH due AS (
    SELECT id FROM feed_subscriptions WHERE next_poll_at <= $1
     ORDER BY next_poll_at, id LIMIT $2 FOR UPDATE SKIP LOCKED)
UPDATE feed_subscriptions f
   SET next_poll_at = $1 + make_interval(secs => $3), version = f.version + 1, updated_at = greatest($1, f.created_at)
  FROM due WHERE f.id = due.id
RETURNING f.*, (SELECT org_id FROM brands b WHERE b.id = f.brand_id) AS org_id
"""


async def claim_due_feeds(conn: asyncpg.Connection, now: datetime, *, limit: int = 100,
                          lease_seconds: float = 300.0) -> list[tuple[FeedSubscription, UUID]]:  # fmt: skip
    """Feeds due at ``now`` (oldest first), each with its brand's org, claimed for a poll: their
    next poll is pushed ``lease_seconds`` ahead in this one statement, so a poller that dies
    mid-poll leaves the feed due again later, and several pollers never fetch the same feed at
    once (``FOR UPDATE SKIP LOCKED``). The poll's result is saved at the claimed version."""
    with translate_errors():
        rows = await conn.fetch(_CLAIM_SQL, now, limit, lease_seconds)
    claimed = []
    for row in rows:
        data = dict(row)
        org_id = data.pop("org_id")
        claimed.append((FEED_SUBSCRIPTIONS.from_row(data), org_id))
    return sorted(claimed, key=lambda c: (c[0].next_poll_at, str(c[0].id)))


async def brand_feed(conn: asyncpg.Connection, brand_id: UUID, feed_id: UUID) -> FeedSubscription:
    found = await feed_subscriptions.list(conn, "id = $1 AND brand_id = $2", feed_id, brand_id, limit=1)
    if not found:
        raise NotFound(f"FeedSubscription {feed_id} not found", details={"id": str(feed_id)})
    return found[0]
