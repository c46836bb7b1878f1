"""Names of Kairo's Ray actors. All live in one namespace (``Settings.ray_namespace``)."""

from __future__ import annotations

from uuid import UUID

MEMORY = "kairo-memory"
SCHEDULER = "kairo-scheduler"
PUBLISHER = "kairo-publisher"
API_APP = "kairo"


def host(index: int) -> str:
    return f"kairo-host-{index}"


def dedicated_host(brand_id: UUID) -> str:
    return f"kairo-brand-{brand_id}"


def engine(kind: str, index: int) -> str:
    return f"kairo-engine-{kind}-{index}"
