"""PostgreSQL enforces every invariant the pydantic models enforce, for rows written with raw SQL.

Mirror of ``tests/unit/test_object_invariants.py`` on the database side. Each case of
``REFUSED`` writes, through the bare ``raw`` connection (never the repositories), one row that is
valid except for one thing (an INSERT built from ``VALID_ROWS`` with one column changed), or
breaks one thing of a seeded row (an UPDATE/DELETE). The write must be refused with the exact
constraint named in ``storage/postgres/migrations/0001_foundation.sql``: a CHECK, FK or UNIQUE
constraint, a unique index, or a trigger that raises with ``CONSTRAINT = ...``.

Every write runs in one transaction. The statements before the one carrying the bad thing (the
last one, unless a builder says otherwise) must succeed and that one must be refused; for deferred
constraints (``at_commit=True``) every statement succeeds and the COMMIT is refused. NOT NULL
violations are asserted by column, values that cannot even be parsed (``BadInput``) by error
class. ``ACCEPTED`` lists the valid rows and the edge cases the seed allows: they must pass.
"""

from __future__ import annotations

from typing import get_args

from agents.gates.model import RuleName, Severity

import json
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple
from uuid import UUID, uuid4, uuid5

import asyncpg
import pytest

from storage.examples import EXAMPLES_NAMESPACE, SeedExamples
from storage.objects import enums
from storage.objects.learning import NeverAgainTarget, ScoringFactor
from storage.postgres import Database
from storage.postgres import migrate as migrations
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration


# --------------------------------------------------------------------------------------------
# The world every case runs in: the seed-000 examples plus a few rows of a second brand / org.
# --------------------------------------------------------------------------------------------


def _extra_id(name: str) -> UUID:
    return uuid5(EXAMPLES_NAMESPACE, f"db-invariants:{name}")


@dataclass(frozen=True)
class World:
    """Ids of the seeded rows, by short name (cases refer to them as ``W.<name>``)."""

    org: UUID
    user: UUID
    brand: UUID
    membership: UUID
    persona: UUID
    pillar: UUID
    pillar_bts: UUID
    snapshot: UUID  # bbs_3, the latest (version 3) of the brand
    runtime_context: UUID
    source_doc: UUID
    card: UUID
    card_2: UUID
    batch: UUID
    source_post: UUID
    template: UUID  # pt_confessional_1: linkedin only
    listicle: UUID  # pt_listicle_1: every channel ("*")
    package: UUID
    core_argument: UUID
    plan_lk: UUID
    plan_x: UUID
    variant: UUID  # cv_300, linkedin, in plan chp_100_lk
    pattern_usage: UUID
    feedback: UUID
    preferences: UUID
    priors: UUID
    channel_config: UUID
    job: UUID  # pub_700, pending
    # Not in the seed, written below with raw SQL:
    persona_2: UUID = _extra_id("persona_2")  # a second persona of the seeded brand
    other_org: UUID = _extra_id("other_org")
    other_user: UUID = _extra_id("other_user")  # a user of other_org
    other_brand: UUID = _extra_id("other_brand")  # a second brand of the seeded org
    other_persona: UUID = _extra_id("other_persona")
    other_pillar: UUID = _extra_id("other_pillar")
    other_snapshot: UUID = _extra_id("other_snapshot")  # version 1 of other_brand

    @classmethod
    def of(cls, s: SeedExamples) -> World:
        return cls(
            org=s.org.id, user=s.user.id, brand=s.brand.id, membership=s.membership.id,
            persona=s.persona.id, pillar=s.pillars[0].id, pillar_bts=s.pillars[1].id,
            snapshot=s.snapshots[-1].id, runtime_context=s.runtime_context.id,
            source_doc=s.source_doc.id, card=s.opportunity_cards[0].id, card_2=s.opportunity_cards[1].id,
            batch=s.opportunity_batch.id, source_post=s.pattern_source_post.id,
            template=s.pattern_templates[0].id, listicle=s.pattern_templates[1].id,
            package=s.package.id, core_argument=s.core_argument.id,
            plan_lk=s.channel_plans[0].id, plan_x=s.channel_plans[1].id, variant=s.variant.id,
            pattern_usage=s.pattern_usage.id, feedback=s.feedback_event.id, preferences=s.preferences.id,
            priors=s.global_priors.id, channel_config=s.channel_config.id, job=s.publishing_job.id,
        )  # fmt: skip


def _json(value: Any) -> str:
    return json.dumps(value, default=str)


@pytest.fixture
async def conn(raw: asyncpg.Connection) -> asyncpg.Connection:
    """The bare connection, told to encode Python dicts/lists given for json/jsonb parameters."""
    for type_name in ("json", "jsonb"):
        await raw.set_type_codec(type_name, encoder=_json, decoder=json.loads, schema="pg_catalog")
    return raw


@pytest.fixture
async def world(seeded: SeedExamples, conn: asyncpg.Connection) -> World:
    w = World.of(seeded)
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO personas (id, brand_id, name, description, pain_points, goals)"
            " VALUES ($1, $2, 'Scrappy founder', 'Founder doing marketing on the side.',"
            " '{No time}', '{Ship weekly}')",
            w.persona_2, w.brand,
        )
        await conn.execute("INSERT INTO orgs (id, name, slug) VALUES ($1, 'Other Org', 'other-org')", w.other_org)
        await conn.execute(
            "INSERT INTO users (id, org_id, email, role) VALUES ($1, $2, 'owner@other.org', 'admin')",
            w.other_user, w.other_org,
        )
        await conn.execute(
            "INSERT INTO brands (id, org_id, name, slug, owner_user_ids, primary_channels)"
            " VALUES ($1, $2, 'Acme Research', 'acme-research', $3, '{linkedin}')",
            w.other_brand, w.org, [w.user],
        )
        await conn.execute(
            "INSERT INTO personas (id, brand_id, name, description, pain_points, goals)"
            " VALUES ($1, $2, 'Analyst', 'Reads every report.', '{Too many reports}', '{Find signal}')",
            w.other_persona, w.other_brand,
        )
        await conn.execute(
            "INSERT INTO pillars (id, brand_id, name, description) VALUES ($1, $2, 'Research', 'Studies.')",
            w.other_pillar, w.other_brand,
        )
        await conn.execute(
            "INSERT INTO brand_brain_snapshots (id, brand_id, version, positioning, persona_ids, pillar_ids)"
            " VALUES ($1, $2, 1, 'Research you can act on.', $3, $4)",
            w.other_snapshot, w.other_brand, [w.other_persona], [w.other_pillar],
        )
    return w


# --------------------------------------------------------------------------------------------
# Writes: an INSERT of a valid row with changes, or literal SQL; ``a + b`` runs both in order.
# --------------------------------------------------------------------------------------------


class Ref(NamedTuple):
    """A seeded id, resolved against the World when the case runs."""

    name: str


class _Refs:
    def __getattr__(self, name: str) -> Ref:
        if name not in World.__dataclass_fields__:
            raise AttributeError(name)
        return Ref(name)


W = _Refs()


@dataclass(frozen=True)
class Sql:
    """An SQL expression inlined verbatim instead of a parameter (e.g. an untyped literal)."""

    text: str


OMIT = object()  # a column left out of the INSERT (its DEFAULT applies)


def resolve(value: Any, world: World) -> Any:
    if isinstance(value, Ref):
        return getattr(world, value.name)
    if isinstance(value, list):
        return [resolve(v, world) for v in value]
    if isinstance(value, dict):
        return {str(resolve(k, world)): resolve(v, world) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Statement:
    sql: str
    args: tuple[Any, ...] = ()

    def bind(self, world: World) -> tuple[str, list[Any]]:
        return self.sql, [resolve(a, world) for a in self.args]


@dataclass(frozen=True)
class Write:
    statements: tuple[Statement, ...]
    # The statement that carries the one bad thing (None: the last one).
    subject: int | None = None

    def __add__(self, other: Write) -> Write:
        subject = self.subject if other.subject is None else len(self.statements) + other.subject
        return Write(self.statements + other.statements, subject)

    @property
    def subject_index(self) -> int:
        return len(self.statements) - 1 if self.subject is None else self.subject

    def __str__(self) -> str:
        return "; ".join(s.sql for s in self.statements)


def sql(statement: str, *args: Any) -> Write:
    return Write((Statement(statement, args),))


def row(table: str, **changes: Any) -> dict[str, Any]:
    """The valid row of ``table`` with ``changes`` applied (``OMIT`` drops a column)."""
    values = {**VALID_ROWS[table], **changes}
    return {k: v for k, v in values.items() if v is not OMIT}


def insert_row(table: str, values: dict[str, Any]) -> Write:
    columns, placeholders, args = [], [], []
    for column, value in values.items():
        columns.append(column)
        if isinstance(value, Sql):
            placeholders.append(value.text)
        else:
            args.append(value)
            placeholders.append(f"${len(args)}")
    statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(placeholders)})"
    return Write((Statement(statement, tuple(args)),))


def insert(table: str, **changes: Any) -> Write:
    """INSERT the valid row of ``table``, except for ``changes``."""
    return insert_row(table, row(table, **changes))


