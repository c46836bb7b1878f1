"""Where the content writer's output lives: a package with its core argument, channel plans,
variants, pattern usages, the generation session with every attempt, and a quality report
per gated attempt - written in the caller's transaction, so a package lands whole or not at all.

Packages and variants carry a ``version`` (migration 0012) bumped by every UPDATE: review
actions write with the version they read, and a stale one is a :class:`Conflict`. The
session and attempt rows (seed 001's generation sessions) are append-only.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self
from uuid import UUID

import asyncpg
from pydantic import AwareDatetime, Field, model_validator

from storage.errors import Conflict, NotFound
from storage.objects import (
    ChannelPlan,
    ContentPackage,
    ContentVariant,
    CoreArgument,
    FeedbackEvent,
    OpportunityCard,
    PatternUsage,
    QualityReport,
)
from storage.objects.base import KairoObject, Label, ShortText, new_id, utcnow

from . import quality
from . import repositories as repo
from .database import translate_errors
from .rows import Repository, Table
from .sources import save_cards

ATTEMPTS_MAX = 5
VARIANT_INDEX_MAX = 9


class PlanSettings(KairoObject):
    """How one channel plan is written (not part of CO-16): kept so a regeneration writes
    under the same rules as the first round."""

    thread: bool = False
    limit: int | None = Field(default=None, ge=1)
    budget: int = Field(ge=1)
    length_mode: Label
    risk_mode: Label
    tone_bias: dict[str, float] = {}
    hook_id: UUID | None = None


class GenerationSessionRow(KairoObject):
    """Seed 001's generation session: one write or regeneration round of a package.

    ``written`` rounds name their package; a ``failed`` one carries the generator's reason and
    no package (the write left nothing half-built)."""

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    content_package_id: UUID | None = None
    opportunity_id: UUID | None = None
    round: Literal["write", "regenerate"] = "write"
    status: Literal["written", "failed"]
    generator: Label
    seed: int = Field(ge=0)
    reason: ShortText | None = None
    plan_settings: dict[UUID, PlanSettings] = {}
    source_doc_id: UUID | None = Field(default=None, description=(
        "the page a package written about a URL was written from (migration 0018); none for a card or a topic"))
    created_at: AwareDatetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.status == "failed") != (self.reason is not None):
            raise ValueError("reason is set exactly when the session failed")
        if self.status == "written" and self.content_package_id is None:
            raise ValueError("content_package_id is required for a written session")
        if self.round == "regenerate" and self.content_package_id is None:
            raise ValueError("content_package_id is required for a regeneration")
        return self


class GenerationAttemptRow(KairoObject):
    """One attempt of one candidate: its text, verdict, reasons and the critic's instructions."""

    id: UUID = Field(default_factory=new_id)
    generation_session_id: UUID
    brand_id: UUID
    content_variant_id: UUID
    variant_index: int = Field(ge=0, le=VARIANT_INDEX_MAX)
    attempt_number: int = Field(ge=1, le=ATTEMPTS_MAX)
    body: Annotated[str, Field(min_length=1)]
    verdict: Literal["pass", "flag", "reject", "ungrounded"]
    reasons: Annotated[list[Annotated[str, Field(min_length=1)]], Field(max_length=50)] = []
    instructions: list[dict[str, Any]] = []
    created_at: AwareDatetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _failure_has_reason(self) -> Self:
        if self.verdict not in ("pass", "flag") and not self.reasons:
            raise ValueError("reasons: a rejected attempt says why")
        return self


SESSIONS = Table("generation_sessions", GenerationSessionRow, json_columns=frozenset({"plan_settings"}))
ATTEMPTS = Table("generation_attempts", GenerationAttemptRow, json_columns=frozenset({"instructions"}))
sessions: Repository[GenerationSessionRow] = Repository(SESSIONS)
attempts: Repository[GenerationAttemptRow] = Repository(ATTEMPTS)


class PackageRecords(KairoObject):
    """Everything one write (or one regeneration) stores, as canonical rows."""

    package: ContentPackage
    core_argument: CoreArgument
    plans: list[ChannelPlan]
    variants: list[ContentVariant]
    session: GenerationSessionRow
    attempts: list[GenerationAttemptRow]
    reports: list[QualityReport]
    usages: list[PatternUsage]
    card: OpportunityCard | None = Field(default=None, description="the card, now in_progress")


class Versioned(KairoObject):
    """A row's version, read with it (the review writes with it)."""

    id: UUID
    version: int = Field(ge=1)


