"""``kairo calibrate BRAND FILE`` against real PostgreSQL and Chroma (the cluster's database
and memory service replaced by the same objects in this process)."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.calibration import parse_examples
from runtime import memory_service
from runtime.cli import brands, common
from runtime.local import LocalMemory
from runtime.settings import Settings
from storage.memory import VectorIndex
from storage.memory.store import MemoryStore
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration

DATA = Path(__file__).parents[1] / "data" / "calibration"


class _Handle:
    def __init__(self, db) -> None:
        self.db = db

    async def close(self) -> None:  # the test's fixture owns the pool
        return None


@pytest.fixture
async def cluster_parts(db, minilm, tmp_path, monkeypatch):
    index = await VectorIndex.open(path=tmp_path / "chroma", embedder=minilm)
    memory = LocalMemory(MemoryStore(db, index, minilm))

    async def brand_database(settings):
        return settings, _Handle(db)

    monkeypatch.setattr(common, "brand_database", brand_database)
    monkeypatch.setattr(memory_service, "get_memory_client", lambda settings: memory)
    yield
    await index.close()


async def test_calibrate_by_slug_from_a_csv(db, seeded, cluster_parts, capsys):
    parsed = parse_examples((DATA / "maple_moss_examples.csv").read_bytes(), "csv")
    assert await brands.calibrate_brand(Settings(), seeded.brand.slug, parsed) == 0
    out = capsys.readouterr().out
    assert "Happy growing" in out and "warm" in out and "28 imported_example fragments" in out
    async with db.connection() as conn:
        latest = await repo.snapshots.latest(conn, seeded.brand.id)
    assert "warm" in latest.tone_descriptors


async def test_an_unknown_brand_is_an_error(db, seeded, cluster_parts, capsys):
    parsed = parse_examples((DATA / "maple_moss_examples.csv").read_bytes(), "csv")
    assert await brands.calibrate_brand(Settings(), "no-such-brand", parsed) == 1
    assert "no brand 'no-such-brand'" in capsys.readouterr().out
