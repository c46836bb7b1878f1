"""Which BrandHost hosts a brand: rendezvous (highest-random-weight) hashing.

Every caller computes the same answer from the brand id and the host names alone, with no
shared table; when a host is added, only the brands that now score highest on it move.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import blake2b
from uuid import UUID

from . import names
from .settings import Settings


def _weight(host: str, brand_id: UUID) -> int:
    return int.from_bytes(blake2b(f"{host}/{brand_id}".encode(), digest_size=8).digest(), "big")


def rendezvous(brand_id: UUID, hosts: Sequence[str]) -> str:
    if not hosts:
        raise ValueError("no hosts to place a brand on")
    return max(hosts, key=lambda host: _weight(host, brand_id))


def host_names(count: int) -> list[str]:
    return [names.host(i) for i in range(count)]


def host_for(brand_id: UUID, *, count: int, per_brand: bool) -> str:
    """The host name of a brand: its own actor when ``per_brand``, else one of ``count`` shards."""
    if per_brand:
        return names.dedicated_host(brand_id)
    return rendezvous(brand_id, host_names(count))


# -- where the actors run ------------------------------------------------------------------------
# Ray's SPREAD strategy alone is best effort (measured here, Ray 2.60: three hosts on three nodes
# landed on two), and so was soft node affinity (it ignored the node it was given: Ray places an
# actor that requests no resource, like these num_cpus=0 actors, on a random node). Brand hosts
# are therefore pinned to a node chosen from their index over the nodes alive when they are
# created, sorted by id: host i → node i mod n, the same answer in every process. When that node
# dies, Ray cannot restart the pinned actor there (ActorUnschedulableError); RayAgentGateway then
# re-creates it by name, pinned to a node alive then. Engine pool members use SPREAD (with a small
# memory reservation, so that it counts; still best effort) and are restarted by Ray on any live
# node, since their callers retry on another member. Publishers, one per node, use soft affinity
# with the same kind of reservation (see ``publisher_placements``): unlike a brand host, a
# publisher that lands on a node that already has one is harmless. On a single node everything
# is plain SPREAD.
SPREAD = "SPREAD"
# What a publisher or an engine pool member reserves (logical memory, far below what its process
# uses) so that Ray's scheduler honours its strategy: a request for no resource at all goes to
# a random node whatever the strategy (only hard node affinity is honoured for it).
PUBLISHER_MEMORY_BYTES = 32 * 1024 * 1024
SPREAD_MEMORY_BYTES = 32 * 1024 * 1024


def alive_node_ids() -> list[str]:
    import ray

    return sorted(node["NodeID"] for node in ray.nodes() if node.get("Alive"))


def node_index(name: str, nodes: int) -> int:
    """Which of ``nodes`` a named actor goes to: its trailing index, else a hash of its name."""
    tail = name.rsplit("-", 1)[-1]
    number = int(tail) if tail.isdigit() else int.from_bytes(blake2b(name.encode(), digest_size=8).digest(), "big")
    return number % nodes


def spread_strategy(name: str, position: int | None = None) -> object:
    """The scheduling strategy of a brand host or engine member named ``name`` (``position``
    overrides the index read from the name)."""
    nodes = alive_node_ids()
    if len(nodes) <= 1:
        return SPREAD
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    index = position % len(nodes) if position is not None else node_index(name, len(nodes))
    return NodeAffinitySchedulingStrategy(node_id=nodes[index], soft=False)


def publisher_name(index: int) -> str:
    """The publisher of the ``index``-th node alive at start: ``kairo-publisher-<index>``."""
    return f"{names.PUBLISHER}-{index}"


def publisher_placements() -> dict[str, dict[str, object]]:
    """One publisher per alive node: name → its actor options. Each prefers its node (soft
    affinity), so Ray restarts a publisher on its own node when only its process died, and on
    another live node only when its node is gone (it then shares that node with the node's own
    publisher until the next ``kairo up``). All of them claim through the same job leases
    (``FOR UPDATE SKIP LOCKED``), so any number may run. On a single node: one, unplaced.

    Ray places an actor that requests no resource at all on a random node whatever its soft
    affinity says (only hard affinity is honoured for empty requests; measured here: 3 publishers
    with ``num_cpus=0`` landed on 2 of 3 nodes). So each publisher reserves a little logical
    memory (``PUBLISHER_MEMORY_BYTES``, far below what its process uses), which makes its
    affinity count."""
    nodes = alive_node_ids()
    if len(nodes) <= 1:
        return {publisher_name(0): {}}
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    return {
        publisher_name(i): {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=node, soft=True),
                            "memory": PUBLISHER_MEMORY_BYTES}
        for i, node in enumerate(nodes)
    }  # fmt: skip


def alive_nodes() -> int:
    """How many Ray nodes are alive now (the caller is connected to Ray)."""
    return len(alive_node_ids())


def resolve_brand_hosts(settings: Settings, nodes: int) -> Settings:
    """``brand_hosts`` from ``brand_hosts_per_node`` × ``nodes`` (alive), when that is set.

    Every caller hashes brands over the same host names, so the count is fixed once, when the
    runtime starts, and travels in the settings the API and the scheduler get. A node added
    later takes new hosts only at the next ``kairo up``; until then the forwarding of a brand
    active elsewhere keeps callers with another count correct."""
    if not settings.brand_hosts_per_node:
        return settings
    count = max(1, settings.brand_hosts_per_node * nodes)
    return settings.model_copy(update={"brand_hosts": count})


def api_replicas(settings: Settings, nodes: int) -> int:
    """API replicas: ``api_replicas`` when set, else 2 on a cluster of several nodes and 1 on a
    single node (at most ``api_max_replicas_per_node`` per node, so more would stay pending)."""
    if settings.api_replicas is not None:
        return settings.api_replicas
    return min(2, nodes * settings.api_max_replicas_per_node) if nodes > 1 else 1


def spread_engine_pools(settings: Settings) -> None:
    """Create the engine pool members, spread over nodes (``engines.start_engine_pools``
    creates every member with SPREAD; members that already exist keep their place)."""
    from .engines import start_engine_pools

    start_engine_pools(settings)
