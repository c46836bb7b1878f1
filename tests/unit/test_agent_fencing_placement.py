"""Placement decisions that follow the cluster's size: host count per node, API replicas."""

from __future__ import annotations

import uuid

import pytest

from runtime.fencing import ActivationLost, Fence
from runtime.placement import api_replicas, host_for, resolve_brand_hosts
from runtime.settings import Settings
from storage.errors import Conflict

pytestmark = pytest.mark.unit


def test_host_count_follows_the_nodes_only_when_configured_per_node():
    fixed = Settings(brand_hosts=3)
    assert resolve_brand_hosts(fixed, nodes=5).brand_hosts == 3
    per_node = Settings(brand_hosts=3, brand_hosts_per_node=2)
    assert resolve_brand_hosts(per_node, nodes=3).brand_hosts == 6
    assert resolve_brand_hosts(per_node, nodes=1).brand_hosts == 2


def test_every_caller_with_the_resolved_settings_places_a_brand_on_the_same_host():
    settings = resolve_brand_hosts(Settings(brand_hosts_per_node=2), nodes=3)
    brand = uuid.uuid4()
    hosts = {host_for(brand, count=settings.model_copy().brand_hosts, per_brand=False) for _ in range(5)}
    assert len(hosts) == 1 and hosts.pop().startswith("kairo-host-")


def test_api_replicas_two_on_a_cluster_one_on_a_single_node_unless_set():
    assert api_replicas(Settings(), nodes=1) == 1
    assert api_replicas(Settings(), nodes=2) == 2
    assert api_replicas(Settings(), nodes=5) == 2
    assert api_replicas(Settings(api_replicas=4), nodes=2) == 4


def test_a_lost_activation_is_a_conflict_naming_the_incarnation():
    fence = Fence(uuid.uuid4(), "kairo-host-0", uuid.uuid4())
    lost = fence.lost(applied=True)
    assert isinstance(lost, Conflict) and isinstance(lost, ActivationLost)
    assert lost.code == "activation_lost"
    assert lost.details == {"brand_id": str(fence.brand_id), "host": "kairo-host-0",
                            "incarnation": str(fence.incarnation), "applied": True}


def test_hosts_are_dealt_over_the_nodes_by_their_index():
    from runtime.placement import host_names, node_index

    assert [node_index(name, 3) for name in host_names(6)] == [0, 1, 2, 0, 1, 2]
    dedicated = f"kairo-brand-{uuid.uuid4()}"
    assert node_index(dedicated, 3) == node_index(dedicated, 3) and 0 <= node_index(dedicated, 3) < 3
