"""Group commit of successes (agents/publisher/settling.py) against a stand-in for the one
statement: who is grouped with whom, and who learns which failure."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from uuid import uuid4

import pytest

from agents.publisher import settling
from storage.errors import Conflict


class Statement:
    """Stands in for ``store.settle_successes``: records each call's group; refuses a group
    holding a success marked ``bad`` (as a constraint refuses the whole statement), or fails
    every call while the database is ``down``."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.down = False
        self.gate: asyncio.Event | None = None

    async def __call__(self, db, owner, successes):
        self.calls.append([s.name for s in successes])
        if self.gate is not None:
            await self.gate.wait()
        if self.down:
            raise ConnectionResetError("the database went away")
        if any(s.name.startswith("bad") for s in successes):
            raise Conflict("one success per variant", details={"constraint": "publishing_jobs_one_success_per_variant"})
        return [(True, True) for _ in successes]


@pytest.fixture
def statement(monkeypatch) -> Statement:
    stand_in = Statement()
    monkeypatch.setattr(settling.store, "settle_successes", stand_in)
    return stand_in


def success(name: str):
    return SimpleNamespace(name=name, id=uuid4())


async def test_successes_that_finish_together_share_one_statement(statement):
    group = settling.SuccessGroup(db=None, owner="p")
    results = await asyncio.gather(*(group.settle(success(f"s{i}")) for i in range(5)))
    assert results == [(True, True)] * 5
    assert statement.calls == [["s0", "s1", "s2", "s3", "s4"]] and group.statements == 1


async def test_successes_arriving_during_a_write_go_together_in_the_next(statement):
    statement.gate = asyncio.Event()
    group = settling.SuccessGroup(db=None, owner="p")
    first = asyncio.ensure_future(group.settle(success("a")))
    await asyncio.sleep(0)  # the first write is under way (waiting on the gate)
    later = [asyncio.ensure_future(group.settle(success(n))) for n in ("b", "c")]
    await asyncio.sleep(0)
    statement.gate.set()
    assert await asyncio.gather(first, *later) == [(True, True)] * 3
    assert statement.calls == [["a"], ["b", "c"]]


async def test_a_refused_row_is_retried_alone_and_only_its_caller_fails(statement):
    group = settling.SuccessGroup(db=None, owner="p")
    results = await asyncio.gather(*(group.settle(success(n)) for n in ("ok1", "bad", "ok2")), return_exceptions=True)
    assert results[0] == results[2] == (True, True) and isinstance(results[1], Conflict)
    assert statement.calls == [["ok1", "bad", "ok2"], ["ok1"], ["bad"], ["ok2"]]


async def test_a_database_outage_fails_every_caller_without_retrying_each(statement):
    statement.down = True
    group = settling.SuccessGroup(db=None, owner="p")
    results = await asyncio.gather(*(group.settle(success(n)) for n in ("a", "b", "c")), return_exceptions=True)
    assert all(isinstance(r, ConnectionResetError) for r in results)
    assert statement.calls == [["a", "b", "c"]]


async def test_a_cancelled_caller_leaves_the_write_to_finish_for_the_others(statement):
    statement.gate = asyncio.Event()
    group = settling.SuccessGroup(db=None, owner="p")
    stopping = asyncio.ensure_future(group.settle(success("stopping")))
    staying = asyncio.ensure_future(group.settle(success("staying")))
    await asyncio.sleep(0)
    stopping.cancel()  # its publisher is stopping mid-write
    await asyncio.sleep(0)
    statement.gate.set()
    assert await staying == (True, True)
    assert stopping.cancelled() and statement.calls == [["stopping", "staying"]]
