"""Where the pattern miner's objects live: source posts, templates and usages.

* Posts are upserted by id (derived from scope, channel and text), so importing a file twice
  leaves one row per post; the metrics of the later import win. A file goes in one transaction.
* Templates are written as the miner's changes say (created → insert, updated → update); the
  unique (scope, structure) index refuses a duplicate.
* Reads are per scope: a brand's own (``brand_id``) or the global one (``brand_id`` NULL).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from storage.errors import NotFound
from storage.objects import (
    Channel,
    PatternSourcePost,
    PatternStatus,
    PatternTemplate,
    PatternUsage,
)

from . import tables
from .database import Database, translate_errors
from .rows import Repository

_posts = Repository(tables.PATTERN_SOURCE_POSTS)
_templates = Repository(tables.PATTERN_TEMPLATES)
_usages = Repository(tables.PATTERN_USAGES)

_COLUMNS = tables.PATTERN_SOURCE_POSTS.columns
_UPSERT_POST = (
    f"INSERT INTO pattern_source_posts ({', '.join(_COLUMNS)}) "
    f"VALUES ({', '.join(f'${i}' for i in range(1, len(_COLUMNS) + 1))}) "
    "ON CONFLICT (id) DO UPDATE SET impressions = EXCLUDED.impressions, engagements = EXCLUDED.engagements, "
    "author_handle = coalesce(EXCLUDED.author_handle, pattern_source_posts.author_handle)"
)


PRIOR_IMPRESSIONS = 5000
"""How many impressions at the scope's rate a template's own evidence is blended with when ranked."""


@dataclass(frozen=True)
class ImportCounts:
    inserted: int
    updated: int


def _scope(brand_id: UUID | None) -> tuple[str, tuple[Any, ...]]:
    return ("brand_id = $1", (brand_id,)) if brand_id is not None else ("brand_id IS NULL", ())


async def upsert_posts(conn: asyncpg.Connection, posts: Sequence[PatternSourcePost]) -> ImportCounts:
    """Insert new posts and refresh the metrics of known ones, in the caller's transaction."""
    if not posts:
        return ImportCounts(0, 0)
    ids = [p.id for p in posts]
    with translate_errors():
        known = await conn.fetchval("SELECT count(*) FROM pattern_source_posts WHERE id = ANY($1::uuid[])", ids)
        rows = [[tables.PATTERN_SOURCE_POSTS.to_row(p)[c] for c in _COLUMNS] for p in posts]
        await conn.executemany(_UPSERT_POST, rows)
    return ImportCounts(inserted=len(set(ids)) - known, updated=known)


async def import_posts(db: Database, posts: Sequence[PatternSourcePost]) -> ImportCounts:
    """One file's posts in one transaction: all of them or none."""
    async with db.transaction() as conn:
        return await upsert_posts(conn, posts)


async def posts_in_scope(conn: asyncpg.Connection, brand_id: UUID | None) -> list[PatternSourcePost]:
    where, args = _scope(brand_id)
    return await _posts.list(conn, where, *args, order_by="created_at, id")


async def count_posts(conn: asyncpg.Connection, brand_id: UUID | None) -> int:
    where, args = _scope(brand_id)
    with translate_errors():
        return int(await conn.fetchval(f"SELECT count(*) FROM pattern_source_posts WHERE {where}", *args))


async def templates_in_scope(
    conn: asyncpg.Connection,
    brand_id: UUID | None,
    *,
    channel: Channel | None = None,
    status: PatternStatus | None = None,
) -> list[PatternTemplate]:
    """The scope's templates, best evidence-weighted engagement first (then most evidence).

    Evidence-weighted: the template's engagements and impressions plus ``PRIOR_IMPRESSIONS``
    impressions at the scope's overall rate, so three lucky posts do not outrank three hundred.
    """
    where, args = _scope(brand_id)
    params: list[Any] = list(args)
    prior = (f"(SELECT coalesce(sum((usage_stats->>'evidence_engagements')::float8) / "
             f"nullif(sum((usage_stats->>'evidence_impressions')::float8), 0), 0) "
             f"FROM pattern_templates WHERE {where})")
    if channel is not None:
        params.append(channel.value)
        where += f" AND (channel_constraints = '{{*}}' OR ${len(params)} = ANY (channel_constraints))"
    if status is not None:
        params.append(status.value)
        where += f" AND status = ${len(params)}"
    order = (f"(coalesce((usage_stats->>'evidence_engagements')::float8, 0) + {prior} * {PRIOR_IMPRESSIONS}) / "
             f"(coalesce((usage_stats->>'evidence_impressions')::float8, 0) + {PRIOR_IMPRESSIONS}) DESC, "
             "coalesce((usage_stats->>'evidence_posts')::int, 0) DESC, id")
    return await _templates.list(conn, where, *params, order_by=order)


