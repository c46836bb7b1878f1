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
# Brand hosts and engine pool members are scheduled with Ray's SPREAD strategy: each new actor
# goes to the feasible node with the fewest of this kind, so two hosts share a node only when
# there are more hosts than nodes. Detached actors that Ray restarts after their node died are
# rescheduled on any live node (scheduler, publisher, memory service: default strategy).
SPREAD = "SPREAD"


def alive_nodes() -> int:
    """How many Ray nodes are alive now (the caller is connected to Ray)."""
    import ray

    return sum(1 for node in ray.nodes() if node.get("Alive"))


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
    """Create the engine pool members spread over nodes before ``start_engine_pools`` finds them
    by name (members that already exist keep their place)."""
    from .engines import EngineActor, pool_sizes

    for kind, size in pool_sizes(settings).items():
        for index in range(size):
            EngineActor.options(
                name=names.engine(kind, index), namespace=settings.ray_namespace, lifetime="detached",
                get_if_exists=True, scheduling_strategy=SPREAD,
            ).remote(kind, settings)  # fmt: skip