def ts(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


LONG = "x" * 501
TWO_SENTENCES = "Dashboards should tell a revenue story. Pretty charts are not enough."
THREE_SENTENCES = "Dashboards lie. Boards notice. Revenue stories win."
POINTS = [
    "Most tools dump channel metrics with no pipeline context.",
    "Your board cares about pipeline and bookings, not CTR.",
    "A good attribution model surfaces a few clear levers you can pull.",
    "Pretty charts hide the handoff between marketing and sales.",
    "Every chart should answer one revenue question.",
    "Fewer metrics make for better board meetings.",
    "Attribution is a story, not a spreadsheet.",
    "Revenue stories survive budget cuts.",
]
OVERRIDE = {"tone_bias": {"story_vs_tactical": 0.4, "aggressive_vs_safe": 0.3}, "length_mode": "medium", "risk_mode": "balanced"}
LISTICLE_BINDING = {
    "pattern_template_id": W.listicle,
    "beats": {"hook": "One number the board asks about", "list": "Three charts that matter", "cta": "Reply"},
    "target_variants": 2,
}
FEEDBACK_PAYLOADS: dict[str, dict[str, Any]] = {
    "variant_rating": {"rating": 4, "dimensions": {"tone_match": 5}, "comment": None},
    "edit_applied": {"original_text": "We ship dashboards.", "edited_text": "We ship stories.", "edit_distance": 0.4},
    "never_again": {"target": "phrase", "phrase": "game-changer", "reason": None},
    "saved_as_example": {"memory_fragment_id": str(uuid4()), "note": "Perfect hook"},
    "performance_snapshot": {"captured_at": "2025-02-03T09:00:00Z", "metrics": {"impressions": 8000}},
}
FAILING_REPORT = {
    "g4_voice_alignment": False,
    "overall_pass": False,
    "critic_reasons": [{"gate": "g4", "score": None, "reason": "Too hype-y.", "suggestion": None}],
}

# One valid row per table, on top of the World (unique keys chosen not to collide with it).
VALID_ROWS: dict[str, dict[str, Any]] = {
    "channels": {"key": "threads", "name": "Threads", "max_text_length": 500, "counting": "graphemes"},
    "orgs": {"name": "Third Agency", "slug": "third-agency"},
    "users": {"org_id": W.org, "email": "creator@acme.com", "role": "creator", "status": "active"},
    "brands": {
        "org_id": W.org, "name": "Acme Labs", "slug": "acme-labs", "status": "active",
        "owner_user_ids": [W.user], "primary_channels": ["linkedin", "x"], "setup_complete": True,
        "created_at": ts("2025-01-01T10:00:00Z"), "updated_at": ts("2025-01-02T12:00:00Z"),
    },
    "brand_memberships": {"brand_id": W.other_brand, "user_id": W.user, "role": "strategist"},
    "api_keys": {
        "user_id": W.user, "name": "ci", "lookup": "0123456789ab", "secret_hash": "ab" * 32,
        "created_at": ts("2025-01-01T09:00:00Z"), "expires_at": ts("2026-01-01T09:00:00Z"),
    },
    "personas": {
        "brand_id": W.brand, "name": "RevOps lead", "description": "Owns the funnel numbers.",
        "pain_points": ["Dirty CRM data"], "goals": ["One source of truth"], "status": "active",
        "created_at": ts("2025-01-01T10:05:00Z"), "updated_at": ts("2025-01-01T10:05:00Z"),
    },
    "pillars": {
        "brand_id": W.brand, "name": "Playbooks", "description": "Step-by-step RevOps playbooks.",
        "status": "active", "priority": 5,
        "created_at": ts("2025-01-01T10:10:00Z"), "updated_at": ts("2025-01-01T10:10:00Z"),
    },
    "brand_brain_snapshots": {
        "brand_id": W.brand, "version": 4, "positioning": "We turn chaotic data into revenue stories.",
        "tone_descriptors": ["direct", "analytical"], "offers": ["Attribution audit"],
        "taboos": ["Overpromising AI magic"], "persona_ids": [W.persona], "pillar_ids": [W.pillar, W.pillar_bts],
        "tone_profile": {"warmth": 60},
        "voice_markers": [{"phrase": "revenue story", "category": "signature", "weight": 1.0, "source": "manual"}],
        "banned_words": [{"word": "synergy", "reason": None, "severity": "hard", "source": "manual"}],
        "stances": [{"stance": "Dashboards must tie to pipeline.", "category": "contrarian", "keywords": [],
                     "source": "manual"}],
    },
    "brand_runtime_contexts": {
        "brand_id": W.other_brand, "brand_brain_snapshot_id": W.other_snapshot,
        "channel_overrides": {"linkedin": OVERRIDE, "x": {**OVERRIDE, "length_mode": "short", "risk_mode": "spicy"}},
    },
    "memory_fragments": {
        "brand_id": W.brand, "source_type": "generated_hit",
        "raw_text": "If your board only hears about clicks and not pipeline, your data is failing you.",
        "persona_id": W.persona, "pillar_id": W.pillar, "pattern_template_id": W.template,
        "tags": ["board"], "embedding_model": "all-MiniLM-L6-v2", "embedding_dim": 384,
    },
    "global_source_docs": {
        "source_type": "article", "source_url": "https://example.com/pipeline-reviews", "author_handle": "revops_jane",
        "language": "en", "text": "Pipeline reviews fail when nobody trusts the numbers.", "content_hash": "c" * 64,
        "published_at": ts("2025-02-01T08:00:00Z"),
    },
    "opportunity_cards": {
        "brand_id": W.brand, "scope": "brand", "persona_id": W.persona, "pillar_id": W.pillar,
        "source_refs": [{"global_source_doc_id": W.source_doc, "internal_trigger": None, "relevance_note": "Same article"}],
        "angle_summary": "Show the one chart a board actually reads.", "opportunity_type": "trend", "score": 70,
        "lifecycle_state": "new", "created_at": ts("2025-02-01T12:40:00Z"), "updated_at": ts("2025-02-01T12:40:00Z"),
    },
    "opportunity_batches": {"brand_id": W.brand, "date_scope": "2025-02-02", "opportunity_ids": [W.card, W.card_2]},
    "pattern_source_posts": {
        "brand_id": W.brand, "is_global": False, "channel": "linkedin",
        "raw_text": "Our CAC doubled and nobody noticed for a quarter.", "impressions": 900, "engagements": 40,
        "created_at": ts("2025-01-20T09:00:00Z"),
    },
    "pattern_templates": {
        "name": "Myth → data → reframe", "channel_constraints": ["linkedin", "x"],
        "structure": ["hook", "myth", "data", "reframe"], "example_source_post_ids": [W.source_post],
        "usage_stats": {"times_used": 3, "avg_engagement_rate": 0.03}, "status": "active",
        "created_at": ts("2025-01-20T10:00:00Z"), "updated_at": ts("2025-01-20T10:00:00Z"),
    },
    "pattern_usages": {
        "pattern_template_id": W.template, "content_variant_id": W.variant, "brand_id": W.brand,
        "channel": "linkedin", "outcome": {"impressions": 100},
    },
    "channel_plans": {
        "content_package_id": W.package, "channel": "mastodon", "brand_brain_snapshot_id": W.snapshot,
        "pattern_bindings": [LISTICLE_BINDING], "enabled": True,
        "created_at": ts("2025-02-01T13:01:00Z"), "updated_at": ts("2025-02-01T13:01:00Z"),
    },
    "content_variants": {
        "content_package_id": W.package, "channel_plan_id": W.plan_lk, "brand_id": W.brand, "channel": "linkedin",
        "pattern_template_id": W.template, "persona_id": W.persona, "pillar_id": W.pillar,
        "body": "We shipped vanity dashboards for years. Then the board asked one question.", "status": "draft",
        "generated_by": "ce_v1", "source_variant_id": None,
        "created_at": ts("2025-02-01T13:02:00Z"), "updated_at": ts("2025-02-01T13:02:00Z"),
    },
    "feedback_events": {
        "brand_id": W.brand, "user_id": W.user, "content_variant_id": W.variant,
        "feedback_type": "variant_rating", "payload": FEEDBACK_PAYLOADS["variant_rating"],
    },
    "brand_preferences": {
        "brand_id": W.other_brand, "pattern_weights": {W.template: 1.4},
        "tone_bias_overrides": {"story_vs_tactical": 0.5},
        "persona_pillar_bias": {f"{_extra_id('other_persona')}::{_extra_id('other_pillar')}": 1.2},
        "opportunity_scoring_weights": {"freshness": 0.6, "brand_relevance": 1.0}, "version": 1,
    },
    "global_priors": {
        "segment": "b2b-saas",
        "pattern_stats": {W.template: {"avg_engagement_rate": 0.035, "times_used": 800}},
        "channel_stats": {"linkedin": {"avg_engagement_rate": 0.03, "times_used": 1300}},
        "default_tone_bias": {"linkedin": {"story_vs_tactical": 0.4, "aggressive_vs_safe": 0.3}},
        "default_opportunity_weights": {"freshness": 0.5, "brand_relevance": 1.0},
    },
    "channel_configs": {
        "brand_id": W.brand, "channel": "mastodon", "status": "connected", "scopes": ["post"],
        "rate_limits": {"posts_per_day": 20, "posts_per_hour": None, "min_gap_seconds": 0},
        "account_handle": "@acme@mastodon.social",
        "created_at": ts("2025-01-10T10:00:00Z"), "updated_at": ts("2025-02-01T09:00:00Z"),
    },
    "publishing_jobs": {
        "brand_id": W.brand, "content_variant_id": W.variant, "channel": "linkedin",
        "scheduled_at": ts("2025-02-03T09:00:00Z"), "status": "pending", "last_error": None,
        "attempts": 0, "max_attempts": 5,
        "created_at": ts("2025-02-01T13:20:00Z"), "updated_at": ts("2025-02-01T13:20:00Z"),
    },
    "publish_attempts": {
        "publishing_job_id": W.job, "attempt_index": 1, "status": "success",
        "started_at": ts("2025-02-02T09:00:00Z"), "finished_at": ts("2025-02-02T09:00:02Z"),
        "external_post_id": "urn:li:share:7000", "external_url": "https://www.linkedin.com/feed/update/urn:li:share:7000",
        "raw_response": {"id": "urn:li:share:7000", "meta": {"status": 201}},
    },
    "agent_runs": {
        "brand_id": W.brand, "trigger_type": "schedule", "started_at": ts("2025-02-01T06:00:00Z"),
        "finished_at": ts("2025-02-01T06:03:00Z"), "result": "success", "summary": "Planned 3 posts, published 1.",
    },
    "event_log": {
        "org_id": W.org, "brand_id": W.brand, "user_id": W.user, "event_type": "publish_succeeded",
        "subject_type": "publishing_job", "subject_id": "pub_700", "message": "Published variant on linkedin.",
        "meta": {"attempt": 1},
    },
    "quality_reports": {
        "brand_id": W.brand, "content_variant_id": W.variant, "attempt_number": 1, "g2_hook_strength": 78,
        "g4_voice_alignment": True, "g5_platform_compliance": True, "g7_engagement_prediction": 64,
        "overall_pass": True, "critic_reasons": [],
    },
}  # fmt: skip


def package(
    package: dict[str, Any] | None = None,
    argument: dict[str, Any] | None = None,
    plans: tuple[str, ...] = ("linkedin",),
    with_argument: bool = True,
    package_id: UUID | None = None,
) -> Write:
    """A new package of the seeded brand with its core argument and channel plans (one per
    channel in ``plans``): the unit the deferred constraints check at COMMIT."""
    package_id, argument_id = package_id or uuid4(), uuid4()
    write = insert_row("content_packages", {
        "id": package_id, "brand_id": W.brand, "opportunity_id": W.card, "origin_type": "opportunity",
        "origin_note": None, "core_argument_id": argument_id, "status": "draft", "channel_scope": "multi",
        "channel": None, **(package or {}),
    })  # fmt: skip
    if with_argument:
        write += insert_row("core_arguments", {
            "id": argument_id, "content_package_id": package_id, "persona_id": W.persona, "pillar_id": W.pillar,
            "thesis": "Attribution dashboards should tell a revenue story, not just show pretty charts.",
            "supporting_points": POINTS[:3], **(argument or {}),
        })  # fmt: skip
    for channel in plans:
        write += insert_row("channel_plans", {
            "content_package_id": package_id, "channel": channel, "brand_brain_snapshot_id": W.snapshot,
            "pattern_bindings": [LISTICLE_BINDING],
        })  # fmt: skip
    # An immediate refusal comes from the statement that was changed.
    subject = 0 if package else 1 if argument else None
    return Write(write.statements, subject)


def argument(**changes: Any) -> Write:
    """A new package whose core argument has ``changes``."""
    return package(argument=changes)


def binding(**changes: Any) -> list[dict[str, Any]]:
    """``pattern_bindings`` of one listicle binding with ``changes`` (``OMIT`` drops a key)."""
    values = {**LISTICLE_BINDING, **changes}
    return [{k: v for k, v in values.items() if v is not OMIT}]


def override(channel: str = "linkedin", **changes: Any) -> dict[str, Any]:
    """``channel_overrides`` whose ``channel`` entry has ``changes`` (``OMIT`` drops a key)."""
    values = {**OVERRIDE, **changes}
    return {channel: {k: v for k, v in values.items() if v is not OMIT}}


def source_ref(**changes: Any) -> list[dict[str, Any]]:
    values = {"global_source_doc_id": W.source_doc, "internal_trigger": None, "relevance_note": "Same article", **changes}
    return [{k: v for k, v in values.items() if v is not OMIT}]


def feedback(kind: str, **payload_changes: Any) -> dict[str, Any]:
    values = {**FEEDBACK_PAYLOADS[kind], **payload_changes}
    return {"feedback_type": kind, "payload": {k: v for k, v in values.items() if v is not OMIT}}


# --------------------------------------------------------------------------------------------
# Expected refusals.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NotNull:
    column: str


@dataclass(frozen=True)
class BadInput:
    """The value cannot even be read as the column's type (invalid_text_representation)."""

    error: type[asyncpg.PostgresError] = asyncpg.InvalidTextRepresentationError


@dataclass(frozen=True)
class Case:
    id: str
    write: Write
    refused_by: str | NotNull | BadInput
    at_commit: bool = False


REFUSED: list[Case] = [
    # ---------------------------------------------------------------- CO-01 Brand
    Case("brand: name blank", insert("brands", name="   "), "brands_name_nonblank"),
    Case("brand: name with an escape sequence", insert("brands", name="Acme \x1b[31m"), "brands_name_no_control"),
    Case("brand: name on two lines", insert("brands", name="Acme\nAnalytics"), "brands_name_no_control"),
    Case("brand: slug with spaces/capitals", insert("brands", slug="Acme Analytics"), "brands_slug_format"),
    Case("brand: slug with underscore", insert("brands", slug="acme_analytics"), "brands_slug_format"),
    Case("brand: slug with trailing dash", insert("brands", slug="acme-"), "brands_slug_format"),
    Case("brand: slug taken in the same org", insert("brands", slug="acme-analytics"), "brands_slug_unique"),
    Case("brand: UPDATE slug to another brand's", sql("UPDATE brands SET slug = 'acme-research' WHERE id = $1", W.brand),
         "brands_slug_unique"),
    Case("brand: status archived", sql("UPDATE brands SET status = 'archived' WHERE id = $1", W.brand),
         "brands_status_values"),
    Case("brand: owner_user_ids empty", insert("brands", owner_user_ids=[]), "brands_owner_required"),
    Case("brand: owner not a user of the brand's org", insert("brands", owner_user_ids=[W.other_user]),
         "brands_owner_exists"),
    Case("brand: owner does not exist", insert("brands", owner_user_ids=[uuid4()]), "brands_owner_exists"),
    Case("brand: owner_user_ids duplicated", insert("brands", owner_user_ids=[W.user, W.user]), "brands_owner_exists"),
    Case("brand: owner_user_ids not uuids", insert("brands", owner_user_ids=Sql("'{u_1}'")), BadInput()),
    Case("brand: no primary channel once setup completes", insert("brands", primary_channels=[]),
         "brands_primary_channel_required"),
    Case("brand: UPDATE removing the last primary channel",
         sql("UPDATE brands SET primary_channels = '{}' WHERE id = $1", W.brand), "brands_primary_channel_required"),
    Case("brand: unknown primary channel", insert("brands", primary_channels=["myspace"]),
         "brands_primary_channels_known"),
    Case("brand: duplicated primary channel", insert("brands", primary_channels=["x", "x"]),
         "brands_primary_channels_unique"),
    # ---------------------------------------------------------------- CO-02 Persona
    Case("persona: name blank", insert("personas", name=""), "personas_name_nonblank"),
    Case("persona: name with a tab", insert("personas", name="Ops\tlead"), "personas_name_no_control"),
    Case("persona: description blank", insert("personas", description=" "), "personas_description_short"),
    Case("persona: description not short", insert("personas", description=LONG), "personas_description_short"),
    Case("persona: pain_points empty", insert("personas", pain_points=[]), "personas_pain_points_required"),
    Case("persona: pain_points blank entry", insert("personas", pain_points=[""]), "personas_pain_points_required"),
    Case("persona: goals empty", insert("personas", goals=[]), "personas_goals_required"),
    Case("persona: goals blank entry", insert("personas", goals=["Grow", " "]), "personas_goals_required"),
    Case("persona: pain point longer than a label", insert("personas", pain_points=["x" * 121]),
         "personas_pain_points_required"),
    Case("persona: status inactive (only active/hidden)", insert("personas", status="inactive"), "personas_status_values"),
    Case("persona: status archived",
         sql("UPDATE personas SET status = 'archived' WHERE id = $1", W.persona), "personas_status_values"),
    Case("persona: brand does not exist", insert("personas", brand_id=uuid4()), "personas_brand_id_fkey"),
    # ---------------------------------------------------------------- CO-03 Pillar
    Case("pillar: name blank", insert("pillars", name=""), "pillars_name_nonblank"),
    Case("pillar: name with a C1 control", insert("pillars", name="Craft\x85"), "pillars_name_no_control"),
    Case("pillar: description not short", insert("pillars", description=LONG), "pillars_description_short"),
    Case("pillar: status inactive", insert("pillars", status="inactive"), "pillars_status_values"),
    Case("pillar: UPDATE status archived",
         sql("UPDATE pillars SET status = 'archived' WHERE id = $1", W.pillar), "pillars_status_values"),
    Case("pillar: priority not an int", insert("pillars", priority=Sql("'high'")), BadInput()),
    Case("pillar: priority fractional", insert("pillars", priority=Sql("'1.5'")), BadInput()),
    Case("pillar: priority out of range", insert("pillars", priority=5000), "pillars_priority_range"),
    # ---------------------------------------------------------------- CO-04 User
    Case("user: email malformed", insert("users", email="strategist-at-acme"), "users_email_format"),
    Case("user: email not lowercase", insert("users", email="Creator@Acme.com"), "users_email_format"),
    Case("user: email taken in the org", insert("users", email="strategist@acme.com"), "users_email_unique"),
    Case("user: role owner", insert("users", role="owner"), "users_role_values"),
    Case("user: UPDATE role owner", sql("UPDATE users SET role = 'owner' WHERE id = $1", W.user), "users_role_values"),
    Case("user: status hidden", insert("users", status="hidden"), "users_status_values"),
    Case("user: the org's last active admin demoted",
         sql("UPDATE users SET role = 'manager' WHERE id = $1", W.other_user),
         "users_org_keeps_active_admin", at_commit=True),
    Case("user: the org's last active admin deactivated",
         sql("UPDATE users SET status = 'inactive' WHERE id = $1", W.other_user),
         "users_org_keeps_active_admin", at_commit=True),
    # ---------------------------------------------------------------- CO-05 BrandBrainSnapshot
    Case("snapshot: version 0", insert("brand_brain_snapshots", version=0), "brand_brain_snapshots_version_sequence"),
    Case("snapshot: version equal to the latest", insert("brand_brain_snapshots", version=3),
         "brand_brain_snapshots_version_sequence"),
    Case("snapshot: version skips one (not n+1)", insert("brand_brain_snapshots", version=5),
         "brand_brain_snapshots_version_sequence"),
    Case("snapshot: persona_ids of another brand", insert("brand_brain_snapshots", persona_ids=[W.other_persona]),
         "brand_brain_snapshots_persona_ids_resolved"),
    Case("snapshot: persona_ids nonexistent", insert("brand_brain_snapshots", persona_ids=[uuid4()]),
         "brand_brain_snapshots_persona_ids_resolved"),
    Case("snapshot: persona_ids duplicated", insert("brand_brain_snapshots", persona_ids=[W.persona, W.persona]),
         "brand_brain_snapshots_persona_ids_resolved"),
    Case("snapshot: persona_ids nest full objects",
         insert("brand_brain_snapshots", persona_ids=Sql("""'{"{\\"id\\": \\"persona_1\\"}"}'""")), BadInput()),
    Case("snapshot: pillar_ids of another brand", insert("brand_brain_snapshots", pillar_ids=[W.other_pillar]),
         "brand_brain_snapshots_pillar_ids_resolved"),
    Case("snapshot: pillar_ids nonexistent", insert("brand_brain_snapshots", pillar_ids=[W.pillar, uuid4()]),
         "brand_brain_snapshots_pillar_ids_resolved"),
    Case("snapshot: positioning blank", insert("brand_brain_snapshots", positioning=""),
         "brand_brain_snapshots_positioning_short"),
    Case("snapshot: positioning not short", insert("brand_brain_snapshots", positioning=LONG),
         "brand_brain_snapshots_positioning_short"),
    Case("snapshot: tone_descriptors not a list of labels",
         insert("brand_brain_snapshots", tone_descriptors=Sql("'direct'")), BadInput()),
    Case("snapshot: tone_descriptors blank label", insert("brand_brain_snapshots", tone_descriptors=["direct", ""]),
         "brand_brain_snapshots_tone_descriptors_nonblank"),
    Case("snapshot: offers blank", insert("brand_brain_snapshots", offers=[" "]),
         "brand_brain_snapshots_offers_nonblank"),
    Case("snapshot: offer longer than a label", insert("brand_brain_snapshots", offers=["x" * 121]),
         "brand_brain_snapshots_offers_nonblank"),
    Case("snapshot: taboos not short", insert("brand_brain_snapshots", taboos=[LONG]),
         "brand_brain_snapshots_taboos_short"),
    Case("snapshot: tone_profile above 100", insert("brand_brain_snapshots", tone_profile={"warmth": 101}),
         "brand_brain_snapshots_tone_profile_range"),
    Case("snapshot: tone_profile bad dimension", insert("brand_brain_snapshots", tone_profile={"Warmth!": 50}),
         "brand_brain_snapshots_tone_profile_range"),
    Case("snapshot: banned word listed twice (case-insensitive)",
         insert("brand_brain_snapshots", banned_words=[{"word": "Synergy"}, {"word": "synergy"}]),
         "brand_brain_snapshots_banned_words_valid"),
    Case("snapshot: banned word severity unknown",
         insert("brand_brain_snapshots", banned_words=[{"word": "synergy", "severity": "forbidden"}]),
         "brand_brain_snapshots_banned_words_valid"),
    Case("snapshot: voice marker weight above 10",
         insert("brand_brain_snapshots", voice_markers=[{"phrase": "revenue story", "weight": 11}]),
         "brand_brain_snapshots_voice_markers_valid"),
    Case("snapshot: stance category unknown",
         insert("brand_brain_snapshots", stances=[{"stance": "Pipeline first.", "category": "troll"}]),
         "brand_brain_snapshots_stances_valid"),
    # ---------------------------------------------------------------- CO-06 BrandRuntimeContext
    Case("runtime context: channel_overrides empty", insert("brand_runtime_contexts", channel_overrides={}),
         "brand_runtime_contexts_channel_overrides_valid"),
    Case("runtime context: keyed by unknown channel",
         insert("brand_runtime_contexts", channel_overrides={"linkedin": OVERRIDE, "myspace": OVERRIDE}),
         "brand_runtime_contexts_channels_known"),
    Case("runtime context: UPDATE adding an unknown channel key",
         sql("UPDATE brand_runtime_contexts SET channel_overrides = channel_overrides"
             " || jsonb_build_object('myspace', channel_overrides->'linkedin') WHERE id = $1", W.runtime_context),
         "brand_runtime_contexts_channels_known"),
    Case("runtime context: override without tone_bias",
         insert("brand_runtime_contexts", channel_overrides=override(tone_bias=OMIT)),
         "brand_runtime_contexts_channel_overrides_valid"),
    Case("runtime context: override with empty tone_bias",
         insert("brand_runtime_contexts", channel_overrides=override(tone_bias={})),
         "brand_runtime_contexts_channel_overrides_valid"),
    Case("runtime context: tone_bias 1.5",
         insert("brand_runtime_contexts", channel_overrides=override(tone_bias={"story_vs_tactical": 1.5})),
         "brand_runtime_contexts_channel_overrides_valid"),
    Case("runtime context: tone_bias below 0",
         insert("brand_runtime_contexts", channel_overrides=override("x", tone_bias={"aggressive_vs_safe": -0.1})),
         "brand_runtime_contexts_channel_overrides_valid"),
    Case("runtime context: missing length_mode",
         insert("brand_runtime_contexts", channel_overrides=override(length_mode=OMIT)),
         "brand_runtime_contexts_channel_overrides_valid"),
    Case("runtime context: length_mode epic",
         insert("brand_runtime_contexts", channel_overrides=override(length_mode="epic")),
         "brand_runtime_contexts_channel_overrides_valid"),
    Case("runtime context: missing risk_mode",
         insert("brand_runtime_contexts", channel_overrides=override("x", risk_mode=OMIT)),
         "brand_runtime_contexts_channel_overrides_valid"),
    Case("runtime context: risk_mode wild",
         insert("brand_runtime_contexts", channel_overrides=override(risk_mode="wild")),
         "brand_runtime_contexts_channel_overrides_valid"),
    Case("runtime context: freeform knob in an override",
         insert("brand_runtime_contexts", channel_overrides=override(ui_flag=True)),
         "brand_runtime_contexts_channel_overrides_valid"),
    Case("runtime context: version 0", insert("brand_runtime_contexts", version=0),
         "brand_runtime_contexts_version_positive"),
    Case("runtime context: snapshot of another brand",
         insert("brand_runtime_contexts", brand_brain_snapshot_id=W.snapshot),
         "brand_runtime_contexts_snapshot_same_brand"),
    Case("runtime context: a second one for the brand",
         insert("brand_runtime_contexts", brand_id=W.brand, brand_brain_snapshot_id=W.snapshot),
         "brand_runtime_contexts_one_per_brand"),
    # ---------------------------------------------------------------- CO-07 BrandMemoryFragment
    Case("memory fragment: source_type scraped", insert("memory_fragments", source_type="scraped"),
         "memory_fragments_source_type_values"),
    Case("memory fragment: raw_text blank", insert("memory_fragments", raw_text="  "), "memory_fragments_raw_text_short"),
    Case("memory fragment: raw_text over 500 chars", insert("memory_fragments", raw_text=LONG),
         "memory_fragments_raw_text_short"),
    Case("memory fragment: embedding_dim 0", insert("memory_fragments", embedding_dim=0),
         "memory_fragments_embedding_dim_positive"),
    Case("memory fragment: embedding_dim huge", insert("memory_fragments", embedding_dim=10_000),
         "memory_fragments_embedding_dim_positive"),
    Case("memory fragment: embedding_model blank", insert("memory_fragments", embedding_model=""),
         "memory_fragments_embedding_model_nonblank"),
    Case("memory fragment: tag blank", insert("memory_fragments", tags=["board", ""]), "memory_fragments_tags_nonblank"),
    Case("memory fragment: persona of another brand", insert("memory_fragments", persona_id=W.other_persona),
         "memory_fragments_persona_same_brand"),
    Case("memory fragment: pillar of another brand", insert("memory_fragments", pillar_id=W.other_pillar),
         "memory_fragments_pillar_same_brand"),
    # ---------------------------------------------------------------- CO-08 GlobalSourceDoc
    Case("source doc: source_type tiktok", insert("global_source_docs", source_type="tiktok"),
         "global_source_docs_source_type_values"),
    Case("source doc: source_url not a url", insert("global_source_docs", source_url="example.com/post"),
         "global_source_docs_source_url_format"),
    Case("source doc: language not a code", insert("global_source_docs", language="English"),
         "global_source_docs_language_format"),
    Case("source doc: text blank", insert("global_source_docs", text="   "), "global_source_docs_text_nonblank"),
    Case("source doc: content_hash not sha256", insert("global_source_docs", content_hash="abc"),
         "global_source_docs_content_hash_format"),
    Case("source doc: same content twice (dedupe)",
         insert("global_source_docs", content_hash="d" * 64) + insert("global_source_docs", content_hash="d" * 64),
         "global_source_docs_dedupe"),
    # ---------------------------------------------------------------- CO-09 OpportunityCard
    Case("card: persona_id null with scope brand", insert("opportunity_cards", persona_id=None),
         "opportunity_cards_persona_pillar_required"),
    Case("card: pillar_id null with scope brand", insert("opportunity_cards", pillar_id=None),
         "opportunity_cards_persona_pillar_required"),
    Case("card: scope unknown", insert("opportunity_cards", scope="team"), "opportunity_cards_scope_values"),
    Case("card: source_refs empty", insert("opportunity_cards", source_refs=[]), "opportunity_cards_source_refs_valid"),
    Case("card: source ref with both doc and internal trigger",
         insert("opportunity_cards", source_refs=source_ref(internal_trigger="product_launch")),
         "opportunity_cards_source_refs_valid"),
    Case("card: source ref with neither doc nor internal trigger",
         insert("opportunity_cards", source_refs=source_ref(global_source_doc_id=OMIT)),
         "opportunity_cards_source_refs_valid"),
    Case("card: source ref with neither (both null)",
         insert("opportunity_cards", source_refs=source_ref(global_source_doc_id=None)),
         "opportunity_cards_source_refs_valid"),
    Case("card: source ref without relevance note",
         insert("opportunity_cards", source_refs=source_ref(relevance_note=OMIT)), "opportunity_cards_source_refs_valid"),
    Case("card: source ref to a document that does not exist",
         insert("opportunity_cards", source_refs=source_ref(global_source_doc_id=uuid4())),
         "opportunity_cards_source_docs_exist"),
    Case("card: angle_summary blank", insert("opportunity_cards", angle_summary=""), "opportunity_cards_angle_summary_short"),
    Case("card: angle_summary not short", insert("opportunity_cards", angle_summary=LONG),
         "opportunity_cards_angle_summary_short"),
    Case("card: opportunity_type viral", insert("opportunity_cards", opportunity_type="viral"),
         "opportunity_cards_opportunity_type_values"),
    Case("card: score -1", insert("opportunity_cards", score=-1), "opportunity_cards_score_range"),
    Case("card: score 101", insert("opportunity_cards", score=101), "opportunity_cards_score_range"),
    Case("card: UPDATE score 101", sql("UPDATE opportunity_cards SET score = 101 WHERE id = $1", W.card),
         "opportunity_cards_score_range"),
    Case("card: score not numeric", insert("opportunity_cards", score=Sql("'high'")), BadInput()),
    Case("card: lifecycle_state archived", insert("opportunity_cards", lifecycle_state="archived"),
         "opportunity_cards_lifecycle_state_values"),
    Case("card: UPDATE lifecycle_state archived",
         sql("UPDATE opportunity_cards SET lifecycle_state = 'archived' WHERE id = $1", W.card),
         "opportunity_cards_lifecycle_state_values"),
    Case("card: UPDATE of created_at",
         sql("UPDATE opportunity_cards SET created_at = created_at - interval '1 day' WHERE id = $1", W.card),
         "opportunity_cards_created_at_immutable"),
    Case("card: persona of another brand", insert("opportunity_cards", persona_id=W.other_persona),
         "opportunity_cards_persona_same_brand"),
    Case("card: pillar of another brand", insert("opportunity_cards", pillar_id=W.other_pillar),
         "opportunity_cards_pillar_same_brand"),
    # ---------------------------------------------------------------- CO-10 OpportunityBatch
    Case("batch: date_scope free text", insert("opportunity_batches", date_scope="yesterday"),
         "opportunity_batches_date_scope_format"),
    Case("batch: date_scope 2025-02-30", insert("opportunity_batches", date_scope="2025-02-30"),
         "opportunity_batches_date_scope_format"),
    Case("batch: date_scope week 54", insert("opportunity_batches", date_scope="2025-W54"),
         "opportunity_batches_date_scope_format"),
    Case("batch: date_scope week 00", insert("opportunity_batches", date_scope="2025-W00"),
         "opportunity_batches_date_scope_format"),
    Case("batch: a card of another brand", insert("opportunity_batches", brand_id=W.other_brand),
         "opportunity_batches_cards_same_brand"),
    Case("batch: a card that does not exist", insert("opportunity_batches", opportunity_ids=[W.card, uuid4()]),
         "opportunity_batches_cards_same_brand"),
    Case("batch: opportunity_ids duplicated", insert("opportunity_batches", opportunity_ids=[W.card, W.card]),
         "opportunity_batches_cards_same_brand"),
    Case("batch: opportunity_ids not a list", insert("opportunity_batches", opportunity_ids=Sql("'opp_501'")),
         BadInput()),
    Case("batch: a second batch for the same date_scope", insert("opportunity_batches", date_scope="2025-02-01"),
         "opportunity_batches_one_per_scope"),
    # ---------------------------------------------------------------- CO-11 PatternSourcePost
    Case("source post: both brand_id and is_global", insert("pattern_source_posts", is_global=True),
         "pattern_source_posts_brand_or_global"),
    Case("source post: neither brand_id nor is_global", insert("pattern_source_posts", brand_id=None),
         "pattern_source_posts_brand_or_global"),
    Case("source post: channel unknown", insert("pattern_source_posts", channel="myspace"),
         "pattern_source_posts_channel_fkey"),
    Case("source post: raw_text blank", insert("pattern_source_posts", raw_text=""),
         "pattern_source_posts_raw_text_nonblank"),
    Case("source post: impressions negative", insert("pattern_source_posts", impressions=-1),
         "pattern_source_posts_impressions_nonnegative"),
    Case("source post: engagements negative", insert("pattern_source_posts", engagements=-5),
         "pattern_source_posts_engagements_nonnegative"),
    # ---------------------------------------------------------------- CO-12 PatternTemplate
    Case("template: name blank", insert("pattern_templates", name=""), "pattern_templates_name_nonblank"),
    Case("template: name with a bell", insert("pattern_templates", name="Hook\x07"), "pattern_templates_name_no_control"),
    Case("template: channel_constraints empty", insert("pattern_templates", channel_constraints=[]),
         "pattern_templates_channel_constraints_valid"),
    Case("template: channel_constraints unknown channel", insert("pattern_templates", channel_constraints=["myspace"]),
         "pattern_templates_channels_known"),
    Case("template: channel_constraints mixes * and a channel",
         insert("pattern_templates", channel_constraints=["*", "linkedin"]), "pattern_templates_channel_constraints_valid"),
    Case("template: channel_constraints duplicated", insert("pattern_templates", channel_constraints=["x", "x"]),
         "pattern_templates_channel_constraints_valid"),
    Case("template: structure empty", insert("pattern_templates", structure=[]), "pattern_templates_structure_valid"),
    Case("template: structure beat not snake_case", insert("pattern_templates", structure=["Hook!"]),
         "pattern_templates_structure_valid"),
    Case("template: structure beat duplicated", insert("pattern_templates", structure=["hook", "hook"]),
         "pattern_templates_structure_valid"),
    Case("template: example_source_post_ids empty", insert("pattern_templates", example_source_post_ids=[]),
         "pattern_templates_examples_required"),
    Case("template: example that does not exist", insert("pattern_templates", example_source_post_ids=[uuid4()]),
         "pattern_templates_examples_exist"),
    Case("template: example listed twice",
         insert("pattern_templates", example_source_post_ids=[W.source_post, W.source_post]),
         "pattern_templates_examples_exist"),
    Case("template: example_source_post_ids not uuids",
         insert("pattern_templates", example_source_post_ids=Sql("'{psp_77}'")), BadInput()),
    Case("template: usage_stats negative count",
         insert("pattern_templates", usage_stats={"times_used": -1, "avg_engagement_rate": None}),
         "pattern_templates_usage_stats_valid"),
    Case("template: usage_stats rate above 1",
         insert("pattern_templates", usage_stats={"times_used": 1, "avg_engagement_rate": 1.5}),
         "pattern_templates_usage_stats_valid"),
    Case("template: status retired", insert("pattern_templates", status="retired"), "pattern_templates_status_values"),
    # ---------------------------------------------------------------- CO-13 PatternUsage
    Case("pattern usage: channel unknown", insert("pattern_usages", channel="myspace"), "pattern_usages_channel_fkey"),
    Case("pattern usage: channel differs from the variant's", insert("pattern_usages", channel="x"),
         "pattern_usages_variant_channel"),
    Case("pattern usage: variant of another brand", insert("pattern_usages", brand_id=W.other_brand),
         "pattern_usages_variant_same_brand"),
    Case("pattern usage: template that does not exist", insert("pattern_usages", pattern_template_id=uuid4()),
         "pattern_usages_pattern_template_id_fkey"),
    Case("pattern usage: outcome metric negative", insert("pattern_usages", outcome={"impressions": -5}),
         "pattern_usages_outcome_valid"),
    Case("pattern usage: outcome metric name not snake_case", insert("pattern_usages", outcome={"Impressions": 5}),
         "pattern_usages_outcome_valid"),
    # ---------------------------------------------------------------- CO-14 ContentPackage
    Case("package: origin 'opportunity' without opportunity_id", package({"opportunity_id": None}),
         "content_packages_origin_required"),
    Case("package: origin 'manual' without origin_note", package({"origin_type": "manual", "opportunity_id": None}),
         "content_packages_origin_required"),
    Case("package: origin 'evergreen_seed' without origin_note",
         package({"origin_type": "evergreen_seed", "opportunity_id": None}), "content_packages_origin_required"),
    Case("package: manual origin with blank origin_note",
         package({"origin_type": "manual", "opportunity_id": None, "origin_note": "  "}),
         "content_packages_origin_note_short"),
    Case("package: manual origin that also names an opportunity",
         package({"origin_type": "manual", "origin_note": "Founder's idea"}), "content_packages_origin_required"),
    Case("package: origin_type unknown", package({"origin_type": "import"}), "content_packages_origin_type_values"),
    Case("package: opportunity that does not exist", package({"opportunity_id": uuid4()}),
         "content_packages_opportunity_same_brand"),
    Case("package: status deleted", sql("UPDATE content_packages SET status = 'deleted' WHERE id = $1", W.package),
         "content_packages_status_values"),
    Case("package: multi-scope package with no channel plan (at COMMIT)", package(plans=()),
         "content_packages_channel_plans_required", at_commit=True),
    Case("package: deleting the only channel plan (at COMMIT)",
         package(package_id=_extra_id("package_2"))
         + sql("DELETE FROM channel_plans WHERE content_package_id = $1", _extra_id("package_2")),
         "content_packages_channel_plans_required", at_commit=True),
    Case("package: core argument missing (at COMMIT)", package(with_argument=False),
         "content_packages_core_argument_fk", at_commit=True),
    Case("package: single scope without channel", package({"channel_scope": "single"}, plans=()),
         "content_packages_single_channel"),
    Case("package: multi scope with a single channel set", package({"channel": "linkedin"}),
         "content_packages_single_channel"),
    Case("package: single scope with two channel plans (at COMMIT)",
         package({"channel_scope": "single", "channel": "linkedin"}, plans=("linkedin", "x")),
         "content_packages_single_channel", at_commit=True),
    Case("package: single scope with its plan on another channel (at COMMIT)",
         package({"channel_scope": "single", "channel": "linkedin"}, plans=("x",)),
         "content_packages_single_channel", at_commit=True),
    # ---------------------------------------------------------------- CO-15 CoreArgument
    Case("core argument: thesis of three sentences", argument(thesis=THREE_SENTENCES), "core_arguments_thesis_short"),
    Case("core argument: thesis blank", argument(thesis=" "), "core_arguments_thesis_short"),
    Case("core argument: thesis too long", argument(thesis="x" * 401), "core_arguments_thesis_short"),
    Case("core argument: UPDATE thesis to three sentences",
         sql("UPDATE core_arguments SET thesis = $2 WHERE id = $1", W.core_argument, THREE_SENTENCES),
         "core_arguments_thesis_short"),
    Case("core argument: 2 supporting points", argument(supporting_points=POINTS[:2]),
         "core_arguments_supporting_points_count"),
    Case("core argument: 8 supporting points", argument(supporting_points=POINTS[:8]),
         "core_arguments_supporting_points_count"),
    Case("core argument: blank supporting point", argument(supporting_points=[*POINTS[:2], ""]),
         "core_arguments_supporting_points_count"),
    Case("core argument: persona of another brand (at COMMIT)", argument(persona_id=W.other_persona),
         "core_arguments_same_brand", at_commit=True),
    Case("core argument: pillar of another brand (at COMMIT)", argument(pillar_id=W.other_pillar),
         "core_arguments_same_brand", at_commit=True),
    Case("core argument: written before its package, persona of another brand (at COMMIT)",
         sql("INSERT INTO core_arguments (id, content_package_id, persona_id, pillar_id, thesis, supporting_points)"
             " VALUES ($1, $2, $3, $4, 'A thesis.', $5)",
             _extra_id("argument_2"), _extra_id("package_2"), W.other_persona, W.pillar, POINTS[:3])
         + insert_row("content_packages", {"id": _extra_id("package_2"), "brand_id": W.brand, "opportunity_id": W.card,
                                           "core_argument_id": _extra_id("argument_2"), "channel_scope": "single",
                                           "channel": "x"}),
         "core_arguments_same_brand", at_commit=True),
    Case("core argument: persona that does not exist (at COMMIT)", argument(persona_id=uuid4()),
         "core_arguments_persona_id_fkey", at_commit=True),
    Case("core argument: UPDATE to a persona that does not exist",
         sql("UPDATE core_arguments SET persona_id = $2 WHERE id = $1", W.core_argument, uuid4()),
         "core_arguments_persona_pillar_locked"),
    Case("core argument: UPDATE persona_id (locked for the package)",
         sql("UPDATE core_arguments SET persona_id = $2 WHERE id = $1", W.core_argument, W.persona_2),
         "core_arguments_persona_pillar_locked"),
    Case("core argument: UPDATE pillar_id (locked for the package)",
         sql("UPDATE core_arguments SET pillar_id = $2 WHERE id = $1", W.core_argument, W.pillar_bts),
         "core_arguments_persona_pillar_locked"),
    Case("core argument: a second one for the package",
         sql("INSERT INTO core_arguments (content_package_id, persona_id, pillar_id, thesis, supporting_points)"
             " VALUES ($1, $2, $3, 'Another thesis.', $4)", W.package, W.persona, W.pillar, POINTS[:3]),
         "core_arguments_one_per_package"),
    # ---------------------------------------------------------------- CO-16 ChannelPlan
    Case("channel plan: channel tiktok", insert("channel_plans", channel="tiktok"), "channel_plans_channel_fkey"),
    Case("channel plan: pattern_bindings empty", insert("channel_plans", pattern_bindings=[]),
         "channel_plans_pattern_bindings_valid"),
    Case("channel plan: binding without pattern_template_id",
         insert("channel_plans", pattern_bindings=binding(pattern_template_id=OMIT)), "channel_plans_pattern_bindings_valid"),
    Case("channel plan: binding with a non-uuid pattern_template_id",
         insert("channel_plans", pattern_bindings=binding(pattern_template_id="pt_1")),
         "channel_plans_pattern_bindings_valid"),
    Case("channel plan: binding without beats", insert("channel_plans", pattern_bindings=binding(beats=OMIT)),
         "channel_plans_pattern_bindings_valid"),
    Case("channel plan: binding with empty beats", insert("channel_plans", pattern_bindings=binding(beats={})),
         "channel_plans_pattern_bindings_valid"),
    Case("channel plan: beat not a structure element name",
         insert("channel_plans", pattern_bindings=binding(beats={"The Hook": "x"})), "channel_plans_pattern_bindings_valid"),
    Case("channel plan: binding without target_variants",
         insert("channel_plans", pattern_bindings=binding(target_variants=OMIT)), "channel_plans_pattern_bindings_valid"),
    Case("channel plan: target_variants 0", insert("channel_plans", pattern_bindings=binding(target_variants=0)),
         "channel_plans_pattern_bindings_valid"),
    Case("channel plan: target_variants 11", insert("channel_plans", pattern_bindings=binding(target_variants=11)),
         "channel_plans_pattern_bindings_valid"),
    Case("channel plan: target_variants not an int",
         insert("channel_plans", pattern_bindings=binding(target_variants="two")), "channel_plans_pattern_bindings_valid"),
    Case("channel plan: pattern that does not allow the channel",
         insert("channel_plans", pattern_bindings=binding(pattern_template_id=W.template)),
         "channel_plans_patterns_allowed"),
    Case("channel plan: pattern that does not exist",
         insert("channel_plans", pattern_bindings=binding(pattern_template_id=uuid4())), "channel_plans_patterns_allowed"),
    Case("channel plan: snapshot that does not exist", insert("channel_plans", brand_brain_snapshot_id=uuid4()),
         "channel_plans_snapshot_same_brand"),
    Case("channel plan: snapshot of another brand", insert("channel_plans", brand_brain_snapshot_id=W.other_snapshot),
         "channel_plans_snapshot_same_brand"),
    Case("channel plan: a second plan for the same channel", insert("channel_plans", channel="linkedin"),
         "channel_plans_one_per_channel"),
    # ---------------------------------------------------------------- CO-17 ContentVariant
    Case("variant: body blank", insert("content_variants", body=""), "content_variants_body_nonblank"),
    Case("variant: status scheduled", insert("content_variants", status="scheduled"), "content_variants_status_values"),
    Case("variant: UPDATE status scheduled",
         sql("UPDATE content_variants SET status = 'scheduled' WHERE id = $1", W.variant), "content_variants_status_values"),
    Case("variant: channel unknown", insert("content_variants", channel="myspace"), "content_variants_channel_fkey"),
    Case("variant: channel differs from its plan's", insert("content_variants", channel="x"),
         "content_variants_plan_channel"),
    Case("variant: plan of another package",
         package(package_id=_extra_id("package_2")) + insert("content_variants", content_package_id=_extra_id("package_2")),
         "content_variants_plan_of_package"),
    Case("variant: origin without generated_by", insert("content_variants", generated_by=None),
         NotNull("generated_by")),
    Case("variant: generated_by blank", insert("content_variants", generated_by=" "),
         "content_variants_generated_by_nonblank"),
    Case("variant: source_variant_id not a uuid", insert("content_variants", source_variant_id=Sql("'cv_1'")),
         BadInput()),
    Case("variant: is its own source",
         sql("UPDATE content_variants SET source_variant_id = id WHERE id = $1", W.variant),
         "content_variants_not_own_source"),
    Case("variant: persona of another brand", insert("content_variants", persona_id=W.other_persona),
         "content_variants_persona_same_brand"),
    Case("variant: pillar of another brand", insert("content_variants", pillar_id=W.other_pillar),
         "content_variants_pillar_same_brand"),
    # ---------------------------------------------------------------- CO-18 FeedbackEvent
    Case("feedback: feedback_type unknown", insert("feedback_events", feedback_type="like"),
         "feedback_events_feedback_type_values"),
    Case("feedback: variant_rating with an edit payload",
         insert("feedback_events", payload=FEEDBACK_PAYLOADS["edit_applied"]), "feedback_events_payload_valid"),
    Case("feedback: never_again with a rating payload",
         insert("feedback_events", feedback_type="never_again", payload={"rating": 4}), "feedback_events_payload_valid"),
    Case("feedback: payload not an object", insert("feedback_events", payload=4), "feedback_events_payload_valid"),
    Case("feedback: rating 6", insert("feedback_events", **feedback("variant_rating", rating=6)),
         "feedback_events_payload_valid"),
    Case("feedback: rating 0", insert("feedback_events", **feedback("variant_rating", rating=0)),
         "feedback_events_payload_valid"),
    Case("feedback: rating dimension 6",
         insert("feedback_events", **feedback("variant_rating", dimensions={"tone_match": 6})),
         "feedback_events_payload_valid"),
    Case("feedback: rating with an unknown key",
         insert("feedback_events", **feedback("variant_rating", stars=5)), "feedback_events_payload_valid"),
    Case("feedback: variant_rating without content_variant_id", insert("feedback_events", content_variant_id=None),
         "feedback_events_variant_required"),
    Case("feedback: edit_applied without content_variant_id",
         insert("feedback_events", content_variant_id=None, **feedback("edit_applied")), "feedback_events_variant_required"),
    Case("feedback: performance_snapshot without content_variant_id",
         insert("feedback_events", content_variant_id=None, **feedback("performance_snapshot")),
         "feedback_events_variant_required"),
    Case("feedback: edit_applied with no actual edit",
         insert("feedback_events", **feedback("edit_applied", edited_text="We ship dashboards.")),
         "feedback_events_payload_valid"),
    Case("feedback: edit_applied edit_distance above 1",
         insert("feedback_events", **feedback("edit_applied", edit_distance=1.5)), "feedback_events_payload_valid"),
    Case("feedback: never_again phrase target without phrase",
         insert("feedback_events", **feedback("never_again", phrase=OMIT)), "feedback_events_payload_valid"),
    Case("feedback: never_again target unknown",
         insert("feedback_events", **feedback("never_again", target="everything")), "feedback_events_payload_valid"),
    Case("feedback: rating dimension fractional",
         insert("feedback_events", **feedback("variant_rating", dimensions={"tone_match": 4.5})),
         "feedback_events_payload_valid"),
    Case("feedback: saved_as_example with an unknown key",
         insert("feedback_events", **feedback("saved_as_example", fragment="frag_42")), "feedback_events_payload_valid"),
    Case("feedback: saved_as_example fragment id not a uuid",
         insert("feedback_events", **feedback("saved_as_example", memory_fragment_id="frag_42")),
         "feedback_events_payload_valid"),
    Case("feedback: performance_snapshot with no metrics",
         insert("feedback_events", **feedback("performance_snapshot", metrics={})), "feedback_events_payload_valid"),
    Case("feedback: performance_snapshot naive captured_at",
         insert("feedback_events", **feedback("performance_snapshot", captured_at="2025-02-03T09:00:00")),
         "feedback_events_payload_valid"),
    Case("feedback: variant of another brand", insert("feedback_events", brand_id=W.other_brand),
         "feedback_events_variant_same_brand"),
    Case("feedback: opportunity of another brand",
         insert("feedback_events", brand_id=W.other_brand, content_variant_id=None, opportunity_id=W.card,
                **feedback("never_again", target="opportunity")),
         "feedback_events_opportunity_same_brand"),
    # ---------------------------------------------------------------- CO-19 BrandPreferences
    Case("preferences: pattern_weights keyed by non-uuid",
         insert("brand_preferences", pattern_weights={"pt_confessional_1": 1.4}), "brand_preferences_pattern_weights_valid"),
    Case("preferences: pattern weight negative", insert("brand_preferences", pattern_weights={W.template: -1}),
         "brand_preferences_pattern_weights_valid"),
    Case("preferences: pattern weight above 10", insert("brand_preferences", pattern_weights={W.template: 11}),
         "brand_preferences_pattern_weights_valid"),
    Case("preferences: tone bias 2", insert("brand_preferences", tone_bias_overrides={"story_vs_tactical": 2}),
         "brand_preferences_tone_bias_valid"),
    Case("preferences: persona_pillar_bias key not persona::pillar",
         insert("brand_preferences", persona_pillar_bias={"persona_1::pillar_strategy": 1.2}),
         "brand_preferences_persona_pillar_bias_valid"),
    Case("preferences: opportunity_scoring_weights empty", insert("brand_preferences", opportunity_scoring_weights={}),
         "brand_preferences_scoring_weights_valid"),
    Case("preferences: scoring weight key 'virality'",
         insert("brand_preferences", opportunity_scoring_weights={"virality": 1.0}), "brand_preferences_scoring_weights_valid"),
    Case("preferences: version 0", insert("brand_preferences", version=0), "brand_preferences_version_positive"),
    Case("preferences: a second row for the brand", insert("brand_preferences", brand_id=W.brand),
         "brand_preferences_one_per_brand"),
    # ---------------------------------------------------------------- CO-20 GlobalPriors
    Case("priors: a pattern_stats key equal to a brand id",
         insert("global_priors", pattern_stats={W.brand: {"avg_engagement_rate": 0.01, "times_used": 3}}),
         "global_priors_no_brand_ids"),
    Case("priors: a brand id inside channel_stats",
         insert("global_priors", channel_stats={"linkedin": {"times_used": 1, "top_brand": W.brand}}),
         "global_priors_no_brand_ids"),
    Case("priors: id equal to a brand id", insert("global_priors", id=W.brand), "global_priors_no_brand_ids"),
    Case("priors: segment equal to a brand id",
         sql("UPDATE global_priors SET segment = $2::uuid::text WHERE id = $1", W.priors, W.brand),
         "global_priors_no_brand_ids"),
    Case("priors: UPDATE adding a brand id", sql(
        "UPDATE global_priors SET pattern_stats = pattern_stats || jsonb_build_object($2::uuid::text, '{}'::jsonb)"
        " WHERE id = $1", W.priors, W.other_brand), "global_priors_no_brand_ids"),
    Case("priors: default_tone_bias empty", insert("global_priors", default_tone_bias={}),
         "global_priors_default_tone_bias_valid"),
    Case("priors: default_tone_bias above 1",
         insert("global_priors", default_tone_bias={"linkedin": {"story_vs_tactical": 2}}),
         "global_priors_default_tone_bias_valid"),
    Case("priors: default_tone_bias keyed by unknown channel",
         insert("global_priors", default_tone_bias={"myspace": {"story_vs_tactical": 0.5}}), "global_priors_channels_known"),
    Case("priors: default_opportunity_weights empty", insert("global_priors", default_opportunity_weights={}),
         "global_priors_default_weights_required"),
    Case("priors: pattern_stats keyed by non-uuid",
         insert("global_priors", pattern_stats={"pt_confessional_1": {"times_used": 1}}), "global_priors_pattern_stats_valid"),
    Case("priors: pattern_stats negative count",
         insert("global_priors", pattern_stats={W.template: {"times_used": -1}}), "global_priors_pattern_stats_valid"),
    Case("priors: channel_stats unknown channel",
         insert("global_priors", channel_stats={"myspace": {"times_used": 1}}), "global_priors_channels_known"),
    Case("priors: channel_stats rate above 1",
         insert("global_priors", channel_stats={"x": {"avg_engagement_rate": 2}}), "global_priors_channel_stats_valid"),
    Case("priors: segment not a slug", insert("global_priors", segment="Default Segment"), "global_priors_segment_format"),
    Case("priors: a second row for the segment", insert("global_priors", segment="default"),
         "global_priors_segment_unique"),
    # ---------------------------------------------------------------- CO-21 ChannelConfig
    Case("channel config: channel unknown", insert("channel_configs", channel="myspace"), "channel_configs_channel_fkey"),
    Case("channel config: status pending", insert("channel_configs", status="pending"), "channel_configs_status_values"),
    Case("channel config: UPDATE status pending",
         sql("UPDATE channel_configs SET status = 'pending' WHERE id = $1", W.channel_config),
         "channel_configs_status_values"),
    Case("channel config: scopes blank entry", insert("channel_configs", scopes=[""]), "channel_configs_scopes_valid"),
    Case("channel config: scopes over 64", insert("channel_configs", scopes=[f"s{i}" for i in range(65)]),
         "channel_configs_scopes_valid"),
    Case("channel config: rate_limits posts_per_day 0", insert("channel_configs", rate_limits={"posts_per_day": 0}),
         "channel_configs_rate_limits_valid"),
    Case("channel config: rate_limits posts_per_hour fractional",
         insert("channel_configs", rate_limits={"posts_per_hour": 1.5}), "channel_configs_rate_limits_valid"),
    Case("channel config: rate_limits unknown key", insert("channel_configs", rate_limits={"burst": 3}),
         "channel_configs_rate_limits_valid"),
    Case("channel config: rate_limits unknown key set to null", insert("channel_configs", rate_limits={"burst": None}),
         "channel_configs_rate_limits_valid"),
    Case("channel config: rate_limits min_gap_seconds negative",
         insert("channel_configs", rate_limits={"min_gap_seconds": -1}), "channel_configs_rate_limits_valid"),
    Case("channel config: account_handle blank", insert("channel_configs", account_handle=" "),
         "channel_configs_account_handle_nonblank"),
    Case("channel config: a second config for the channel", insert("channel_configs", channel="linkedin"),
         "channel_configs_one_per_channel"),
    # ---------------------------------------------------------------- CO-22 PublishingJob
    Case("publishing job: status queued", insert("publishing_jobs", status="queued"), "publishing_jobs_status_values"),
    Case("publishing job: failed without last_error", insert("publishing_jobs", status="failed"),
         "publishing_jobs_failed_has_error"),
    Case("publishing job: UPDATE to failed without last_error",
         sql("UPDATE publishing_jobs SET status = 'failed' WHERE id = $1", W.job), "publishing_jobs_failed_has_error"),
    Case("publishing job: last_error not short", insert("publishing_jobs", status="failed", last_error=LONG),
         "publishing_jobs_last_error_short"),
    Case("publishing job: running without a lease", insert("publishing_jobs", status="running"),
         "publishing_jobs_running_has_lease"),
    Case("publishing job: attempts above max_attempts", insert("publishing_jobs", attempts=6, max_attempts=5),
         "publishing_jobs_attempts_within_max"),
    Case("publishing job: attempts negative", insert("publishing_jobs", attempts=-1), "publishing_jobs_attempts_nonnegative"),
    Case("publishing job: max_attempts above ceiling", insert("publishing_jobs", max_attempts=21),
         "publishing_jobs_max_attempts_range"),
    Case("publishing job: a second 'success' job for the variant",
         sql("UPDATE publishing_jobs SET status = 'success' WHERE id = $1", W.job)
         + insert("publishing_jobs", status="success"),
         "publishing_jobs_one_success_per_variant"),
    Case("publishing job: channel differs from the variant's", insert("publishing_jobs", channel="x"),
         "publishing_jobs_variant_channel"),
    Case("publishing job: variant of another brand", insert("publishing_jobs", brand_id=W.other_brand),
         "publishing_jobs_variant_same_brand"),
    Case("publishing job: dedupe_key used twice",
         insert("publishing_jobs", dedupe_key="sched-1") + insert("publishing_jobs", dedupe_key="sched-1"),
         "publishing_jobs_dedupe_unique"),
    # ---------------------------------------------------------------- CO-23 Org
    Case("org: name blank", insert("orgs", name=" "), "orgs_name_nonblank"),
    Case("org: name with DEL", insert("orgs", name="Acme\x7f"), "orgs_name_no_control"),
    Case("org: slug with spaces", insert("orgs", slug="Acme Agency"), "orgs_slug_format"),
    Case("org: slug taken", insert("orgs", slug="acme-agency"), "orgs_slug_unique"),
    Case("org: status deleted", insert("orgs", status="deleted"), "orgs_status_values"),
    # ---------------------------------------------------------------- CO-24 BrandMembership
    Case("membership: role owner", insert("brand_memberships", role="owner"), "brand_memberships_role_values"),
    Case("membership: user of another org", insert("brand_memberships", user_id=W.other_user),
         "brand_memberships_same_org"),
    Case("membership: the same user twice", insert("brand_memberships", brand_id=W.brand),
         "brand_memberships_unique"),
    # ---------------------------------------------------------------- CO-25 ApiKey
    Case("api key: name blank", insert("api_keys", name=""), "api_keys_name_nonblank"),
    Case("api key: name with a carriage return", insert("api_keys", name="ci\rkey"), "api_keys_name_no_control"),
    Case("api key: lookup wrong shape", insert("api_keys", lookup="XYZ"), "api_keys_lookup_format"),
    Case("api key: secret_hash is a plaintext secret", insert("api_keys", secret_hash="s3cret"),
         "api_keys_secret_hash_format"),
    Case("api key: expires_at equals created_at", insert("api_keys", expires_at=ts("2025-01-01T09:00:00Z")),
         "api_keys_expiry_after_creation"),
    Case("api key: expires_at before created_at", insert("api_keys", expires_at=ts("2024-12-31T09:00:00Z")),
         "api_keys_expiry_after_creation"),
    Case("api key: lookup used twice", insert("api_keys") + insert("api_keys", name="other"), "api_keys_lookup_unique"),
    # ---------------------------------------------------------------- CO-26 PublishAttempt
    Case("publish attempt: success without external_post_id", insert("publish_attempts", external_post_id=None),
         "publish_attempts_success_has_post"),
    Case("publish attempt: raw_response containing access_token",
         insert("publish_attempts", raw_response={"access_token": "abc", "id": "1"}), "publish_attempts_raw_response_safe"),
    Case("publish attempt: raw_response with nested Authorization header",
         insert("publish_attempts", raw_response={"request": {"headers": {"Authorization": "Bearer abc"}}}),
         "publish_attempts_raw_response_safe"),
    Case("publish attempt: raw_response with api_key inside a list",
         insert("publish_attempts", raw_response={"items": [{"api-key": "abc"}]}), "publish_attempts_raw_response_safe"),
    Case("publish attempt: raw_response not truncated", insert("publish_attempts", raw_response={"body": "x" * 5000}),
         "publish_attempts_raw_response_safe"),
    Case("publish attempt: in_flight with finished_at", insert("publish_attempts", status="in_flight"),
         "publish_attempts_finished_when_final"),
    Case("publish attempt: finished without finished_at", insert("publish_attempts", finished_at=None),
         "publish_attempts_finished_when_final"),
    Case("publish attempt: finished_at before started_at",
         insert("publish_attempts", finished_at=ts("2025-02-02T08:59:00Z")), "publish_attempts_finished_when_final"),
    Case("publish attempt: failed without error_code",
         insert("publish_attempts", status="failed", external_post_id=None), "publish_attempts_failure_has_code"),
    Case("publish attempt: unconfirmed without error_code",
         insert("publish_attempts", status="unconfirmed", external_post_id=None), "publish_attempts_failure_has_code"),
    Case("publish attempt: attempt_index 0", insert("publish_attempts", attempt_index=0), "publish_attempts_index_range"),
    Case("publish attempt: attempt_index above ceiling", insert("publish_attempts", attempt_index=21),
         "publish_attempts_index_range"),
    Case("publish attempt: status done", insert("publish_attempts", status="done"), "publish_attempts_status_values"),
    Case("publish attempt: the same index twice",
         insert("publish_attempts") + insert("publish_attempts", status="failed", external_post_id=None,
                                             error_code="timeout"),
         "publish_attempts_one_per_index"),
    Case("publish attempt: UPDATE of a finished attempt",
         insert("publish_attempts")
         + sql("UPDATE publish_attempts SET external_post_id = 'urn:li:share:7001' WHERE publishing_job_id = $1", W.job),
         "publish_attempts_immutable"),
    Case("publish attempt: UPDATE moving an in-flight attempt to another index",
         insert("publish_attempts", status="in_flight", finished_at=None, external_post_id=None)
         + sql("UPDATE publish_attempts SET attempt_index = 2 WHERE publishing_job_id = $1", W.job),
         "publish_attempts_immutable"),
    Case("publish attempt: DELETE",
         insert("publish_attempts") + sql("DELETE FROM publish_attempts WHERE publishing_job_id = $1", W.job),
         "publish_attempts_immutable"),
    # ---------------------------------------------------------------- CO-27 AgentRun
    Case("agent run: result without finished_at", insert("agent_runs", finished_at=None),
         "agent_runs_result_when_finished"),
    Case("agent run: finished_at without result", insert("agent_runs", result=None), "agent_runs_result_when_finished"),
    Case("agent run: finished_at before started_at", insert("agent_runs", finished_at=ts("2025-02-01T05:00:00Z")),
         "agent_runs_finished_after_started"),
    Case("agent run: trigger_type cron", insert("agent_runs", trigger_type="cron"), "agent_runs_trigger_type_values"),
    Case("agent run: result ok", insert("agent_runs", result="ok"), "agent_runs_result_values"),
    Case("agent run: summary blank", insert("agent_runs", summary=""), "agent_runs_summary_nonblank"),
    # ---------------------------------------------------------------- CO-28 EventLog
    Case("event log: event_type unknown", insert("event_log", event_type="something_happened"),
         "event_log_event_type_values"),
    Case("event log: message blank", insert("event_log", message=""), "event_log_message_nonblank"),
    Case("event log: subject_type blank", insert("event_log", subject_type=""), "event_log_subject_type_nonblank"),
    Case("event log: meta not an object", insert("event_log", meta=[1, 2]), "event_log_meta_object"),
    Case("event log: UPDATE of a line",
         insert("event_log") + sql("UPDATE event_log SET message = 'rewritten history' WHERE brand_id = $1", W.brand),
         "event_log_immutable"),
    Case("event log: UPDATE setting another user",
         insert("event_log") + sql("UPDATE event_log SET user_id = $2 WHERE brand_id = $1", W.brand, W.other_user),
         "event_log_immutable"),
    Case("event log: DELETE of a line",
         insert("event_log") + sql("DELETE FROM event_log WHERE brand_id = $1", W.brand), "event_log_immutable"),
    # ---------------------------------------------------------------- CO-29 QualityReport
    Case("quality report: pass with a failing g4", insert("quality_reports", g4_voice_alignment=False),
         "quality_reports_verdict_consistent"),
    Case("quality report: pass with a failing g5", insert("quality_reports", g5_platform_compliance=False),
         "quality_reports_verdict_consistent"),
    Case("quality report: passing report with critic reasons",
         insert("quality_reports", critic_reasons=[{"gate": "g2", "reason": "Weak hook."}]),
         "quality_reports_verdict_consistent"),
    Case("quality report: failing report without critic reasons",
         insert("quality_reports", **{**FAILING_REPORT, "critic_reasons": []}), "quality_reports_verdict_consistent"),
    Case("quality report: attempt 4", insert("quality_reports", attempt_number=4), "quality_reports_attempt_range"),
    Case("quality report: attempt 0", insert("quality_reports", attempt_number=0), "quality_reports_attempt_range"),
    Case("quality report: g2_hook_strength above 100", insert("quality_reports", g2_hook_strength=101),
         "quality_reports_g2_range"),
    Case("quality report: g7_engagement_prediction negative", insert("quality_reports", g7_engagement_prediction=-1),
         "quality_reports_g7_range"),
    Case("quality report: critic reason with unknown gate",
         insert("quality_reports", **{**FAILING_REPORT, "critic_reasons": [{"gate": "g9", "reason": "?"}]}),
         "quality_reports_critic_reasons_valid"),
    Case("quality report: more than 20 critic reasons",
         insert("quality_reports", **{**FAILING_REPORT,
                                      "critic_reasons": [{"gate": "g4", "reason": f"r{i}"} for i in range(21)]}),
         "quality_reports_critic_reasons_valid"),
    Case("quality report: the same attempt twice", insert("quality_reports") + insert("quality_reports"),
         "quality_reports_one_per_attempt"),
    Case("quality report: variant of another brand", insert("quality_reports", brand_id=W.other_brand),
         "quality_reports_variant_same_brand"),
    # ---------------------------------------------------------------- channels catalog
    Case("channel: key not snake_case", insert("channels", key="Threads!"), "channels_key_format"),
    Case("channel: counting unknown", insert("channels", counting="bytes"), "channels_counting_values"),
    Case("channel: max_text_length 0", insert("channels", max_text_length=0), "channels_max_text_length_positive"),
]  # fmt: skip

# "MUST have X": writing NULL into X is refused. A BEFORE trigger that reads the column runs
# before the NOT NULL check; where it refuses first, its constraint is the expected one.
NOT_NULL: dict[str, list[str | tuple[str, str | dict[str, Any]]]] = {
    "brands": [("org_id", "brands_owner_exists"), "name", "slug", "owner_user_ids"],
    "personas": ["brand_id", "name", "description", "pain_points", "goals"],
    "pillars": ["brand_id", "name", "description"],
    "users": ["org_id", "email", "role"],
    "brand_brain_snapshots": [
        ("brand_id", {"version": 1, "persona_ids": [], "pillar_ids": []}), "version", "positioning"],
    "brand_runtime_contexts": ["brand_id", "brand_brain_snapshot_id", "channel_overrides"],
    "memory_fragments": ["brand_id", "source_type", "raw_text", "embedding_model", "embedding_dim"],
    "global_source_docs": ["source_type", "language", "text"],
    "opportunity_cards": ["brand_id", "source_refs", "angle_summary", "opportunity_type", "score"],
    "opportunity_batches": [("brand_id", {"opportunity_ids": []}), "date_scope", "opportunity_ids"],
    "pattern_source_posts": ["channel", "raw_text", "created_at"],
    "pattern_templates": ["name", "channel_constraints", "structure", "example_source_post_ids"],
    "pattern_usages": ["pattern_template_id", "content_variant_id", "brand_id", "channel"],
    "channel_plans": [("content_package_id", "channel_plans_snapshot_same_brand"), "channel", "pattern_bindings",
                      ("brand_brain_snapshot_id", "channel_plans_snapshot_same_brand")],
    "content_variants": ["content_package_id", "channel_plan_id", "brand_id", "channel", "pattern_template_id",
                         "persona_id", "pillar_id", "body", "generated_by"],
    "feedback_events": ["brand_id", "feedback_type", "payload"],
    "brand_preferences": ["brand_id", "opportunity_scoring_weights"],
    "global_priors": ["default_tone_bias", "default_opportunity_weights"],
    "channel_configs": ["brand_id", "channel"],
    "publishing_jobs": ["brand_id", "content_variant_id", "channel", "scheduled_at"],
    "publish_attempts": ["publishing_job_id", "attempt_index"],
    "orgs": ["name", "slug"],
    "brand_memberships": [("brand_id", "brand_memberships_same_org"), ("user_id", "brand_memberships_same_org"), "role"],
    "api_keys": ["user_id", "name", "lookup", "secret_hash"],
    "agent_runs": ["brand_id", "trigger_type"],
    "event_log": ["event_type", "subject_type", "message"],
    "quality_reports": ["brand_id", "content_variant_id", "attempt_number", "g2_hook_strength", "g4_voice_alignment",
                        "g5_platform_compliance", "g7_engagement_prediction", "overall_pass"],
}  # fmt: skip
PACKAGE_NOT_NULL = ["brand_id", "core_argument_id"]
CORE_ARGUMENT_NOT_NULL = ["content_package_id", "thesis", "supporting_points", "persona_id", "pillar_id"]


def _not_null_cases() -> list[Case]:
    cases = []
    for table, columns in NOT_NULL.items():
        for entry in columns:
            column, extra = (entry, None) if isinstance(entry, str) else entry
            changes = {column: None, **(extra if isinstance(extra, dict) else {})}
            expected = extra if isinstance(extra, str) else NotNull(column)
            cases.append(Case(f"{table}: {column} NULL", insert(table, **changes), expected))
    for column in PACKAGE_NOT_NULL:
        cases.append(Case(f"content_packages: {column} NULL", package({column: None}), NotNull(column)))
    for column in CORE_ARGUMENT_NOT_NULL:
        cases.append(Case(f"core_arguments: {column} NULL", argument(**{column: None}), NotNull(column)))
    return cases


def _updated_before_created_cases() -> list[Case]:
    """Every table with created_at and updated_at refuses updated_at < created_at."""
    earlier = {"created_at": ts("2025-03-01T10:00:00Z"), "updated_at": ts("2025-02-28T10:00:00Z")}
    tables = ["brands", "personas", "pillars", "opportunity_cards", "pattern_templates", "channel_plans",
              "content_variants", "channel_configs", "publishing_jobs"]  # fmt: skip
    cases = [Case(f"{t}: updated_at before created_at", insert(t, **earlier), f"{t}_updated_after_created") for t in tables]
    cases.append(Case("content_packages: updated_at before created_at", package(earlier),
                      "content_packages_updated_after_created"))
    cases.append(Case("core_arguments: updated_at before created_at", argument(**earlier),
                      "core_arguments_updated_after_created"))
    return cases


ALL_REFUSED = REFUSED + _not_null_cases() + _updated_before_created_cases()


async def _run(conn: asyncpg.Connection, world: World, write: Write, progress: list[str]) -> None:
    """All statements of ``write`` in one transaction; ``progress`` records how far it got."""
    async with conn.transaction():
        for statement in write.statements:
            text, args = statement.bind(world)
            await conn.execute(text, *args)
            progress.append(text)
        progress.append("COMMIT")


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in ALL_REFUSED]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]


