"""Ingestion and the scout against the system of record, for the API, the CLI and the brand
agent: store new documents (one transaction per call), and scout a brand (read its profile, the
documents it may read, its cards; score; write the cards, the day's batch and an EventLog line
in one transaction).

``engine`` is anything with the scout engine's call shape (``await engine.ingest(payload)``):
the :class:`agents.engines.scout.OpportunityScout` itself in a notebook or a test, or the scout
pool seen through a proxy from a replica, so the embedding model never loads in the API.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import numpy as np

from agents.ingest.models import IngestInput, IngestResult, KnownDoc, RawItem
from storage.errors import Invalid, NotFound
from storage.objects import EventLog, EventType, OpportunityBatch, OpportunityCard
from storage.objects.base import utcnow
from storage.postgres import Database
from storage.postgres import repositories as repo
from storage.postgres import sources as store

from .batches import date_scope, merge_batch
from .models import BrandProfile, ExistingCard, PersonaProfile, PillarProfile, ScoutDoc, ScoutInput, ScoutResult

LOOKBACK = timedelta(days=30)
"""How far back documents are read: for deduplication and for scouting."""
EMBEDDING_MODEL = "all-MiniLM-L6-v2"
MEMORY_TEXTS = 200


@dataclass(frozen=True)
class IngestReport:
    stored: list[UUID]
    merged: list[dict[str, Any]]
    rejected: list[dict[str, Any]]


@dataclass(frozen=True)
class ScoutReport:
    docs: int
    cards: list[OpportunityCard]
    created: int
    updated: int
    batch: OpportunityBatch
    outcomes: dict[str, int]


async def ingest(db: Database, engine: Any, items: list[RawItem], *, org_id: UUID | None,
                 now: datetime | None = None) -> IngestReport:  # fmt: skip
    """Clean, tag, deduplicate and embed ``items`` against the documents ``org_id`` may read;
    the new ones are stored with their passages in one transaction."""
    now = now or utcnow()
    async with db.connection() as conn:
        payload = await ingest_input(conn, items, org_id=org_id, now=now)
    result = await engine.ingest(payload)
    async with db.transaction() as conn:
        return await store_ingested(conn, result)


async def ingest_input(conn: Any, items: list[RawItem], *, org_id: UUID | None, now: datetime) -> IngestInput:
    """The engine's input: ``items`` owned by ``org_id`` (None: public), with the documents of the
    last :data:`LOOKBACK` the org may read, for deduplication."""
    known = await store.recent_documents(conn, org_id=org_id, since=now - LOOKBACK)
    return IngestInput(
        items=[i.model_copy(update={"org_id": org_id}) for i in items], now=now,
        known=[KnownDoc(id=k.doc.id, source_url=k.doc.source_url, text=k.doc.text, vector=_mean(k.vectors))
               for k in known],
    )  # fmt: skip


async def store_ingested(conn: Any, result: IngestResult) -> IngestReport:
    """Store the engine's new documents with their passages on the caller's connection (a
    document already stored by a concurrent ingest is skipped, not duplicated)."""
    stored: list[UUID] = []
    for prepared in result.docs:
        if await store.save_document(conn, prepared.doc, prepared.passages, prepared.passage_vectors,
                                     EMBEDDING_MODEL):  # fmt: skip
            stored.append(prepared.doc.id)
    return IngestReport(stored=stored, merged=[m.model_dump(mode="json") for m in result.merged],
                        rejected=[r.model_dump(mode="json") for r in result.rejected])  # fmt: skip


@dataclass(frozen=True)
class ScoutState:
    """What scouting a brand reads before the engine runs: its profile, the documents it may
    read, its cards and their story vectors."""

    profile: BrandProfile
    org_id: UUID
    weights: dict[str, float]
    docs: list[store.StoredDoc]
    cards: list[OpportunityCard]
    story_vectors: dict[UUID, list[float]]

    def scout_input(self, now: datetime, docs: list[store.StoredDoc] | None = None) -> ScoutInput:
        """The engine's input for ``docs`` (default all the documents read)."""
        chosen = self.docs if docs is None else docs
        return ScoutInput(
            brand=self.profile, weights=self.weights, now=now, docs=[scout_doc(d) for d in chosen],
            existing=[ExistingCard(card=c, vector=self.story_vectors[c.id]) for c in self.cards
                      if c.id in self.story_vectors],
        )  # fmt: skip


def scout_doc(stored: store.StoredDoc) -> ScoutDoc:
    d = stored.doc
    return ScoutDoc(id=d.id, title=d.title, text=d.text, source_url=d.source_url, language=d.language,
                    published_at=d.published_at, ingested_at=d.ingested_at, passages=stored.passages,
                    passage_vectors=stored.vectors, vector=_mean(stored.vectors))  # fmt: skip


async def read_scout_state(conn: Any, brand_id: UUID, *, since: datetime, limit: int = 5000) -> ScoutState:
    """The brand's profile, the documents it may read ingested since ``since`` (newest first, at
    most ``limit``) and its cards, read on the caller's connection."""
    profile, org_id, weights = await _profile(conn, brand_id)
    docs = await store.recent_documents(conn, org_id=org_id, since=since, limit=limit)
    cards = await store.brand_cards(conn, brand_id, limit=20_000)
    return ScoutState(profile, org_id, weights, docs, cards, await _story_vectors(conn, cards))


