"""EngineRouter without Ray: a call whose pool member is lost (dead for good, pinned to a node
that is gone, restarting after its node died) looks the pool up again and is retried once on
the next member; engine errors pass through; a pool of one waits for its member's restart."""

from __future__ import annotations

import pytest
from ray.exceptions import (
    ActorDiedError,
    ActorUnavailableError,
    ActorUnschedulableError,
)

from agents.engines import SegmentInput
from runtime import engines
from runtime.engines import EngineRouter
from runtime.settings import Settings
from storage.errors import Invalid

pytestmark = pytest.mark.unit


class FakeMember:
    """A pool member's handle: ``call.remote`` answers with its name, or raises what the test
    queued for it (one exception per call, then answers)."""

    def __init__(self, name: str, failures: list[BaseException]) -> None:
        self.name = name
        self.failures = failures
        self.calls = 0
        self.call = self

    def remote(self, op, payload):
        self.calls += 1

        async def answer():
            if self.failures:
                raise self.failures.pop(0)
            return f"{self.name}:{op}"

        return answer()


@pytest.fixture
def pool(monkeypatch):
    """Members by name; every resolution (first or re-resolution) is recorded in order."""
    failures: dict[str, list[BaseException]] = {}
    resolved: list[str] = []
    members: dict[str, FakeMember] = {}

    def create(kind, index, settings):
        name = f"{kind}-{index}"
        resolved.append(name)
        members[name] = FakeMember(name, failures.setdefault(name, []))
        return members[name]

    monkeypatch.setattr(engines, "_create", create)
    return failures, resolved, members


def router(**pools) -> EngineRouter:
    return EngineRouter(Settings(**pools), backoff_seconds=0.0)


def unavailable() -> ActorUnavailableError:
    return ActorUnavailableError("the actor's node died; it is restarting", None)


@pytest.mark.parametrize("lost", [ActorDiedError(), ActorUnschedulableError("its node is gone"), unavailable()],
                         ids=["died", "unschedulable", "node_died_restarting"])
async def test_a_call_on_a_lost_member_is_retried_once_on_the_next_member(pool, lost):
    failures, resolved, _members = pool
    r = router(miner_pool=3)
    failures["miner-0"] = [lost]
    answer = await r.call("miner", "segment", SegmentInput(text="A post."))
    assert answer == "miner-1:segment"  # the next member answered
    assert resolved == ["miner-0", "miner-1"] and r.stats["re_resolved"] == 1
    # The lost member's handle is forgotten: the round-robin's next turn on it resolves it again.
    await r.call("miner", "segment", SegmentInput(text="B."))  # miner-1 (cached)
    await r.call("miner", "segment", SegmentInput(text="C."))  # miner-2
    assert await r.call("miner", "segment", SegmentInput(text="D.")) == "miner-0:segment"
    assert resolved == ["miner-0", "miner-1", "miner-2", "miner-0"]


async def test_the_retry_happens_once_a_second_dead_member_fails_the_call(pool):
    failures, _resolved, members = pool
    r = router(miner_pool=2)
    failures["miner-0"] = [ActorDiedError()]
    failures["miner-1"] = [ActorDiedError()]
    with pytest.raises(ActorDiedError):
        await r.call("miner", "segment", SegmentInput(text="A post."))
    assert members["miner-0"].calls == 1 and members["miner-1"].calls == 1


async def test_a_pool_of_one_re_resolves_its_member_and_waits_for_its_restart(pool):
    failures, resolved, _members = pool
    r = router(writer_pool=1)
    failures["writer-0"] = [ActorDiedError()]  # the first handle is dead
    answer_after_restart = await r.call("writer", "check_length", SegmentInput(text="x"))
    assert answer_after_restart == "writer-0:check_length" and resolved == ["writer-0", "writer-0"]
    failures["writer-0"] += [unavailable(), unavailable(), unavailable()]
    assert await r.call("writer", "check_length", SegmentInput(text="x")) == "writer-0:check_length"
    assert r.stats["unavailable_retries"] == 2  # one move (to itself, re-resolved), then two waits


async def test_a_member_that_stays_unavailable_fails_after_the_retries(pool):
    failures, _resolved, _members = pool
    r = router(writer_pool=1)
    r.unavailable_retries = 2
    failures["writer-0"] = [unavailable() for _ in range(5)]
    with pytest.raises(ActorUnavailableError):
        await r.call("writer", "check_length", SegmentInput(text="x"))
    assert r.stats["unavailable_retries"] == 2


async def test_errors_of_the_engine_itself_are_not_retried(pool):
    failures, resolved, _members = pool
    r = router(miner_pool=2)
    failures["miner-0"] = [Invalid("bad op", details={"field": "op"})]
    with pytest.raises(Invalid):
        await r.call("miner", "segment", SegmentInput(text="A post."))
    assert resolved == ["miner-0"] and r.stats["re_resolved"] == 0