@pytest.mark.parametrize("case", ALL_REFUSED, ids=lambda c: c.id)
async def test_bad_row_is_refused(conn: asyncpg.Connection, world: World, case: Case) -> None:
    progress: list[str] = []
    with pytest.raises(asyncpg.PostgresError) as e:
        await _run(conn, world, case.write, progress)
    error = e.value
    if isinstance(case.refused_by, NotNull):
        assert isinstance(error, asyncpg.NotNullViolationError), f"{type(error).__name__}: {error}"
        assert error.column_name == case.refused_by.column
    elif isinstance(case.refused_by, BadInput):
        assert isinstance(error, case.refused_by.error), f"{type(error).__name__}: {error}"
    else:
        assert error.constraint_name == case.refused_by, f"{type(error).__name__}: {error}"
    if case.at_commit:  # every statement went through; the deferred check fired at COMMIT
        assert progress[-1:] == ["COMMIT"], f"refused after {len(progress)} statements, not at COMMIT"
    else:  # the statements before it went through and the one carrying the bad thing was refused
        assert len(progress) == case.write.subject_index, f"refused after {len(progress)} statements"


# --------------------------------------------------------------------------------------------
# What the seed allows is accepted: the valid rows themselves and the explicit edge cases.
# --------------------------------------------------------------------------------------------

