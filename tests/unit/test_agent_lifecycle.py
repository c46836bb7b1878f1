"""The agent state machine and placement: pure functions, no services."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from agents.brand_agent import TRANSITIONS, is_due, schedule_next, transition
from runtime.placement import host_for, host_names, rendezvous
from storage.errors import Conflict
from storage.objects import AgentState, AgentStatus

NOW = datetime(2025, 2, 1, 12, 0, tzinfo=UTC)


def status(**kw) -> AgentStatus:
    return AgentStatus(brand_id=uuid.uuid4(), **kw)


def test_a_full_cycle_is_allowed():
    s = status()
    for state in ("planning", "creating", "publishing", "analyzing", "adapting", "idle"):
        s = transition(s, AgentState(state), now=NOW)
    assert s.state is AgentState.IDLE and s.updated_at == NOW


@pytest.mark.parametrize(("start", "to"), [("idle", "publishing"), ("adapting", "planning"), ("error", "creating")])
def test_skipping_phases_backwards_or_out_of_order_is_a_conflict(start, to):
    s = status(state=start, last_error="boom" if start == "error" else None)
    with pytest.raises(Conflict) as caught:
        transition(s, AgentState(to), now=NOW)
    assert caught.value.details == {"from": start, "to": to}


def test_every_state_can_fail_and_error_recovers():
    assert all(AgentState.ERROR in targets for state, targets in TRANSITIONS.items() if state is not AgentState.ERROR)
    failed = transition(status(state="creating"), AgentState.ERROR, now=NOW, error="writer down")
    assert failed.last_error == "writer down"
    assert transition(failed, AgentState.PLANNING, now=NOW).state is AgentState.PLANNING
    with pytest.raises(ValueError):
        transition(status(), AgentState.ERROR, now=NOW)


def test_scheduling_follows_cadence_and_pause():
    s = schedule_next(status(cadence_seconds=900), now=NOW)
    assert s.next_wake_at == NOW + timedelta(seconds=900)
    assert not is_due(s, now=NOW) and is_due(s, now=NOW + timedelta(seconds=900))
    paused = schedule_next(status(paused=True), now=NOW)
    assert paused.next_wake_at is None and not is_due(paused, now=NOW + timedelta(days=30))


def test_rendezvous_is_stable_and_balanced():
    brands = [uuid.uuid4() for _ in range(4000)]
    hosts = host_names(4)
    placed = {b: rendezvous(b, hosts) for b in brands}
    assert placed == {b: rendezvous(b, list(reversed(hosts))) for b in brands}  # order-independent
    counts = Counter(placed.values())
    assert set(counts) == set(hosts) and min(counts.values()) > 800  # ~1000 each
    grown = {b: rendezvous(b, host_names(5)) for b in brands}
    moved = [b for b in brands if grown[b] != placed[b]]
    assert all(grown[b] == "kairo-host-4" for b in moved)  # only brands moving to the new host
    assert 500 < len(moved) < 1100  # about a fifth


def test_per_brand_hosting_names_a_dedicated_host():
    brand = uuid.uuid4()
    assert host_for(brand, count=3, per_brand=True) == f"kairo-brand-{brand}"
    assert host_for(brand, count=3, per_brand=False) in host_names(3)
