"""Where publishers go, without Ray's scheduler: one per alive node, each preferring its own node
(soft affinity, so Ray may restart it elsewhere when the node is gone) with the reservation that
makes Ray honour the preference; on a single node one publisher, unplaced."""

from __future__ import annotations

import pytest
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from runtime import placement

pytestmark = pytest.mark.unit


def test_one_publisher_per_alive_node_each_preferring_its_own(monkeypatch):
    nodes = ["a" * 56, "b" * 56, "c" * 56]
    monkeypatch.setattr(placement, "alive_node_ids", lambda: nodes)
    placements = placement.publisher_placements()
    assert list(placements) == [placement.publisher_name(i) for i in range(3)]
    assert len(set(placements)) == 3 and all(name.startswith("kairo-publisher-") for name in placements)
    strategies = [options["scheduling_strategy"] for options in placements.values()]
    assert all(isinstance(s, NodeAffinitySchedulingStrategy) and s.soft for s in strategies)
    assert [s.node_id for s in strategies] == nodes
    assert all(options["memory"] > 0 for options in placements.values())  # an empty request is placed at random


def test_a_single_node_runs_one_publisher_without_placement(monkeypatch):
    monkeypatch.setattr(placement, "alive_node_ids", lambda: ["a" * 56])
    assert placement.publisher_placements() == {placement.publisher_name(0): {}}


def test_start_publishers_creates_each_placement_under_its_name(monkeypatch):
    from runtime import stack
    from runtime.settings import Settings

    monkeypatch.setattr(placement, "alive_node_ids", lambda: ["a" * 56, "b" * 56])
    monkeypatch.setattr(stack, "publisher_placements", placement.publisher_placements)
    started = []

    def start_publisher(settings, *, name, placement):
        started.append((name, placement))
        return name

    monkeypatch.setattr(stack, "start_publisher", start_publisher)
    handles = stack.start_publishers(Settings())
    assert handles == {name: name for name, _ in started}
    assert [options["scheduling_strategy"].node_id for _, options in started] == ["a" * 56, "b" * 56]