ACCEPTED: list[tuple[str, Write]] = [
    *[(f"valid {table} row", insert(table)) for table in VALID_ROWS],
    ("valid package with core argument and two plans", package(plans=("linkedin", "x"))),
    ("brand: no primary channel while setup is incomplete", insert("brands", primary_channels=[], setup_complete=False)),
    ("brand: status inactive", sql("UPDATE brands SET status = 'inactive' WHERE id = $1", W.brand)),
    ("brand: the same slug in another org",
     insert("brands", org_id=W.other_org, owner_user_ids=[W.other_user], slug="acme-analytics")),
    ("persona: status hidden", insert("personas", status="hidden")),
    ("pillar: priority omitted (defaults to 0)", insert("pillars", priority=OMIT)),
    ("user: every role", insert("users", role="admin")),
    ("user: an admin demoted while another admin of the org stays",
     insert("users", org_id=W.other_org, email="second@other.org", role="admin")
     + sql("UPDATE users SET role = 'manager' WHERE id = $1", W.other_user)),
    ("snapshot: version 1 of a new brand",
     insert("brands", id=_extra_id("new_brand"))
     + sql("INSERT INTO brand_brain_snapshots (brand_id, version, positioning) VALUES ($1, 1, 'New.')",
           _extra_id("new_brand"))),
    ("source doc: no source_url, author or published_at",
     insert("global_source_docs", source_url=None, author_handle=None, published_at=None)),
    ("source doc: two public docs without content_hash", insert("global_source_docs", content_hash=None)),
    ("source doc: the same content in two orgs",
     insert("global_source_docs", content_hash="e" * 64) + insert("global_source_docs", content_hash="e" * 64,
                                                                   org_id=W.other_org)),
    ("card: persona_id null with scope global", insert("opportunity_cards", persona_id=None, scope="global")),
    ("card: score 0", insert("opportunity_cards", score=0)),
    ("card: score 100", insert("opportunity_cards", score=100)),
    ("card: internal trigger source ref",
     insert("opportunity_cards", source_refs=source_ref(global_source_doc_id=OMIT, internal_trigger="product_launch"))),
    ("card: UPDATE of lifecycle_state", sql("UPDATE opportunity_cards SET lifecycle_state = 'snoozed',"
                                            " updated_at = now() WHERE id = $1", W.card)),
    ("batch: ISO week date_scope", insert("opportunity_batches", date_scope="2025-W05")),
    ("batch: empty batch", insert("opportunity_batches", opportunity_ids=[])),
    ("batch: a real leap day", insert("opportunity_batches", date_scope="2024-02-29")),
    ("source post: global post without brand_id", insert("pattern_source_posts", brand_id=None, is_global=True)),
    ("source post: no metrics", insert("pattern_source_posts", impressions=None, engagements=None)),
    ("template: all channels (*)", insert("pattern_templates", channel_constraints=["*"])),
    ("template: no usage_stats yet", insert("pattern_templates", usage_stats=OMIT)),
    ("pattern usage: outcome still null", insert("pattern_usages", outcome=None)),
    ("package: manual origin with note",
     package({"origin_type": "manual", "opportunity_id": None, "origin_note": "Founder's idea"})),
    ("package: evergreen seed with note",
     package({"origin_type": "evergreen_seed", "opportunity_id": None, "origin_note": "Q1 evergreen"})),
    ("package: single scope with one channel and no plans",
     package({"channel_scope": "single", "channel": "x"}, plans=())),
    ("package: single scope with one plan on its channel",
     package({"channel_scope": "single", "channel": "x"}, plans=("x",))),
    ("package: deleting one of two plans", sql("DELETE FROM channel_plans WHERE id = $1", W.plan_x)),
    ("core argument: 7 supporting points", argument(supporting_points=POINTS[:7])),
    ("core argument: thesis of two sentences", argument(thesis=TWO_SENTENCES)),
    ("core argument: thesis with a decimal number", argument(thesis="CAC rose 2.5x last year, and nobody noticed.")),
    ("core argument: UPDATE of the thesis (inline edit)",
     sql("UPDATE core_arguments SET thesis = $2 WHERE id = $1", W.core_argument, TWO_SENTENCES)),
    ("channel plan: target_variants 10", insert("channel_plans", pattern_bindings=binding(target_variants=10))),
    ("variant: regenerated from another variant", insert("content_variants", source_variant_id=W.variant)),
    ("feedback: system event without user_id", insert("feedback_events", user_id=None)),
    *[(f"feedback: {kind} payload", insert("feedback_events", **feedback(kind))) for kind in FEEDBACK_PAYLOADS],
    ("feedback: saved_as_example without content_variant_id",
     insert("feedback_events", content_variant_id=None, **feedback("saved_as_example"))),
    ("feedback: never_again pattern target without phrase",
     insert("feedback_events", content_variant_id=None, **feedback("never_again", target="pattern", phrase=OMIT))),
    ("priors: UPDATE without brand ids",
     sql("UPDATE global_priors SET default_opportunity_weights = '{\"novelty\": 2}' WHERE id = $1", W.priors)),
    ("channel config: no rate limits", insert("channel_configs", rate_limits={})),
    ("publishing job: failed with last_error",
     insert("publishing_jobs", status="failed", last_error="429 rate limited", attempts=5)),
    ("publishing job: running with a lease",
     insert("publishing_jobs", status="running", lease_owner="publisher-1", lease_expires_at=ts("2025-02-02T09:05:00Z"))),
    ("publishing job: one success per variant",
     sql("UPDATE publishing_jobs SET status = 'success' WHERE id = $1", W.job) + insert("publishing_jobs")),
    ("publish attempt: in flight",
     insert("publish_attempts", status="in_flight", finished_at=None, external_post_id=None, raw_response=None)),
    ("publish attempt: an in-flight attempt records its outcome",
     insert("publish_attempts", status="in_flight", finished_at=None, external_post_id=None, raw_response=None)
     + sql("UPDATE publish_attempts SET status = 'success', finished_at = started_at + interval '2 seconds',"
           " external_post_id = 'urn:li:share:7000' WHERE publishing_job_id = $1", W.job)),
    ("publish attempt: unconfirmed with error_code",
     insert("publish_attempts", status="unconfirmed", external_post_id=None, error_code="timeout")),
    ("agent run: still running", insert("agent_runs", finished_at=None, result=None)),
    ("event log: deleting its run sets run_id to null",
     insert("agent_runs", id=_extra_id("run"))
     + insert("event_log", run_id=_extra_id("run"))
     + sql("DELETE FROM agent_runs WHERE id = $1", _extra_id("run"))),
    ("api key: never expires", insert("api_keys", expires_at=None)),
    ("quality report: failing report with reasons", insert("quality_reports", **FAILING_REPORT)),
    ("quality report: attempt_number 3", insert("quality_reports", attempt_number=3)),
]  # fmt: skip


