"""Persisting a calibration: the next snapshot, the re-pointed runtime context, the examples'
memory fragments and the event with before/after values, all or nothing.

With the brand memory store in this process (:class:`storage.memory.store.MemoryStore`) the
whole write is one PostgreSQL transaction: the examples are embedded first (no connection held
during CPU work), then snapshot, runtime context, event line, fragment rows and vectors are
written in the same transaction. Only a commit that fails after the vectors were written
leaves vectors behind, and those are deleted again at once (``MemoryStore.search`` never
returns a vector without a row in any case).

With memory behind another process (``runtime.gateway.MemoryClient``: its ``add`` commits on
its own), the fragments are added first as one batch, then snapshot, context and event in one
transaction; if that transaction fails, the fragment rows are deleted again, so nothing of the
calibration stays visible (a vector without its row is never served, and ``reconcile``
removes it).

The event is an EventLog line of type ``snapshot_created`` with ``subject_type =
'calibration'``; its ``meta["calibration"]`` is the :class:`CalibrationEvent` (seed 004's
``calibration_events``), which :func:`calibration_history` reads back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any, Protocol
from uuid import UUID

import asyncpg
import structlog
from pydantic import BaseModel

from agents.calibration import Calibrator
from agents.calibration.models import CalibrationEvent, CalibrationInput, CalibrationResult, CalibrationTrigger, Example
from storage.errors import Conflict, expect_version
from storage.memory.store import MemoryDraft, MemoryStore
from storage.objects import (
    BannedWord,
    BrandBrainSnapshot,
    BrandMemoryFragment,
    BrandRuntimeContext,
    EventLog,
    EventType,
)
from storage.postgres import Database
from storage.postgres import repositories as repo

log = structlog.get_logger(__name__)

SUBJECT = "calibration"


class MemoryWriter(Protocol):
    """What calibration needs from memory: one batch add (``MemoryStore`` or a client of it)."""

    async def add(self, drafts: list[MemoryDraft]) -> list[BrandMemoryFragment]: ...


class StoredCalibration(BaseModel):
    snapshot: BrandBrainSnapshot
    runtime_context: BrandRuntimeContext
    fragments: list[BrandMemoryFragment]
    event: EventLog
    calibration: CalibrationEvent
    result: CalibrationResult


async def calibrate_brand(
    db: Database,
    memory: MemoryWriter,
    calibrator: Calibrator,
    brand_id: UUID,
    examples: Sequence[Example],
    *,
    banned_words: Sequence[BannedWord] = (),
    trigger: CalibrationTrigger = "manual",
    user_id: UUID | None = None,
) -> StoredCalibration:
    """Calibrate a brand from examples and store the outcome: what the API and the CLI call."""
    async with db.connection() as conn:
        brand = await repo.brands.get(conn, brand_id)
        snapshot = await repo.snapshots.latest(conn, brand_id)
        context = await repo.runtime_contexts.for_brand(conn, brand_id)
    if snapshot is None or context is None:
        raise Conflict("the brand has not finished onboarding", details={"brand_id": str(brand_id)})
    result = await calibrator.calibrate(CalibrationInput(
        snapshot=snapshot, runtime_context=context, examples=list(examples),
        banned_words=list(banned_words), trigger=trigger,
    ))  # fmt: skip
    return await store_calibration(db, memory, result, org_id=brand.org_id, user_id=user_id)


async def store_calibration(
    db: Database, memory: MemoryWriter, result: CalibrationResult, *, org_id: UUID | None, user_id: UUID | None = None
) -> StoredCalibration:
    """Write a calibration result; a snapshot or context written by someone else since the
    result was computed is a Conflict, and then nothing is written."""
    if result.runtime_context is None:
        raise ValueError("a calibration result to store needs the runtime context it re-points")
    if isinstance(memory, MemoryStore):
        return await _store_in_one_transaction(db, memory, result, org_id, user_id)
    return await _store_then_compensate(db, memory, result, org_id, user_id)


async def write_brain(
    conn: asyncpg.Connection, result: CalibrationResult, org_id: UUID | None, user_id: UUID | None, fragment_count: int
) -> tuple[BrandBrainSnapshot, BrandRuntimeContext, EventLog]:
    """Snapshot n+1, the re-pointed runtime context and the calibration's EventLog line on the
    caller's connection (a brand agent's fenced transaction, or this module's own)."""
    assert result.runtime_context is not None
    snapshot = await repo.snapshots.create_next(conn, result.snapshot, expected_version=result.snapshot.version - 1)
    context = await repo.runtime_contexts.save(
        conn, result.runtime_context.model_copy(update={"brand_brain_snapshot_id": snapshot.id}),
        expected_version=result.runtime_context.version,
    )  # fmt: skip
    calibration = result.event
    event = EventLog(
        org_id=org_id, brand_id=snapshot.brand_id, user_id=user_id, event_type=EventType.SNAPSHOT_CREATED,
        subject_type=SUBJECT, subject_id=str(calibration.id),
        message=f"calibrated from {calibration.example_count} examples: snapshot v{snapshot.version}",
        meta={"snapshot_id": str(snapshot.id), "snapshot_version": snapshot.version,
              "runtime_context_version": context.version, "memory_fragments": fragment_count,
              "calibration": calibration.model_dump(mode="json")},
    )  # fmt: skip
    await repo.event_log.insert(conn, event)
    return snapshot, context, event