class StoredPackage(KairoObject):
    """A package as stored: its rows, versions, the latest quality report of each variant and
    every generation session (newest last)."""

    package: ContentPackage
    version: int = Field(ge=1)
    core_argument: CoreArgument
    plans: list[ChannelPlan]
    variants: list[ContentVariant]
    variant_versions: dict[UUID, int]
    reports: dict[UUID, QualityReport] = Field(description="per variant, its last gated attempt")
    attempts: dict[UUID, int] = Field(description="per variant, how many attempts it took")
    variant_index: dict[UUID, int]
    sessions: list[GenerationSessionRow]

    @property
    def plan_settings(self) -> dict[UUID, PlanSettings]:
        merged: dict[UUID, PlanSettings] = {}
        for session in self.sessions:
            merged.update(session.plan_settings)
        return merged

    def variant(self, variant_id: UUID) -> ContentVariant:
        for v in self.variants:
            if v.id == variant_id:
                return v
        raise NotFound(f"variant {variant_id} is not in this package", details={"field": "variant_id"})


async def _insert_generation(conn: asyncpg.Connection, records: PackageRecords) -> None:
    await repo.variants.insert_many(conn, records.variants)
    await sessions.insert(conn, records.session)
    await attempts.insert_many(conn, records.attempts)
    await quality.record_attempt_reports(conn, records.reports)  # with each gate's detail
    await repo.pattern_usages.insert_many(conn, records.usages)


async def save_written(conn: asyncpg.Connection, records: PackageRecords) -> None:
    """A new package and everything its first round produced, in the caller's transaction;
    the card (if any) moves to ``in_progress`` with it."""
    await repo.packages.create(conn, records.package, records.core_argument, records.plans)
    await _insert_generation(conn, records)
    if records.card is not None:
        await save_cards(conn, [records.card])


async def save_regenerated(conn: asyncpg.Connection, records: PackageRecords, replaced: list[ContentVariant],
                           versions: dict[UUID, int]) -> None:  # fmt: skip
    """A regeneration round: the new variants with their attempts, the variants they replace
    saved (``rejected``) at the versions the caller read."""
    for variant in replaced:
        await save_variant(conn, variant, expected_version=versions[variant.id])
    await _insert_generation(conn, records)


async def save_failure(conn: asyncpg.Connection, session: GenerationSessionRow) -> None:
    """A round whose generator could not answer: the session with its reason, nothing else."""
    await sessions.insert(conn, session)


async def _save_versioned(conn: asyncpg.Connection, table_repo: Repository[Any], obj: Any, expected_version: int) -> int:
    what = table_repo.table.model.__name__
    if await table_repo.update(conn, obj, where_extra="version = {0}", extra_args=(expected_version,)):
        return expected_version + 1
    with translate_errors():
        current = await conn.fetchval(f"SELECT version FROM {table_repo.table.name} WHERE id = $1", obj.id)
    if current is None:
        raise NotFound(f"{what} {obj.id} not found", details={"id": str(obj.id)})
    raise Conflict(f"{what} changed since version {expected_version} (now {current})",
                   details={"field": "expected_version", "expected_version": expected_version,
                            "current_version": current})  # fmt: skip


async def save_variant(conn: asyncpg.Connection, variant: ContentVariant, *, expected_version: int) -> int:
    """Overwrite a variant still at ``expected_version``; returns its new version."""
    return await _save_versioned(conn, repo.variants, variant, expected_version)


async def save_package(conn: asyncpg.Connection, package: ContentPackage, *, expected_version: int) -> int:
    return await _save_versioned(conn, repo.packages, package, expected_version)


async def record_feedback(conn: asyncpg.Connection, event: FeedbackEvent) -> None:
    await repo.feedback_events.insert(conn, event)


async def lock_package(conn: asyncpg.Connection, brand_id: UUID, package_id: UUID) -> None:
    """Serialize review actions on one package (the agent's lock covers one host; this covers
    a stray writer too)."""
    with translate_errors():
        found = await conn.fetchval("SELECT 1 FROM content_packages WHERE id = $1 AND brand_id = $2 FOR UPDATE",
                                    package_id, brand_id)  # fmt: skip
    if found is None:
        raise NotFound(f"ContentPackage {package_id} not found", details={"id": str(package_id)})