@pytest.mark.parametrize(("description", "write"), ACCEPTED, ids=[a[0] for a in ACCEPTED])
async def test_allowed_row_is_accepted(conn: asyncpg.Connection, world: World, description: str, write: Write) -> None:
    progress: list[str] = []
    await _run(conn, world, write, progress)
    assert progress[-1] == "COMMIT"


def test_every_table_has_a_valid_row_and_cases() -> None:
    refused_tables = {m.group(1) for c in ALL_REFUSED for s in c.write.statements
                      if (m := re.match(r"(?:INSERT INTO|UPDATE|DELETE FROM) (\w+)", s.sql))}  # fmt: skip
    assert set(VALID_ROWS) | {"content_packages", "core_arguments"} <= refused_tables


def test_every_table_of_the_foundation_is_covered() -> None:
    """Each table 0001_foundation.sql creates has a valid row here (packages: ``package()``)."""
    text = (Path(migrations.__file__).parent / "migrations" / "0001_foundation.sql").read_text()
    tables = set(re.findall(r"^CREATE TABLE (\w+)", text, flags=re.MULTILINE))
    assert tables == set(VALID_ROWS) | {"content_packages", "core_arguments"}


# --------------------------------------------------------------------------------------------
# Immutable rows and the purge path.
# --------------------------------------------------------------------------------------------