async def save_templates(conn: asyncpg.Connection, created: Sequence[PatternTemplate],
                         updated: Sequence[PatternTemplate]) -> None:
    """Write one mining run's template changes, in the caller's transaction."""
    await _templates.insert_many(conn, created)
    for template in updated:
        if not await _templates.update(conn, template):
            raise NotFound(f"PatternTemplate {template.id} not found", details={"id": str(template.id)})


async def get_template(conn: asyncpg.Connection, template_id: UUID, *, for_update: bool = False) -> PatternTemplate:
    """One template; ``for_update`` locks its row until the transaction ends (two outcomes of
    one template then review it one after the other)."""
    if for_update:
        with translate_errors():
            await conn.execute("SELECT 1 FROM pattern_templates WHERE id = $1 FOR UPDATE", template_id)
    return await _templates.get(conn, template_id)


async def lock_scope(conn: asyncpg.Connection, brand_id: UUID | None) -> None:
    """Serialize the template writes of one scope (a brand's, or the global one) until the
    transaction ends: two mining runs of a scope never write over each other."""
    with translate_errors():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"pattern_mining:{brand_id or 'global'}")


async def record_usage(conn: asyncpg.Connection, usage: PatternUsage) -> PatternUsage:
    return await _usages.insert(conn, usage)


async def attach_outcome(conn: asyncpg.Connection, usage_id: UUID, outcome: dict[str, float]) -> PatternUsage:
    """Attach (or replace) a usage's outcome metrics when they arrive."""
    usage = await _usages.get(conn, usage_id)
    updated = PatternUsage.model_validate({**usage.model_dump(), "outcome": outcome})
    await _usages.update(conn, updated)
    return updated


async def usages_of(conn: asyncpg.Connection, template_id: UUID) -> list[PatternUsage]:
    return await _usages.list(conn, "pattern_template_id = $1", template_id, order_by="created_at, id")


async def usages_of_variant(conn: asyncpg.Connection, content_variant_id: UUID) -> list[PatternUsage]:
    """The usages of one content variant (a variant may follow more than one template)."""
    return await _usages.list(conn, "content_variant_id = $1", content_variant_id, order_by="created_at, id")


async def posts_by_ids(conn: asyncpg.Connection, ids: Sequence[UUID]) -> dict[UUID, PatternSourcePost]:
    found = await _posts.list(conn, "id = ANY($1::uuid[])", list(ids))
    return {p.id: p for p in found}


async def templates_of_posts(conn: asyncpg.Connection, ids: Sequence[UUID]) -> dict[UUID, UUID]:
    """Which template holds each of these posts as evidence (posts in none are left out)."""
    with translate_errors():
        records = await conn.fetch(
            "SELECT t.id AS template_id, p AS post_id FROM pattern_templates t, "
            "unnest(t.example_source_post_ids) AS p WHERE t.example_source_post_ids && $1::uuid[] "
            "AND p = ANY($1::uuid[])", list(ids))
    return {r["post_id"]: r["template_id"] for r in records}


async def channel_medians(conn: asyncpg.Connection, brand_id: UUID | None) -> dict[Channel, float]:
    """The median engagement rate per channel of the posts a brand is judged against: its own
    and the global ones (only global for None)."""
    scope = "(brand_id = $1 OR brand_id IS NULL)" if brand_id is not None else "brand_id IS NULL"
    args = (brand_id,) if brand_id is not None else ()
    with translate_errors():
        records = await conn.fetch(
            "SELECT channel, percentile_cont(0.5) WITHIN GROUP (ORDER BY engagements::float8 / impressions) AS m "
            f"FROM pattern_source_posts WHERE {scope} AND impressions > 0 AND engagements IS NOT NULL "
            "GROUP BY channel", *args)
    return {Channel(r["channel"]): float(r["m"]) for r in records}
