"""Which BrandHost hosts a brand: rendezvous (highest-random-weight) hashing.

Every caller computes the same answer from the brand id and the host names alone, with no
shared table; when a host is added, only the brands that now score highest on it move.
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import blake2b
from uuid import UUID

from . import names


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