async def load_package(conn: asyncpg.Connection, brand_id: UUID, package_id: UUID) -> StoredPackage:
    """A package of ``brand_id`` with its rows; another brand's package is NotFound."""
    with translate_errors():
        head = await conn.fetchrow("SELECT version FROM content_packages WHERE id = $1 AND brand_id = $2",
                                   package_id, brand_id)  # fmt: skip
    if head is None:
        raise NotFound(f"ContentPackage {package_id} not found", details={"id": str(package_id)})
    package = await repo.packages.get(conn, package_id)
    argument = await repo.core_arguments.get(conn, package.core_argument_id)
    plans = await repo.channel_plans.list(conn, "content_package_id = $1", package_id, order_by="created_at, channel")
    variants = await repo.variants.list(conn, "content_package_id = $1", package_id, order_by="created_at, id")
    with translate_errors():
        rows = await conn.fetch("SELECT id, version FROM content_variants WHERE content_package_id = $1", package_id)
        counts = await conn.fetch(
            "SELECT content_variant_id, max(attempt_number) AS n, min(variant_index) AS i FROM generation_attempts"
            " WHERE content_variant_id = ANY($1::uuid[]) GROUP BY content_variant_id", [v.id for v in variants])
    ids = [v.id for v in variants]
    reports = await repo.quality_reports.list(conn, "content_variant_id = ANY($1::uuid[])", ids,
                                              order_by="content_variant_id, attempt_number")  # fmt: skip
    found_sessions = await sessions.list(conn, "content_package_id = $1", package_id, order_by="created_at, id")
    return StoredPackage(
        package=package, version=head["version"], core_argument=argument, plans=plans, variants=variants,
        variant_versions={r["id"]: r["version"] for r in rows}, reports={r.content_variant_id: r for r in reports},
        attempts={r["content_variant_id"]: r["n"] for r in counts},
        variant_index={r["content_variant_id"]: r["i"] for r in counts}, sessions=found_sessions,
    )  # fmt: skip


async def package_versions(conn: asyncpg.Connection, ids: list[UUID]) -> dict[UUID, int]:
    with translate_errors():
        rows = await conn.fetch("SELECT id, version FROM content_packages WHERE id = ANY($1::uuid[])", ids)
    return {r["id"]: r["version"] for r in rows}


async def failures(conn: asyncpg.Connection, brand_id: UUID, *, since: datetime | None = None,
                   limit: int = 50) -> list[GenerationSessionRow]:  # fmt: skip
    """The brand's failed write rounds, newest first (a failed write has no package to show)."""
    where, args = "brand_id = $1 AND status = 'failed'", [brand_id]
    if since is not None:
        where, args = where + " AND created_at >= $2", [*args, since]
    return await sessions.list(conn, where, *args, order_by="created_at DESC, id", limit=limit)


async def session_attempts(conn: asyncpg.Connection, brand_id: UUID, session_id: UUID) -> list[GenerationAttemptRow]:
    """Every attempt of one of the brand's generation rounds, by variant slot and attempt."""
    return await attempts.list(conn, "generation_session_id = $1 AND brand_id = $2", session_id, brand_id,
                               order_by="content_variant_id, attempt_number")  # fmt: skip


async def attempt_counts(conn: asyncpg.Connection, session_ids: list[UUID]) -> dict[UUID, tuple[int, int]]:
    """Per round, (candidates, attempts) it kept."""
    with translate_errors():
        rows = await conn.fetch(
            "SELECT generation_session_id AS id, count(DISTINCT content_variant_id) AS c, count(*) AS n"
            " FROM generation_attempts WHERE generation_session_id = ANY($1::uuid[]) GROUP BY 1", session_ids)  # fmt: skip
    return {r["id"]: (r["c"], r["n"]) for r in rows}


async def page_source(conn: asyncpg.Connection, package_id: UUID) -> UUID | None:
    """The page a package was first written from (its first round's document), if any."""
    with translate_errors():
        return await conn.fetchval(
            "SELECT source_doc_id FROM generation_sessions WHERE content_package_id = $1 AND source_doc_id IS NOT NULL"
            " ORDER BY created_at, id LIMIT 1", package_id)  # fmt: skip


async def recent_bodies(conn: asyncpg.Connection, brand_id: UUID, *, limit: int = 200) -> list[tuple[UUID, str, str]]:
    """The brand's latest variants that were not rejected, (id, channel, body): the
    similarity gate's history."""
    with translate_errors():
        rows = await conn.fetch(
            "SELECT id, channel, body FROM content_variants WHERE brand_id = $1 AND status <> 'rejected'"
            " ORDER BY created_at DESC LIMIT $2", brand_id, limit)  # fmt: skip
    return [(r["id"], r["channel"], r["body"]) for r in rows]


__all__ = [
    "ATTEMPTS",
    "SESSIONS",
    "GenerationAttemptRow",
    "GenerationSessionRow",
    "PackageRecords",
    "PlanSettings",
    "StoredPackage",
    "Versioned",
    "attempt_counts",
    "attempts",
    "failures",
    "load_package",
    "lock_package",
    "package_versions",
    "page_source",
    "recent_bodies",
    "record_feedback",
    "save_failure",
    "save_package",
    "save_regenerated",
    "save_variant",
    "save_written",
    "session_attempts",
    "sessions",
]