# Every table holding rows of a brand, with the seeded id that finds the seeded brand's rows.
BRAND_TABLES: list[tuple[str, str, str]] = [
    ("brands", "id", "brand"), ("brand_memberships", "brand_id", "brand"), ("personas", "brand_id", "brand"),
    ("pillars", "brand_id", "brand"), ("brand_brain_snapshots", "brand_id", "brand"),
    ("brand_runtime_contexts", "brand_id", "brand"), ("memory_fragments", "brand_id", "brand"),
    ("opportunity_cards", "brand_id", "brand"), ("opportunity_batches", "brand_id", "brand"),
    ("pattern_source_posts", "brand_id", "brand"), ("pattern_usages", "brand_id", "brand"),
    ("content_packages", "brand_id", "brand"), ("core_arguments", "content_package_id", "package"),
    ("channel_plans", "content_package_id", "package"), ("content_variants", "brand_id", "brand"),
    ("feedback_events", "brand_id", "brand"), ("brand_preferences", "brand_id", "brand"),
    ("channel_configs", "brand_id", "brand"), ("publishing_jobs", "brand_id", "brand"),
    ("publish_attempts", "publishing_job_id", "job"), ("agent_runs", "brand_id", "brand"),
    ("event_log", "brand_id", "brand"), ("quality_reports", "brand_id", "brand"),
]  # fmt: skip


