"""Calibration persisted: snapshot, runtime context, memory (PostgreSQL + Chroma) and the
event together, or nothing at all."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from agents.brand_brain.calibration_store import calibrate_brand, calibration_history, store_calibration
from agents.calibration import Calibrator, parse_examples
from agents.calibration.models import CalibrationInput
from storage.errors import Conflict, Invalid
from storage.memory import VectorIndex
from storage.memory.store import MemoryStore
from storage.objects import MemorySourceType
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration

DATA = Path(__file__).parents[1] / "data" / "calibration"


def examples(name: str):
    return parse_examples((DATA / f"{name}_examples.json").read_bytes(), "json").examples


@pytest.fixture(scope="module")
def calibrator() -> Calibrator:
    return Calibrator()


@pytest.fixture
async def store(db, minilm, tmp_path):
    index = await VectorIndex.open(path=tmp_path / "chroma", embedder=minilm)
    yield MemoryStore(db, index, minilm)
    await index.close()


class RemoteMemory:
    """A memory client in another process: only ``add``, which commits on its own."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def add(self, drafts):
        return await self.store.add(drafts)


async def state(db, store, brand_id):
    async with db.connection() as conn:
        return {
            "snapshot": (await repo.snapshots.latest(conn, brand_id)).version,
            "context": (await repo.runtime_contexts.for_brand(conn, brand_id)).version,
            "fragments": await conn.fetchval("SELECT count(*) FROM memory_fragments WHERE brand_id = $1", brand_id),
            "calibrations": await conn.fetchval(
                "SELECT count(*) FROM event_log WHERE brand_id = $1 AND subject_type = 'calibration'", brand_id),
            "vectors": await store.index.count(brand_id),
        }  # fmt: skip


async def test_a_calibration_writes_snapshot_context_memory_and_event(db, seeded, store, calibrator):
    brand = seeded.brand
    before = await state(db, store, brand.id)
    stored = await calibrate_brand(db, store, calibrator, brand.id, examples("ledgerline"), user_id=seeded.user.id)
    after = await state(db, store, brand.id)
    drafts = len(stored.result.memory_drafts)
    assert after == {
        "snapshot": before["snapshot"] + 1, "context": before["context"] + 1,
        "fragments": before["fragments"] + drafts, "calibrations": 1, "vectors": before["vectors"] + drafts,
    }  # fmt: skip
    async with db.connection() as conn:
        latest = await repo.snapshots.latest(conn, brand.id)
        context = await repo.runtime_contexts.for_brand(conn, brand.id)
        [line] = await repo.event_log.list(conn, "brand_id = $1 AND subject_type = 'calibration'", brand.id)
    assert latest == stored.snapshot and "data-driven" in latest.tone_descriptors
    assert {m.phrase for m in latest.voice_markers} >= {"Signal over noise", "Median time-to-insight"}
    assert context.brand_brain_snapshot_id == latest.id
    assert all(o.tone_bias["story_vs_tactical"] == stored.result.tone.knobs["story_vs_tactical"]
               for o in context.channel_overrides.values())  # fmt: skip
    assert line.user_id == seeded.user.id and line.meta["snapshot_version"] == latest.version
    hits = await store.search(brand.id, "how many dashboards nobody opened in 30 days", k=3)
    assert hits[0].fragment.source_type is MemorySourceType.IMPORTED_EXAMPLE
    assert "dashboards" in hits[0].fragment.raw_text


async def test_history_lists_calibrations_newest_first_with_before_and_after(db, seeded, store, calibrator):
    brand = seeded.brand
    first = await calibrate_brand(db, store, calibrator, brand.id, examples("ledgerline"))
    second = await calibrate_brand(db, store, calibrator, brand.id, examples("maple_moss"), trigger="drift_alert")
    history = await calibration_history(db, brand.id)
    assert [h.id for h in history] == [second.calibration.id, first.calibration.id]
    assert history[0].trigger_type == "drift_alert"
    assert history[0].before.voice_markers == history[1].after.voice_markers
    assert history[0].before.tone_descriptors == first.snapshot.tone_descriptors
    assert history[0].after.tone_descriptors == second.snapshot.tone_descriptors
    assert "warm" in history[0].after.tone_descriptors and "data-driven" in history[1].after.tone_descriptors


async def test_a_stale_result_writes_nothing(db, seeded, store, calibrator):
    brand = seeded.brand
    async with db.connection() as conn:
        snapshot = await repo.snapshots.latest(conn, brand.id)
        context = await repo.runtime_contexts.for_brand(conn, brand.id)
    result = calibrator.run(CalibrationInput(snapshot=snapshot, runtime_context=context, examples=examples("maple_moss")))
    await calibrate_brand(db, store, calibrator, brand.id, examples("ledgerline"))  # lands first
    before = await state(db, store, brand.id)
    for memory in (store, RemoteMemory(store)):
        with pytest.raises(Conflict):
            await store_calibration(db, memory, result, org_id=brand.org_id)
        assert await state(db, store, brand.id) == before


async def test_a_failure_inside_the_transaction_leaves_nothing_behind(db, seeded, store, calibrator):
    """A memory row that breaks a foreign key fails after snapshot, context and event were
    written in the same transaction, and after the vectors went to Chroma: all of it goes."""
    brand = seeded.brand
    async with db.connection() as conn:
        snapshot = await repo.snapshots.latest(conn, brand.id)
        context = await repo.runtime_contexts.for_brand(conn, brand.id)
    result = calibrator.run(CalibrationInput(snapshot=snapshot, runtime_context=context, examples=examples("ledgerline")))
    broken = [*result.memory_drafts[:-1], result.memory_drafts[-1].model_copy(update={"pillar_id": uuid4()})]
    before = await state(db, store, brand.id)
    with pytest.raises(Invalid):
        await store_calibration(db, store, result.model_copy(update={"memory_drafts": broken}), org_id=brand.org_id)
    assert await state(db, store, brand.id) == before


async def test_with_memory_in_another_process_a_failed_write_removes_the_fragments(db, seeded, store, calibrator):
    """The remote add commits on its own; when the brain write then fails (the runtime context
    moved on meanwhile), the fragment rows are deleted again and no snapshot or event stays."""
    brand = seeded.brand
    async with db.connection() as conn:
        snapshot = await repo.snapshots.latest(conn, brand.id)
        context = await repo.runtime_contexts.for_brand(conn, brand.id)
    result = calibrator.run(CalibrationInput(snapshot=snapshot, runtime_context=context, examples=examples("ledgerline")))
    async with db.transaction() as conn:  # a manual toggle lands in between
        await repo.runtime_contexts.save(conn, context, expected_version=context.version)
    before = await state(db, store, brand.id)
    with pytest.raises(Conflict):
        await store_calibration(db, RemoteMemory(store), result, org_id=brand.org_id)
    after = await state(db, store, brand.id)
    assert {k: after[k] for k in ("snapshot", "context", "fragments", "calibrations")} == {
        k: before[k] for k in ("snapshot", "context", "fragments", "calibrations")
    }
    assert await store.search(brand.id, "dashboards nobody opened", k=5) == []  # orphan vectors never served


async def test_the_remote_path_stores_everything_when_nothing_fails(db, seeded, store, calibrator):
    brand = seeded.brand
    stored = await calibrate_brand(db, RemoteMemory(store), calibrator, brand.id, examples("maple_moss"))
    after = await state(db, store, brand.id)
    assert after["calibrations"] == 1 and after["fragments"] >= len(stored.fragments) == len(stored.result.memory_drafts)
    assert (await calibration_history(db, brand.id))[0].id == stored.calibration.id
