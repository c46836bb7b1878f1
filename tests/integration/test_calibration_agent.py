"""The brand agent's ``Calibrate`` command against real PostgreSQL and Chroma, without Ray: the
engine runs behind the agent's engine caller, the agent writes snapshot n+1 with its own
versions, the caller remembers the examples, and a refused write leaves nothing behind."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.calibration import parse_examples
from runtime import agent_calibration
from runtime.brand_agent import BrandAgent
from runtime.commands import Calibrate
from runtime.local import LocalEngines, LocalMemory
from storage.errors import Conflict
from storage.memory import VectorIndex
from storage.memory.store import MemoryStore
from storage.objects import BannedSeverity, BannedWord
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration

DATA = Path(__file__).parents[1] / "data" / "calibration"


class CountingEngines(LocalEngines):
    """The in-process engines, counting which operations the agent asked for."""

    def __init__(self, embedder) -> None:
        super().__init__(embedder)
        self.ops: list[tuple[str, str]] = []

    async def call(self, kind, op, payload):
        self.ops.append((kind, op))
        return await super().call(kind, op, payload)


@pytest.fixture
async def agent(db, seeded, minilm, tmp_path):
    index = await VectorIndex.open(path=tmp_path / "chroma", embedder=minilm)
    agent = BrandAgent(seeded.brand.id, db, CountingEngines(minilm), "test-host")
    await agent.load()
    agent.test_memory = LocalMemory(MemoryStore(db, index, minilm))  # the caller's memory client
    yield agent
    await index.close()


async def _fragments(db, brand_id) -> int:
    async with db.connection() as conn:
        return await conn.fetchval(
            "SELECT count(*) FROM memory_fragments WHERE brand_id = $1 AND source_type = 'imported_example'", brand_id
        )


async def test_calibrate_runs_in_the_pool_and_writes_with_the_agents_versions(db, agent):
    parsed = parse_examples((DATA / "maple_moss_examples.csv").read_bytes(), "csv")
    before = agent.snapshot.version
    done = await agent.handle(Calibrate(examples=parsed.examples,
                                        banned_words=[BannedWord(word="cheap", severity=BannedSeverity.SOFT)]))  # fmt: skip
    assert agent.engines.ops == [("scout", "calibrate")]
    assert done.snapshot.version == before + 1 and agent.snapshot == done.snapshot  # the agent's cache follows
    assert done.runtime_context.brand_brain_snapshot_id == done.snapshot.id and agent.context == done.runtime_context
    assert "warm" in done.snapshot.tone_descriptors
    assert "cheap" in {w.word for w in done.snapshot.banned_words}
    assert await _fragments(db, agent.brand_id) == 0  # memory is the caller's to write
    remembered = await agent_calibration.remember(agent.test_memory, done)
    assert remembered == len(done.memory_drafts) == await _fragments(db, agent.brand_id) > 0
    async with db.connection() as conn:
        latest = await repo.snapshots.latest(conn, agent.brand_id)
        lines = await repo.event_log.list(conn, "brand_id = $1 AND subject_type = 'calibration'", agent.brand_id)
    assert latest.id == done.snapshot.id
    assert [line.meta["calibration"]["id"] for line in lines] == [str(done.calibration.id)]
    assert done.calibration.before.snapshot_version == before

    stale = Calibrate(examples=parsed.examples, expected_version=before)
    with pytest.raises(Conflict):
        await agent.handle(stale)
    assert agent.engines.ops == [("scout", "calibrate")]  # refused before any work


async def test_a_write_that_fails_leaves_no_snapshot(db, agent, monkeypatch):
    parsed = parse_examples((DATA / "ledgerline_examples.csv").read_bytes(), "csv")
    before = agent.snapshot.version

    async def refused(*_args, **_kwargs):
        raise Conflict("the snapshot changed meanwhile", details={"field": "expected_version"})

    monkeypatch.setattr(agent_calibration, "write_brain", refused)
    with pytest.raises(Conflict):
        await agent.handle(Calibrate(examples=parsed.examples))
    assert await _fragments(db, agent.brand_id) == 0
    async with db.connection() as conn:
        assert (await repo.snapshots.latest(conn, agent.brand_id)).version == before