class TestImmutability:
    @pytest.fixture
    async def full(self, conn: asyncpg.Connection, world: World) -> World:
        """The world plus a row of the seeded brand in every table the seed leaves empty."""
        for table in ("memory_fragments", "publish_attempts", "agent_runs", "event_log", "quality_reports"):
            text, args = insert(table).statements[0].bind(world)
            await conn.execute(text, *args)
        return world

    async def _counts(self, conn: asyncpg.Connection, w: World) -> dict[str, int]:
        return {
            table: await conn.fetchval(f"SELECT count(*) FROM {table} WHERE {column} = $1", getattr(w, key))
            for table, column, key in BRAND_TABLES
        }

    @pytest.mark.parametrize(
        ("statement", "expected"),
        [
            ("UPDATE brand_brain_snapshots SET positioning = 'We now do something else.' WHERE id = $1",
             "brand_brain_snapshots_immutable"),
            ("UPDATE brand_brain_snapshots SET version = 4 WHERE id = $1", "brand_brain_snapshots_immutable"),
            ("DELETE FROM brand_brain_snapshots WHERE id = $1", "brand_brain_snapshots_immutable"),
        ],
        ids=["snapshot UPDATE positioning", "snapshot UPDATE version", "snapshot DELETE"],
    )  # fmt: skip
    async def test_snapshot_is_immutable(self, conn, world, statement, expected) -> None:
        before = await conn.fetchrow("SELECT * FROM brand_brain_snapshots WHERE id = $1", world.snapshot)
        with pytest.raises(asyncpg.PostgresError) as e:
            await conn.execute(statement, world.snapshot)
        assert e.value.constraint_name == expected
        assert await conn.fetchrow("SELECT * FROM brand_brain_snapshots WHERE id = $1", world.snapshot) == before

    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE feedback_events SET user_id = NULL WHERE id = $1",
            "UPDATE feedback_events SET payload = '{\"rating\": 1}' WHERE id = $1",
            "DELETE FROM feedback_events WHERE id = $1",
        ],
        ids=["feedback UPDATE user_id", "feedback UPDATE payload", "feedback DELETE"],
    )
    async def test_feedback_event_is_immutable(self, conn, world, statement) -> None:
        before = await conn.fetchrow("SELECT * FROM feedback_events WHERE id = $1", world.feedback)
        with pytest.raises(asyncpg.PostgresError) as e:
            await conn.execute(statement, world.feedback)
        assert e.value.constraint_name == "feedback_events_immutable"
        assert await conn.fetchrow("SELECT * FROM feedback_events WHERE id = $1", world.feedback) == before

    async def test_purge_setting_does_not_allow_updates(self, conn, world) -> None:
        with pytest.raises(asyncpg.PostgresError) as e:
            async with conn.transaction():
                await conn.execute("SET LOCAL kairo.purge = 'on'")
                await conn.execute("UPDATE feedback_events SET user_id = NULL WHERE id = $1", world.feedback)
        assert e.value.constraint_name == "feedback_events_immutable"

    async def test_brand_delete_without_purge_is_refused(self, conn, full) -> None:
        before = await self._counts(conn, full)
        with pytest.raises(asyncpg.PostgresError) as e:
            await conn.execute("DELETE FROM brands WHERE id = $1", full.brand)
        # The cascade reaches the brand's snapshots first (its oldest immutable table).
        assert e.value.constraint_name == "brand_brain_snapshots_immutable"
        assert await self._counts(conn, full) == before

    async def test_brand_delete_with_purge_outside_a_transaction_is_refused(self, conn, full) -> None:
        await conn.execute("SET LOCAL kairo.purge = 'on'")  # outside a transaction: no effect
        with pytest.raises(asyncpg.PostgresError) as e:
            await conn.execute("DELETE FROM brands WHERE id = $1", full.brand)
        assert e.value.constraint_name == "brand_brain_snapshots_immutable"

    async def test_brand_delete_with_purge_removes_everything_of_the_brand(self, conn, full) -> None:
        before = await self._counts(conn, full)
        assert all(before.values()), before  # every table holds something of the brand
        other_before = await conn.fetchval("SELECT count(*) FROM personas WHERE brand_id = $1", full.other_brand)
        async with conn.transaction():
            await conn.execute("SET LOCAL kairo.purge = 'on'")
            assert await conn.execute("DELETE FROM brands WHERE id = $1", full.brand) == "DELETE 1"
        assert await self._counts(conn, full) == dict.fromkeys(before, 0)
        # Only that brand: its org, users, the other brand and shared templates remain.
        assert await conn.fetchval("SELECT count(*) FROM personas WHERE brand_id = $1", full.other_brand) == other_before
        assert await conn.fetchval("SELECT count(*) FROM users WHERE id = $1", full.user) == 1
        assert await conn.fetchval("SELECT count(*) FROM pattern_templates WHERE id = $1", full.template) == 1
        # The setting ended with the transaction: immutability is back.
        assert await conn.fetchval("SELECT current_setting('kairo.purge', true)") in (None, "", "off")
        with pytest.raises(asyncpg.PostgresError) as e:
            await conn.execute("DELETE FROM brand_brain_snapshots WHERE id = $1", full.other_snapshot)
        assert e.value.constraint_name == "brand_brain_snapshots_immutable"

    async def test_repository_purge_brand_removes_everything_of_the_brand(self, conn, db: Database, full) -> None:
        before = await self._counts(conn, full)
        assert all(before.values()), before
        async with db.transaction() as tx:
            await repo.purge_brand(tx, full.brand)
            assert await tx.fetchval("SELECT current_setting('kairo.purge', true)") == "off"
        assert await self._counts(conn, full) == dict.fromkeys(before, 0)
        with pytest.raises(asyncpg.PostgresError) as e:
            await conn.execute("DELETE FROM brand_brain_snapshots WHERE id = $1", full.other_snapshot)
        assert e.value.constraint_name == "brand_brain_snapshots_immutable"