async def save_scout(conn: Any, state: ScoutState, result: ScoutResult, *, docs: int, now: datetime,
                     run_id: UUID | None = None, meta: dict[str, Any] | None = None) -> ScoutReport:  # fmt: skip
    """Write the engine's cards, the day's batch and the EventLog line on the caller's
    connection (one transaction: never a card without its batch); ``meta`` joins the line's."""
    brand_id = state.profile.brand_id
    known = {c.id for c in state.cards}
    outcomes: dict[str, int] = {}
    for score in result.scores:
        outcomes[score.outcome] = outcomes.get(score.outcome, 0) + 1
    scope = date_scope(now)
    await store.save_cards(conn, result.cards)
    batch = await store.save_batch(conn, merge_batch(brand_id, scope, await store.batch_for(conn, brand_id, scope),
                                                     result.cards, now))  # fmt: skip
    created = sum(c.id not in known for c in result.cards)
    updated = len(result.cards) - created
    await repo.event_log.insert(conn, EventLog(
        org_id=state.org_id, brand_id=brand_id, run_id=run_id, event_type=EventType.OPPORTUNITY_CREATED,
        subject_type="opportunity_batch", subject_id=str(batch.id),
        message=f"scouted {docs} documents: {created} new cards, {updated} updated",
        meta={"docs": docs, "outcomes": outcomes, "date": scope, "created": created, "updated": updated,
              "planned_until": now.isoformat(), **(meta or {})},
    ))  # fmt: skip
    return ScoutReport(docs=docs, cards=result.cards, created=created, updated=updated, batch=batch,
                       outcomes=outcomes)  # fmt: skip


async def scout_brand(db: Database, engine: Any, brand_id: UUID, *, now: datetime | None = None) -> ScoutReport:
    """Score the documents the brand may read into its cards, and update the day's batch;
    scouting again the same day updates the batch and never duplicates a card."""
    now = now or utcnow()
    async with db.connection() as conn:
        state = await read_scout_state(conn, brand_id, since=now - LOOKBACK)
    result = await engine.scout(state.scout_input(now))
    async with db.transaction() as conn:
        return await save_scout(conn, state, result, docs=len(state.docs), now=now)


async def brand_profile(conn: Any, brand_id: UUID) -> BrandProfile:
    """The brand as the scout scores documents for it (pillars, personas, memory, competitors)."""
    return (await _profile(conn, brand_id))[0]


async def _profile(conn: Any, brand_id: UUID) -> tuple[BrandProfile, UUID, dict[str, float]]:
    brand = await repo.brands.find(conn, brand_id)
    snapshot = await repo.snapshots.latest(conn, brand_id)
    if brand is None or snapshot is None:
        raise NotFound(f"Brand {brand_id} not found", details={"brand_id": str(brand_id)})
    pillars = await repo.pillars.list(conn, "brand_id = $1 AND status = 'active'", brand_id, order_by="priority DESC, id")
    personas = await repo.personas.list(conn, "brand_id = $1 AND status = 'active'", brand_id, order_by="created_at, id")
    memory = await repo.memory_fragments.list(conn, "brand_id = $1", brand_id, order_by="created_at DESC, id",
                                              limit=MEMORY_TEXTS)  # fmt: skip
    for what, found in (("pillars", pillars), ("personas", personas)):
        if not found:
            raise Invalid(f"the brand has no active {what[:-1]}", details={"field": what})
    preferences = await repo.brand_preferences.list(conn, "brand_id = $1", brand_id, limit=1)
    weights = dict(preferences[0].opportunity_scoring_weights) if preferences else {}
    profile = BrandProfile(
        brand_id=brand_id, name=brand.name, positioning=snapshot.positioning, offers=snapshot.offers,
        pillars=[PillarProfile(id=p.id, name=p.name, description=p.description, priority=p.priority) for p in pillars],
        personas=[PersonaProfile(id=p.id, name=p.name, description=p.description, pain_points=p.pain_points,
                                 goals=p.goals) for p in personas],
        memory=[f.raw_text[:500] for f in memory], competitors=snapshot.competitors,
    )  # fmt: skip
    return profile, brand.org_id, {str(k): float(v) for k, v in weights.items()}


async def _story_vectors(conn: Any, cards: list[OpportunityCard]) -> dict[UUID, list[float]]:
    """Each card's story vector: the mean vector of the first document it cites."""
    first = {c.id: ref.global_source_doc_id for c in cards
             for ref in c.source_refs[:1] if ref.global_source_doc_id is not None}  # fmt: skip
    if not first:
        return {}
    rows = await conn.fetch("SELECT doc_id, vector FROM source_doc_passages WHERE doc_id = ANY($1::uuid[])",
                            list(set(first.values())))  # fmt: skip
    by_doc: dict[UUID, list[list[float]]] = {}
    for row in rows:
        by_doc.setdefault(row["doc_id"], []).append(list(row["vector"]))
    return {card_id: _mean(by_doc[doc_id]) for card_id, doc_id in first.items() if doc_id in by_doc}


def _mean(vectors: list[list[float]]) -> list[float]:
    mean = np.asarray(vectors, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return (mean / norm if norm else mean).tolist()


__all__ = ["IngestReport", "ScoutReport", "ScoutState", "brand_profile", "ingest", "ingest_input", "read_scout_state", "save_scout", "scout_brand",
           "scout_doc", "store_ingested"]
