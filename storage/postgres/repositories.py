"""Repositories over asyncpg that return canonical objects.

Each method takes the connection of the caller's transaction (``Database.transaction()``);
several repository calls in one ``async with`` block commit or roll back together.
"""

from __future__ import annotations

from typing import Any, TypeVar
from uuid import UUID

import asyncpg

from storage.errors import Conflict, NotFound, expect_version
from storage.objects import (
    AgentStatus,
    BrandBrainSnapshot,
    ChannelPlan,
    ContentPackage,
    CoreArgument,
)
from storage.objects.base import KairoObject, utcnow

from . import tables
from .database import translate_errors
from .rows import Repository, Table

V = TypeVar("V", bound=KairoObject)


def _snapshot_lock_key(brand_id: UUID) -> str:
    # Same key as the brand_brain_snapshots insert trigger.
    return f"brand_brain_snapshots:{brand_id}"


class SnapshotRepository(Repository[BrandBrainSnapshot]):
    """Snapshots are created, never changed: each is version n+1 of the brand's latest."""

    async def latest(self, conn: asyncpg.Connection, brand_id: UUID) -> BrandBrainSnapshot | None:
        found = await self.list(conn, "brand_id = $1", brand_id, order_by="version DESC", limit=1)
        return found[0] if found else None

    async def create_next(
        self, conn: asyncpg.Connection, draft: BrandBrainSnapshot, *, expected_version: int | None = None
    ) -> BrandBrainSnapshot:
        """Store ``draft`` as the brand's next version.

        ``expected_version`` is the version the writer based its change on; when another
        snapshot landed in between, the write is a Conflict instead of silently winning.
        """
        with translate_errors():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", _snapshot_lock_key(draft.brand_id)
            )
            latest = await conn.fetchval(
                "SELECT coalesce(max(version), 0) FROM brand_brain_snapshots WHERE brand_id = $1", draft.brand_id
            )
        expect_version("snapshot", expected_version, latest)
        snapshot = BrandBrainSnapshot.model_validate({**draft.model_dump(), "version": latest + 1})
        return await self.insert(conn, snapshot)


class VersionedRepository(Repository[V]):
    """Objects written with optimistic concurrency: a ``version`` column that every write bumps."""

    async def save(self, conn: asyncpg.Connection, obj: V, *, expected_version: int) -> V:
        """Overwrite the stored object if it is still at ``expected_version``; returns the
        object at its new version. A stale writer gets a Conflict, never a silent overwrite."""
        updated = obj.model_copy(update={"version": expected_version + 1, "updated_at": utcnow()})
        updated = type(obj).model_validate(updated.model_dump())
        if await self.update(conn, updated, where_extra="version = {0}", extra_args=(expected_version,)):
            return updated
        key = self.table.key
        current = await conn.fetchval(f"SELECT version FROM {self.table.name} WHERE {key} = $1", getattr(obj, key))
        if current is None:
            raise NotFound(
                f"{self.table.model.__name__} {getattr(obj, key)} not found", details={key: str(getattr(obj, key))}
            )
        raise Conflict(
            f"{self.table.model.__name__} changed since version {expected_version} (now {current})",
            details={"expected_version": expected_version, "current_version": current},
        )

    async def for_brand(self, conn: asyncpg.Connection, brand_id: UUID) -> V | None:
        found = await self.list(conn, "brand_id = $1", brand_id, limit=1)
        return found[0] if found else None


class PackageRepository(Repository[ContentPackage]):
    async def create(
        self,
        conn: asyncpg.Connection,
        package: ContentPackage,
        core_argument: CoreArgument,
        plans: list[ChannelPlan],
    ) -> ContentPackage:
        """A package, its core argument and its channel plans: one unit, in the caller's
        transaction (the package ↔ argument references are checked at commit)."""
        if core_argument.content_package_id != package.id or package.core_argument_id != core_argument.id:
            raise Conflict("package and core argument must reference each other")
        await self.insert(conn, package)
        await core_arguments.insert(conn, core_argument)
        await channel_plans.insert_many(conn, plans)
        return await self.get(conn, package.id)


class AgentStateRepository(VersionedRepository[AgentStatus]):
    async def ensure(self, conn: asyncpg.Connection, brand_id: UUID) -> AgentStatus:
        """The brand's agent status, created idle on first use (one round trip when it exists)."""
        found = await self.find(conn, brand_id)
        if found is not None:
            return found
        with translate_errors():
            await conn.execute("INSERT INTO agent_states (brand_id) VALUES ($1) ON CONFLICT DO NOTHING", brand_id)
        return await self.get(conn, brand_id)


async def purge_brand(conn: asyncpg.Connection, brand_id: UUID) -> None:
    """Delete a brand and everything it owns, immutable history included (export/delete).

    The only path allowed through the immutability triggers: it sets ``kairo.purge`` for this
    transaction alone.
    """
    with translate_errors():
        await conn.execute("SET LOCAL kairo.purge = 'on'")
        status = await conn.execute("DELETE FROM brands WHERE id = $1", brand_id)
        await conn.execute("SET LOCAL kairo.purge = 'off'")
    if status == "DELETE 0":
        raise NotFound(f"Brand {brand_id} not found", details={"id": str(brand_id)})


def _repo(table: Table[Any]) -> Repository[Any]:
    return Repository(table)


orgs = _repo(tables.ORGS)
users = _repo(tables.USERS)
brands = _repo(tables.BRANDS)
memberships = _repo(tables.MEMBERSHIPS)
api_keys = _repo(tables.API_KEYS)
personas = _repo(tables.PERSONAS)
pillars = _repo(tables.PILLARS)
snapshots = SnapshotRepository(tables.SNAPSHOTS)
runtime_contexts: VersionedRepository[Any] = VersionedRepository(tables.RUNTIME_CONTEXTS)
memory_fragments = _repo(tables.MEMORY_FRAGMENTS)
source_docs = _repo(tables.SOURCE_DOCS)
opportunity_cards = _repo(tables.OPPORTUNITY_CARDS)
opportunity_batches = _repo(tables.OPPORTUNITY_BATCHES)
pattern_source_posts = _repo(tables.PATTERN_SOURCE_POSTS)
pattern_templates = _repo(tables.PATTERN_TEMPLATES)
pattern_usages = _repo(tables.PATTERN_USAGES)
packages = PackageRepository(tables.CONTENT_PACKAGES)
core_arguments = _repo(tables.CORE_ARGUMENTS)
channel_plans = _repo(tables.CHANNEL_PLANS)
variants = _repo(tables.CONTENT_VARIANTS)
feedback_events = _repo(tables.FEEDBACK_EVENTS)
brand_preferences: VersionedRepository[Any] = VersionedRepository(tables.BRAND_PREFERENCES)
global_priors = _repo(tables.GLOBAL_PRIORS)
channel_configs = _repo(tables.CHANNEL_CONFIGS)
publishing_jobs = _repo(tables.PUBLISHING_JOBS)
publish_attempts = _repo(tables.PUBLISH_ATTEMPTS)
agent_runs = _repo(tables.AGENT_RUNS)
event_log = _repo(tables.EVENT_LOG)
quality_reports = _repo(tables.QUALITY_REPORTS)
agent_states = AgentStateRepository(tables.AGENT_STATES)