# --------------------------------------------------------------------------------------------
# Closed vocabularies: the database and the Python enums list the same values.
# --------------------------------------------------------------------------------------------

# Channel "counting" rules of seed 001 have no Python enum; the list is pinned here instead.
CHANNEL_COUNTING = ("twitter_weighted", "utf16", "graphemes", "characters")

VALUES_CONSTRAINTS: dict[str, type[StrEnum] | tuple[str, ...]] = {
    "channels_counting_values": CHANNEL_COUNTING,
    "orgs_status_values": enums.OrgStatus,
    "users_role_values": enums.UserRole,
    "users_status_values": enums.UserStatus,
    "brands_status_values": enums.BrandStatus,
    "brand_memberships_role_values": enums.UserRole,
    "personas_status_values": enums.VisibilityStatus,
    "pillars_status_values": enums.VisibilityStatus,
    "global_source_docs_source_type_values": enums.SourceDocType,
    "opportunity_cards_scope_values": enums.OpportunityScope,
    "opportunity_cards_opportunity_type_values": enums.OpportunityType,
    "opportunity_cards_lifecycle_state_values": enums.OpportunityState,
    "pattern_templates_status_values": enums.PatternStatus,
    "memory_fragments_source_type_values": enums.MemorySourceType,
    "content_packages_origin_type_values": enums.OriginType,
    "content_packages_status_values": enums.PackageStatus,
    "content_packages_channel_scope_values": enums.ChannelScope,
    "content_variants_status_values": enums.VariantStatus,
    "feedback_events_feedback_type_values": enums.FeedbackType,
    "channel_configs_status_values": enums.ChannelStatus,
    "publishing_jobs_status_values": enums.PublishStatus,
    "publish_attempts_status_values": enums.AttemptStatus,
    "agent_runs_trigger_type_values": enums.RunTrigger,
    "agent_runs_result_values": enums.RunResult,
    "event_log_event_type_values": enums.EventType,
    "agent_states_state_values": enums.AgentState,  # 0002_runtime.sql
    # 0005_gate_rubric.sql: the gates' own vocabulary (the platform gate takes no override)
    "gate_rubric_overrides_rule_values": tuple(r for r in get_args(RuleName) if r != "platform"),
    "gate_rubric_overrides_severity_values": Severity,
}


def _values(vocabulary: type[StrEnum] | tuple[str, ...]) -> list[str]:
    return sorted(vocabulary if isinstance(vocabulary, tuple) else (m.value for m in vocabulary))


async def test_values_checks_match_the_python_enums(conn: asyncpg.Connection, db: Database) -> None:
    rows = await conn.fetch(
        "SELECT conname, conrelid::regclass::text AS tbl, pg_get_constraintdef(oid) AS def FROM pg_constraint"
        " WHERE connamespace = $1::regnamespace AND contype = 'c' AND conname LIKE '%\\_values'",
        db.schema,
    )
    found = {r["conname"]: r for r in rows}
    assert set(found) == set(VALUES_CONSTRAINTS)
    mismatched = {}
    for name, r in found.items():
        table = r["tbl"].rsplit(".", 1)[-1]
        assert name.startswith(f"{table}_") and name.endswith("_values")
        column = name.removeprefix(f"{table}_").removesuffix("_values")
        assert re.search(rf"\b{column}\b", r["def"]), (name, r["def"])
        literals = sorted(m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'::text", r["def"]))
        if literals != _values(VALUES_CONSTRAINTS[name]):
            mismatched[name] = (literals, _values(VALUES_CONSTRAINTS[name]))
    assert not mismatched


async def test_channels_catalog_matches_the_channel_enum(conn: asyncpg.Connection) -> None:
    keys = [r["key"] for r in await conn.fetch("SELECT key FROM channels")]
    assert sorted(keys) == _values(enums.Channel)


# Vocabularies checked inside the jsonb validators: every member is accepted, a stranger is not.
EMBEDDED_VOCABULARIES: list[tuple[str, str, type[StrEnum]]] = [
    ("length_mode", "SELECT kairo_valid_channel_overrides(jsonb_build_object('x', jsonb_build_object("
                    "'tone_bias', '{\"a\": 0.5}'::jsonb, 'length_mode', $1::text, 'risk_mode', 'safe')))",
     enums.LengthMode),
    ("risk_mode", "SELECT kairo_valid_channel_overrides(jsonb_build_object('x', jsonb_build_object("
                  "'tone_bias', '{\"a\": 0.5}'::jsonb, 'length_mode', 'short', 'risk_mode', $1::text)))",
     enums.RiskMode),
    ("banned severity", "SELECT kairo_valid_dna_list(jsonb_build_array(jsonb_build_object("
                        "'word', 'w', 'severity', $1::text)), 'banned_words')", enums.BannedSeverity),
    ("dna source", "SELECT kairo_valid_dna_list(jsonb_build_array(jsonb_build_object("
                   "'word', 'w', 'source', $1::text)), 'banned_words')", enums.DnaSource),
    ("voice marker category", "SELECT kairo_valid_dna_list(jsonb_build_array(jsonb_build_object("
                              "'phrase', 'p', 'category', $1::text)), 'voice_markers')", enums.VoiceMarkerCategory),
    ("stance category", "SELECT kairo_valid_dna_list(jsonb_build_array(jsonb_build_object("
                        "'stance', 's', 'category', $1::text)), 'stances')", enums.StanceCategory),
    ("critic gate", "SELECT kairo_valid_critic_reasons(jsonb_build_array(jsonb_build_object("
                    "'gate', $1::text, 'reason', 'r')))", enums.Gate),
    ("never_again target", "SELECT kairo_valid_feedback_payload('never_again', jsonb_build_object("
                           "'target', $1::text, 'phrase', 'p'))", NeverAgainTarget),
    ("scoring factor", "SELECT kairo_numeric_map(jsonb_build_object($1::text, 1),"
                       " '^(brand_relevance|freshness|novelty|competitive_angle)$', 0, 10)", ScoringFactor),
]  # fmt: skip


@pytest.mark.parametrize(("name", "query", "vocabulary"), EMBEDDED_VOCABULARIES, ids=[v[0] for v in EMBEDDED_VOCABULARIES])
async def test_jsonb_validators_accept_exactly_the_enum(conn, db, name, query, vocabulary) -> None:
    for member in vocabulary:
        assert await conn.fetchval(query, member.value) is True, member
    assert await conn.fetchval(query, "not_a_member") is False


# Enums with no database counterpart (never stored), listed so that a new enum is not forgotten.
NOT_STORED: set[str] = set()


def test_every_enum_is_checked_by_the_database() -> None:
    checked = {v.__name__ for v in VALUES_CONSTRAINTS.values() if isinstance(v, type)}
    checked |= {v.__name__ for _, _, v in EMBEDDED_VOCABULARIES} | {"Channel"}
    defined = {name for name, obj in vars(enums).items() if isinstance(obj, type) and issubclass(obj, StrEnum)
               and obj is not StrEnum}  # fmt: skip
    assert defined - checked == NOT_STORED