async def _store_in_one_transaction(
    db: Database, store: MemoryStore, result: CalibrationResult, org_id: UUID | None, user_id: UUID | None
) -> StoredCalibration:
    drafts = list(result.memory_drafts)
    vectors = await store.embedder.aembed([d.raw_text for d in drafts]) if drafts else []
    brand_id = result.snapshot.brand_id
    fragments: list[BrandMemoryFragment] = []
    try:
        async with db.transaction() as conn:
            snapshot, context, event = await write_brain(conn, result, org_id, user_id, len(drafts))
            joined = MemoryStore(_InTransaction(conn), store.index, _Precomputed(store.embedder, vectors))  # type: ignore[arg-type]
            fragments = await joined.add(drafts)
    except BaseException:
        if fragments:  # written to the index, then the commit failed
            with suppress(Exception):
                await asyncio.shield(store.index.delete(brand_id, [f.id for f in fragments]))
        raise
    log.info("calibration.stored", brand_id=str(brand_id), snapshot_version=snapshot.version, fragments=len(fragments))
    return StoredCalibration(snapshot=snapshot, runtime_context=context, fragments=fragments, event=event,
                             calibration=result.event, result=result)  # fmt: skip


async def _store_then_compensate(
    db: Database, memory: MemoryWriter, result: CalibrationResult, org_id: UUID | None, user_id: UUID | None
) -> StoredCalibration:
    brand_id = result.snapshot.brand_id
    async with db.connection() as conn:  # fail early, before anything is written
        latest = await repo.snapshots.latest(conn, brand_id)
    expect_version("snapshot", result.snapshot.version - 1, latest.version if latest else 0)
    fragments = await memory.add(list(result.memory_drafts)) if result.memory_drafts else []
    try:
        async with db.transaction() as conn:
            snapshot, context, event = await write_brain(conn, result, org_id, user_id, len(fragments))
    except BaseException:
        ids = [f.id for f in fragments]
        with suppress(Exception):
            await asyncio.shield(delete_fragment_rows(db, brand_id, ids))
        raise
    log.info("calibration.stored", brand_id=str(brand_id), snapshot_version=snapshot.version, fragments=len(fragments))
    return StoredCalibration(snapshot=snapshot, runtime_context=context, fragments=fragments, event=event,
                             calibration=result.event, result=result)  # fmt: skip


async def delete_fragment_rows(db: Database, brand_id: UUID, ids: list[UUID]) -> None:
    """Undo a memory batch whose calibration was not written (its vectors are never served
    without their rows, and ``reconcile`` removes them)."""
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM memory_fragments WHERE brand_id = $1 AND id = ANY($2::uuid[])", brand_id, ids)


async def calibration_history(db: Database, brand_id: UUID, *, limit: int = 50) -> list[CalibrationEvent]:
    """The brand's calibrations, newest first, with their before/after values."""
    async with db.connection() as conn:
        lines = await repo.event_log.list(
            conn, "brand_id = $1 AND subject_type = $2", brand_id, SUBJECT, order_by="created_at DESC, id", limit=limit
        )
    return [CalibrationEvent.model_validate(line.meta["calibration"]) for line in lines]


class _InTransaction:
    """The one part of :class:`Database` that ``MemoryStore.add`` uses, bound to the caller's
    open transaction, so the memory rows commit (or roll back) with the snapshot."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self._conn = conn

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        yield self._conn


class _Precomputed:
    """A :class:`~storage.memory.embeddings.TextEmbedder` that hands back vectors computed
    before the transaction opened (same model name and dimension as the real one)."""

    def __init__(self, embedder: Any, vectors: list[list[float]]) -> None:
        self._embedder = embedder
        self._vectors = vectors

    @property
    def model_name(self) -> str:
        return self._embedder.model_name

    @property
    def dim(self) -> int:
        return self._embedder.dim

    def embed(self, texts: list[str]) -> list[list[float]]:
        if len(texts) != len(self._vectors):
            raise ValueError("precomputed vectors do not match the texts")
        return self._vectors

    async def aembed(self, texts: list[str]) -> list[list[float]]:
        return self.embed(texts)
