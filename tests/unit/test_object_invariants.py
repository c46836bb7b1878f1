"""The MUST invariants of seed 000 (CO-01..CO-22) and the extra validators of CO-01..CO-29.

Every object has a builder producing a valid dict (the seed's example, with UUIDs). Each case of
``INVALID_CASES`` breaks exactly one invariant of that dict and expects a ValidationError that
names the offending field; ``VALID_VARIANTS`` are the edge cases the seed explicitly allows.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, NamedTuple
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel, ValidationError

from storage.objects import (
    CANONICAL_OBJECTS,
    AgentRun,
    AgentStatus,
    ApiKey,
    Brand,
    BrandBrainSnapshot,
    BrandMembership,
    BrandMemoryFragment,
    BrandPreferences,
    BrandRuntimeContext,
    ChannelConfig,
    ChannelPlan,
    ContentPackage,
    ContentVariant,
    CoreArgument,
    EventLog,
    FeedbackEvent,
    GlobalPriors,
    GlobalSourceDoc,
    OpportunityBatch,
    OpportunityCard,
    Org,
    PatternSourcePost,
    PatternTemplate,
    PatternUsage,
    Persona,
    Pillar,
    PublishAttempt,
    PublishingJob,
    QualityReport,
    User,
    mint_api_key,
    parse_api_key,
)
from storage.objects.tenancy import hash_secret

pytestmark = pytest.mark.unit


def uid() -> str:
    return str(uuid4())


# --------------------------------------------------------------------------------------------
# Builders: one valid dict per object (the seed's examples, ids replaced by UUIDs).
# --------------------------------------------------------------------------------------------


def brand() -> dict[str, Any]:
    return {
        "id": uid(),
        "org_id": uid(),
        "name": "Acme Analytics",
        "slug": "acme-analytics",
        "status": "active",
        "owner_user_ids": [uid()],
        "primary_channels": ["linkedin", "x"],
        "created_at": "2025-01-01T10:00:00Z",
        "updated_at": "2025-01-02T12:00:00Z",
    }


def persona() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "name": "Data-driven CMO",
        "description": "CMO at B2B SaaS trying to justify marketing spend with clear attribution.",
        "pain_points": ["Board pressure on CAC/LTV", "Frustration with noisy data"],
        "goals": ["Prove ROI of campaigns", "Increase qualified pipeline"],
        "status": "active",
        "created_at": "2025-01-01T10:05:00Z",
        "updated_at": "2025-01-01T10:05:00Z",
    }


def pillar() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "name": "Strategy POV",
        "description": "Big-picture opinions on how to run modern B2B marketing.",
        "status": "active",
        "priority": 10,
        "created_at": "2025-01-01T10:10:00Z",
        "updated_at": "2025-01-01T10:10:00Z",
    }


def user() -> dict[str, Any]:
    return {
        "id": uid(),
        "org_id": uid(),
        "email": "strategist@acme.com",
        "role": "strategist",
        "status": "active",
        "created_at": "2025-01-01T09:00:00Z",
    }


def snapshot() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "version": 3,
        "created_at": "2025-02-01T12:00:00Z",
        "positioning": "We help B2B teams turn chaotic data into clear revenue stories.",
        "tone_descriptors": ["direct", "analytical", "supportive"],
        "offers": ["Attribution audit", "RevOps playbook"],
        "taboos": ["Overpromising AI magic", "Trashing competitors"],
        "persona_ids": [uid()],
        "pillar_ids": [uid(), uid()],
        "tone_profile": {"warmth": 60},
        "voice_markers": [{"phrase": "revenue story", "category": "signature"}],
        "banned_words": [{"word": "synergy", "severity": "hard"}],
        "stances": [{"stance": "Dashboards must tie to pipeline.", "category": "contrarian"}],
    }


def runtime_context() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "brand_brain_snapshot_id": uid(),
        "channel_overrides": {
            "linkedin": {
                "tone_bias": {"story_vs_tactical": 0.4, "aggressive_vs_safe": 0.3},
                "length_mode": "medium",
                "risk_mode": "balanced",
            },
            "x": {
                "tone_bias": {"story_vs_tactical": 0.2, "aggressive_vs_safe": 0.6},
                "length_mode": "short",
                "risk_mode": "spicy",
            },
        },
        "updated_at": "2025-02-05T10:00:00Z",
    }


def memory_fragment() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "source_type": "generated_hit",
        "raw_text": "If your board only hears about clicks and not pipeline, your marketing data is failing you.",
        "persona_id": uid(),
        "pillar_id": uid(),
        "pattern_template_id": uid(),
        "embedding_model": "all-MiniLM-L6-v2",
        "embedding_dim": 384,
        "created_at": "2025-02-02T11:00:00Z",
    }


def source_doc() -> dict[str, Any]:
    return {
        "id": uid(),
        "source_type": "article",
        "source_url": "https://example.com/b2b-attribution",
        "author_handle": "revops_jane",
        "language": "en",
        "text": "Most B2B attribution models fail because they ignore offline touchpoints...",
        "published_at": "2025-02-01T08:00:00Z",
        "ingested_at": "2025-02-01T12:00:00Z",
    }


def opportunity_card() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "persona_id": uid(),
        "pillar_id": uid(),
        "source_refs": [{"global_source_doc_id": uid(), "note": "Article about broken attribution models"}],
        "opportunity_type": "trend",
        "angle_summary": "Everyone is complaining about attribution dashboards; we show a good one.",
        "score": 82,
        "lifecycle_state": "new",
        "created_at": "2025-02-01T12:30:00Z",
        "updated_at": "2025-02-01T12:30:00Z",
    }


def opportunity_batch() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "date_scope": "2025-02-01",
        "opportunity_ids": [uid(), uid()],
        "created_at": "2025-02-01T12:35:00Z",
    }


def source_post() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "channel": "linkedin",
        "raw_text": "Last quarter, our CAC went up 40% because we trusted the wrong attribution model...",
        "impressions": 12000,
        "engagements": 350,
        "created_at": "2025-01-15T09:00:00Z",
    }


def pattern_template() -> dict[str, Any]:
    return {
        "id": uid(),
        "name": "Confessional story → harsh truth → lesson",
        "channel_constraints": ["linkedin"],
        "structure": ["hook", "confession", "inflection_point", "lesson", "cta"],
        "example_source_post_ids": [uid()],
        "usage_stats": {"times_used": 23, "avg_engagement_rate": 0.042},
        "status": "active",
    }


def pattern_usage() -> dict[str, Any]:
    return {
        "id": uid(),
        "pattern_template_id": uid(),
        "content_variant_id": uid(),
        "brand_id": uid(),
        "channel": "linkedin",
        "created_at": "2025-02-03T14:00:00Z",
        "outcome": {"impressions": 8000, "engagements": 260},
    }


def content_package() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "opportunity_id": uid(),
        "origin_type": "opportunity",
        "core_argument_id": uid(),
        "status": "draft",
        "channel_plan_ids": [uid(), uid()],
        "created_at": "2025-02-01T13:00:00Z",
        "updated_at": "2025-02-01T13:05:00Z",
    }


SUPPORTING_POINTS = [
    "Most tools dump channel metrics with no pipeline context.",
    "Your board cares about pipeline and bookings, not CTR.",
    "A good attribution model surfaces a few clear levers you can pull.",
    "Pretty charts hide the handoff between marketing and sales.",
    "Every chart should answer one revenue question.",
    "Fewer metrics make for better board meetings.",
    "Attribution is a story, not a spreadsheet.",
    "Revenue stories survive budget cuts.",
]


def core_argument() -> dict[str, Any]:
    return {
        "id": uid(),
        "content_package_id": uid(),
        "persona_id": uid(),
        "pillar_id": uid(),
        "thesis": "Attribution dashboards should tell a revenue story, not just show pretty charts.",
        "supporting_points": SUPPORTING_POINTS[:3],
        "created_at": "2025-02-01T13:00:00Z",
        "updated_at": "2025-02-01T13:00:00Z",
    }


def channel_plan() -> dict[str, Any]:
    return {
        "id": uid(),
        "content_package_id": uid(),
        "channel": "linkedin",
        "brand_brain_snapshot_id": uid(),
        "pattern_bindings": [
            {
                "pattern_template_id": uid(),
                "beats": {
                    "hook": "Highlight the pain of noisy dashboards",
                    "confession": "We shipped vanity dashboards for years.",
                    "inflection_point": "Board asked a simple pipeline question we couldn't answer.",
                    "lesson": "Tie every chart to pipeline stages.",
                    "cta": "DM for our attribution sanity check.",
                },
                "target_variants": 2,
            }
        ],
        "created_at": "2025-02-01T13:01:00Z",
        "updated_at": "2025-02-01T13:01:00Z",
    }


def content_variant() -> dict[str, Any]:
    return {
        "id": uid(),
        "content_package_id": uid(),
        "channel_plan_id": uid(),
        "brand_id": uid(),
        "channel": "linkedin",
        "pattern_template_id": uid(),
        "persona_id": uid(),
        "pillar_id": uid(),
        "status": "draft",
        "body": "For 3 years, we shipped gorgeous marketing dashboards that our board quietly ignored...",
        "origin": {"generated_by": "ce_v1", "source_variant_id": None},
        "created_at": "2025-02-01T13:02:00Z",
        "updated_at": "2025-02-01T13:02:00Z",
    }


FEEDBACK_PAYLOADS: dict[str, dict[str, Any]] = {
    "variant_rating": {"rating": 4, "dimensions": {"tone_match": 5, "specificity": 4}},
    "edit_applied": {"original_text": "We ship dashboards.", "edited_text": "We ship revenue stories.", "edit_distance": 0.4},
    "never_again": {"target": "phrase", "phrase": "game-changer", "reason": "Sounds like hype"},
    "saved_as_example": {"memory_fragment_id": str(uuid4()), "note": "Perfect hook"},
    "performance_snapshot": {"captured_at": "2025-02-03T09:00:00Z", "metrics": {"impressions": 8000, "engagements": 260}},
}


def feedback_event(kind: str = "variant_rating") -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "user_id": uid(),
        "content_variant_id": uid(),
        "feedback_type": kind,
        "payload": copy.deepcopy(FEEDBACK_PAYLOADS[kind]),
        "created_at": "2025-02-01T13:10:00Z",
    }


def brand_preferences() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "pattern_weights": {uid(): 1.4, uid(): 0.8},
        "tone_bias_overrides": {"story_vs_tactical": 0.5, "aggressive_vs_safe": 0.3},
        "persona_pillar_bias": {f"{uid()}::{uid()}": 1.2},
        "opportunity_scoring_weights": {"freshness": 0.6, "brand_relevance": 1.0, "competitive_angle": 0.4},
        "updated_at": "2025-02-05T11:00:00Z",
    }


def global_priors() -> dict[str, Any]:
    return {
        "id": uid(),
        "segment": "default",
        "pattern_stats": {
            uid(): {"avg_engagement_rate": 0.035, "times_used": 800},
            uid(): {"avg_engagement_rate": 0.028, "times_used": 500},
        },
        "channel_stats": {"linkedin": {"avg_engagement_rate": 0.03, "times_used": 1300}},
        "default_tone_bias": {"linkedin": {"story_vs_tactical": 0.4, "aggressive_vs_safe": 0.3}},
        "default_opportunity_weights": {"freshness": 0.5, "brand_relevance": 1.0},
        "updated_at": "2025-02-01T00:00:00Z",
    }


def channel_config() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "channel": "linkedin",
        "status": "connected",
        "scopes": ["post", "read_analytics"],
        "rate_limits": {"posts_per_day": 20},
        "created_at": "2025-01-10T10:00:00Z",
        "updated_at": "2025-02-01T09:00:00Z",
    }


def publishing_job() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "content_variant_id": uid(),
        "channel": "linkedin",
        "scheduled_at": "2025-02-02T09:00:00Z",
        "status": "pending",
        "last_error": None,
        "created_at": "2025-02-01T13:20:00Z",
        "updated_at": "2025-02-01T13:20:00Z",
    }


def publish_attempt() -> dict[str, Any]:
    return {
        "id": uid(),
        "publishing_job_id": uid(),
        "attempt_index": 1,
        "status": "success",
        "started_at": "2025-02-02T09:00:00Z",
        "finished_at": "2025-02-02T09:00:02Z",
        "external_post_id": "urn:li:share:7000",
        "external_url": "https://www.linkedin.com/feed/update/urn:li:share:7000",
        "raw_response": {"id": "urn:li:share:7000", "meta": {"status": 201}},
    }


def org() -> dict[str, Any]:
    return {
        "id": uid(),
        "name": "Acme Agency",
        "slug": "acme-agency",
        "status": "active",
        "created_at": "2025-01-01T08:00:00Z",
    }


def brand_membership() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "user_id": uid(),
        "role": "strategist",
        "created_at": "2025-01-01T09:30:00Z",
    }


def api_key() -> dict[str, Any]:
    return {
        "id": uid(),
        "user_id": uid(),
        "name": "ci",
        "lookup": "0123456789ab",
        "secret_hash": hash_secret("s3cret"),
        "created_at": "2025-01-01T09:00:00Z",
        "expires_at": "2026-01-01T09:00:00Z",
    }


def agent_run() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "trigger_type": "schedule",
        "started_at": "2025-02-01T06:00:00Z",
        "finished_at": "2025-02-01T06:03:00Z",
        "result": "success",
        "summary": "Planned 3 posts, published 1.",
    }


def event_log() -> dict[str, Any]:
    return {
        "id": uid(),
        "org_id": uid(),
        "brand_id": uid(),
        "run_id": uid(),
        "event_type": "publish_succeeded",
        "subject_type": "publishing_job",
        "subject_id": uid(),
        "message": "Published variant on linkedin.",
        "meta": {"attempt": 1},
        "created_at": "2025-02-02T09:00:03Z",
    }


def quality_report() -> dict[str, Any]:
    return {
        "id": uid(),
        "brand_id": uid(),
        "content_variant_id": uid(),
        "attempt_number": 1,
        "g2_hook_strength": 78,
        "g4_voice_alignment": True,
        "g5_platform_compliance": True,
        "g7_engagement_prediction": 64,
        "overall_pass": True,
        "critic_reasons": [],
        "evaluated_at": "2025-02-01T13:03:00Z",
    }


def agent_status() -> dict[str, Any]:
    return {
        "brand_id": uid(),
        "state": "planning",
        "version": 3,
        "cadence_seconds": 3600,
        "paused": False,
        "next_wake_at": "2025-02-01T14:00:00Z",
        "updated_at": "2025-02-01T13:00:00Z",
    }


def failing_quality_report() -> dict[str, Any]:
    return {
        **quality_report(),
        "g4_voice_alignment": False,
        "overall_pass": False,
        "critic_reasons": [{"gate": "g4", "reason": "Too hype-y for the brand.", "suggestion": "Drop the superlatives."}],
    }


BUILDERS: dict[type[BaseModel], Callable[[], dict[str, Any]]] = {
    Brand: brand,
    Persona: persona,
    Pillar: pillar,
    User: user,
    BrandBrainSnapshot: snapshot,
    BrandRuntimeContext: runtime_context,
    BrandMemoryFragment: memory_fragment,
    GlobalSourceDoc: source_doc,
    OpportunityCard: opportunity_card,
    OpportunityBatch: opportunity_batch,
    PatternSourcePost: source_post,
    PatternTemplate: pattern_template,
    PatternUsage: pattern_usage,
    ContentPackage: content_package,
    CoreArgument: core_argument,
    ChannelPlan: channel_plan,
    ContentVariant: content_variant,
    FeedbackEvent: feedback_event,
    BrandPreferences: brand_preferences,
    GlobalPriors: global_priors,
    ChannelConfig: channel_config,
    PublishingJob: publishing_job,
    PublishAttempt: publish_attempt,
    Org: org,
    BrandMembership: brand_membership,
    ApiKey: api_key,
    AgentRun: agent_run,
    EventLog: event_log,
    QualityReport: quality_report,
    AgentStatus: agent_status,
}


# --------------------------------------------------------------------------------------------
# Mutations: each breaks (or, for VALID_VARIANTS, exercises) one thing on a valid dict.
# --------------------------------------------------------------------------------------------

Patch = Callable[[dict[str, Any]], None]


def _walk(data: Any, path: str) -> tuple[Any, Any]:
    *parents, last = path.split(".")
    for part in parents:
        data = data[int(part)] if isinstance(data, list) else data[part]
    return data, (int(last) if isinstance(data, list) else last)


def put(path: str, value: Any) -> Patch:
    """Set a (dotted) path; values are deep-copied so cases never share state."""

    def patch(data: dict[str, Any]) -> None:
        parent, key = _walk(data, path)
        parent[key] = copy.deepcopy(value)

    return patch


def drop(path: str) -> Patch:
    def patch(data: dict[str, Any]) -> None:
        parent, key = _walk(data, path)
        del parent[key]

    return patch


def both(*patches: Patch) -> Patch:
    def patch(data: dict[str, Any]) -> None:
        for p in patches:
            p(data)

    return patch


def copy_field(source: str, target: str) -> Patch:
    """Make ``target`` hold the value of ``source`` (e.g. a variant that is its own source)."""

    def patch(data: dict[str, Any]) -> None:
        value = _walk(data, source)
        parent, key = _walk(data, target)
        parent[key] = value[0][value[1]]

    return patch


def duplicate_first(path: str) -> Patch:
    """Make a list hold its first entry twice."""

    def patch(data: dict[str, Any]) -> None:
        parent, key = _walk(data, path)
        parent[key] = [parent[key][0], parent[key][0]]

    return patch


def make_updated_before_created(data: dict[str, Any]) -> None:
    data["created_at"] = "2025-03-01T10:00:00Z"
    data["updated_at"] = "2025-02-28T10:00:00Z"


class Case(NamedTuple):
    cls: type[BaseModel]
    description: str
    patch: Patch
    field: str
    build: Callable[[], dict[str, Any]] | None = None
    context: dict[str, Any] | None = None


def names_field(exc: ValidationError, field: str) -> bool:
    """An error's loc contains ``field``, or a model-level error (loc ``()``) mentions it."""
    for error in exc.errors():
        if field in error["loc"]:
            return True
        if error["loc"] == () and field in error["msg"]:
            return True
    return False


def build(cls: type[BaseModel], builder: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
    return (builder or BUILDERS[cls])()


LONG = "x" * 501
TWO_SENTENCES = "Dashboards should tell a revenue story. Pretty charts are not enough."
THREE_SENTENCES = "Dashboards lie. Boards notice. Revenue stories win."

# One entry per MUST of seed 000, object by object, then the extra validators (CO-23+ and the
# stricter rules of CO-01..CO-22). "Missing required field" MUSTs are in REQUIRED_BY_SEED below;
# id/uuid, timezone, extra-field and updated_at>=created_at rules are generated for every object.
INVALID_CASES: list[Case] = [
    # CO-01 Brand
    Case(Brand, "name blank", put("name", "   "), "name"),
    Case(Brand, "slug with spaces/capitals", put("slug", "Acme Analytics"), "slug"),
    Case(Brand, "slug with underscore", put("slug", "acme_analytics"), "slug"),
    Case(Brand, "slug with trailing dash", put("slug", "acme-"), "slug"),
    Case(Brand, "status archived", put("status", "archived"), "status"),
    Case(Brand, "owner_user_ids empty", put("owner_user_ids", []), "owner_user_ids"),
    Case(Brand, "owner_user_ids not uuids", put("owner_user_ids", ["u_1"]), "owner_user_ids"),
    Case(Brand, "owner_user_ids duplicated", duplicate_first("owner_user_ids"), "owner_user_ids"),
    Case(Brand, "no primary channel once setup completes",
         both(put("primary_channels", []), put("setup_complete", True)), "primary_channels"),
    Case(Brand, "no primary channel, setup_complete defaulted", put("primary_channels", []), "primary_channels"),
    Case(Brand, "unknown primary channel", put("primary_channels", ["myspace"]), "primary_channels"),
    Case(Brand, "duplicated primary channel", put("primary_channels", ["x", "x"]), "primary_channels"),
    # CO-02 Persona
    Case(Persona, "name blank", put("name", ""), "name"),
    Case(Persona, "description blank", put("description", " "), "description"),
    Case(Persona, "description not short", put("description", LONG), "description"),
    Case(Persona, "pain_points empty", put("pain_points", []), "pain_points"),
    Case(Persona, "pain_points blank entry", put("pain_points", [""]), "pain_points"),
    Case(Persona, "goals empty", put("goals", []), "goals"),
    Case(Persona, "status inactive (only active/hidden)", put("status", "inactive"), "status"),
    Case(Persona, "status archived", put("status", "archived"), "status"),
    # CO-03 Pillar
    Case(Pillar, "name blank", put("name", ""), "name"),
    Case(Pillar, "description not short", put("description", LONG), "description"),
    Case(Pillar, "status inactive", put("status", "inactive"), "status"),
    Case(Pillar, "priority not an int", put("priority", "high"), "priority"),
    Case(Pillar, "priority fractional", put("priority", 1.5), "priority"),
    Case(Pillar, "priority out of range", put("priority", 5000), "priority"),
    # CO-04 User
    Case(User, "email malformed", put("email", "strategist-at-acme"), "email"),
    Case(User, "role owner", put("role", "owner"), "role"),
    Case(User, "status hidden", put("status", "hidden"), "status"),
    # CO-05 BrandBrainSnapshot
    Case(BrandBrainSnapshot, "version 0", put("version", 0), "version"),
    Case(BrandBrainSnapshot, "version negative", put("version", -3), "version"),
    Case(BrandBrainSnapshot, "persona_ids nest full objects",
         put("persona_ids", [{"id": str(uuid4()), "name": "Data-driven CMO"}]), "persona_ids"),
    Case(BrandBrainSnapshot, "pillar_ids nest full objects",
         put("pillar_ids", [{"id": str(uuid4()), "name": "Strategy POV"}]), "pillar_ids"),
    Case(BrandBrainSnapshot, "persona_ids duplicated",
         duplicate_first("persona_ids"), "persona_ids"),
    Case(BrandBrainSnapshot, "positioning blank", put("positioning", ""), "positioning"),
    Case(BrandBrainSnapshot, "positioning not short", put("positioning", LONG), "positioning"),
    Case(BrandBrainSnapshot, "tone_descriptors not a list of labels", put("tone_descriptors", "direct"), "tone_descriptors"),
    Case(BrandBrainSnapshot, "tone_descriptors blank label", put("tone_descriptors", ["direct", ""]), "tone_descriptors"),
    Case(BrandBrainSnapshot, "offers blank", put("offers", [" "]), "offers"),
    Case(BrandBrainSnapshot, "taboos not short", put("taboos", [LONG]), "taboos"),
    Case(BrandBrainSnapshot, "tone_profile above 100", put("tone_profile", {"warmth": 101}), "tone_profile"),
    Case(BrandBrainSnapshot, "tone_profile bad dimension", put("tone_profile", {"Warmth!": 50}), "tone_profile"),
    Case(BrandBrainSnapshot, "banned word listed twice (case-insensitive)",
         put("banned_words", [{"word": "Synergy"}, {"word": "synergy"}]), "banned_words"),
    Case(BrandBrainSnapshot, "voice marker weight above 10",
         put("voice_markers", [{"phrase": "revenue story", "weight": 11}]), "voice_markers"),
    Case(BrandBrainSnapshot, "stance category unknown",
         put("stances", [{"stance": "Pipeline first.", "category": "troll"}]), "stances"),
    # CO-06 BrandRuntimeContext
    Case(BrandRuntimeContext, "channel_overrides empty", put("channel_overrides", {}), "channel_overrides"),
    Case(BrandRuntimeContext, "channel_overrides keyed by unknown channel",
         lambda d: d["channel_overrides"].__setitem__("myspace", d["channel_overrides"]["x"]), "channel_overrides"),
    Case(BrandRuntimeContext, "override without tone_bias", drop("channel_overrides.linkedin.tone_bias"), "tone_bias"),
    Case(BrandRuntimeContext, "override with empty tone_bias", put("channel_overrides.linkedin.tone_bias", {}), "tone_bias"),
    Case(BrandRuntimeContext, "tone_bias above 1",
         put("channel_overrides.linkedin.tone_bias.story_vs_tactical", 1.5), "tone_bias"),
    Case(BrandRuntimeContext, "tone_bias below 0",
         put("channel_overrides.x.tone_bias.aggressive_vs_safe", -0.1), "tone_bias"),
    Case(BrandRuntimeContext, "override without length_mode", drop("channel_overrides.linkedin.length_mode"), "length_mode"),
    Case(BrandRuntimeContext, "length_mode epic", put("channel_overrides.linkedin.length_mode", "epic"), "length_mode"),
    Case(BrandRuntimeContext, "override without risk_mode", drop("channel_overrides.x.risk_mode"), "risk_mode"),
    Case(BrandRuntimeContext, "risk_mode reckless", put("channel_overrides.x.risk_mode", "reckless"), "risk_mode"),
    Case(BrandRuntimeContext, "freeform knob in an override",
         put("channel_overrides.x.ui_flag", True), "ui_flag"),
    Case(BrandRuntimeContext, "version 0", put("version", 0), "version"),
    # CO-07 BrandMemoryFragment
    Case(BrandMemoryFragment, "source_type scraped", put("source_type", "scraped"), "source_type"),
    Case(BrandMemoryFragment, "raw_text blank", put("raw_text", "  "), "raw_text"),
    Case(BrandMemoryFragment, "raw_text not short", put("raw_text", LONG), "raw_text"),
    Case(BrandMemoryFragment, "embedding_dim 0", put("embedding_dim", 0), "embedding_dim"),
    Case(BrandMemoryFragment, "embedding_dim huge", put("embedding_dim", 10_000), "embedding_dim"),
    Case(BrandMemoryFragment, "embedding_model blank", put("embedding_model", ""), "embedding_model"),
    # CO-08 GlobalSourceDoc
    Case(GlobalSourceDoc, "source_type tiktok", put("source_type", "tiktok"), "source_type"),
    Case(GlobalSourceDoc, "source_url not a url", put("source_url", "example.com/post"), "source_url"),
    Case(GlobalSourceDoc, "language not a code", put("language", "English"), "language"),
    Case(GlobalSourceDoc, "text blank", put("text", "   "), "text"),
    Case(GlobalSourceDoc, "content_hash not sha256", put("content_hash", "abc"), "content_hash"),
    # CO-09 OpportunityCard
    Case(OpportunityCard, "persona_id null with scope brand", put("persona_id", None), "persona_id"),
    Case(OpportunityCard, "persona_id null, scope explicitly brand",
         both(put("persona_id", None), put("scope", "brand")), "persona_id"),
    Case(OpportunityCard, "pillar_id null with scope brand", put("pillar_id", None), "pillar_id"),
    Case(OpportunityCard, "scope unknown", put("scope", "team"), "scope"),
    Case(OpportunityCard, "source_refs empty", put("source_refs", []), "source_refs"),
    Case(OpportunityCard, "source ref with both doc and internal trigger",
         put("source_refs.0.internal_trigger", "product_launch"), "source_refs"),
    Case(OpportunityCard, "source ref with neither doc nor internal trigger",
         drop("source_refs.0.global_source_doc_id"), "source_refs"),
    Case(OpportunityCard, "source ref without relevance note", drop("source_refs.0.note"), "relevance_note"),
    Case(OpportunityCard, "angle_summary blank", put("angle_summary", ""), "angle_summary"),
    Case(OpportunityCard, "angle_summary not short", put("angle_summary", LONG), "angle_summary"),
    Case(OpportunityCard, "opportunity_type viral", put("opportunity_type", "viral"), "opportunity_type"),
    Case(OpportunityCard, "score -1", put("score", -1), "score"),
    Case(OpportunityCard, "score 101", put("score", 101), "score"),
    Case(OpportunityCard, "score not numeric", put("score", "high"), "score"),
    Case(OpportunityCard, "lifecycle_state archived", put("lifecycle_state", "archived"), "lifecycle_state"),
    # CO-10 OpportunityBatch
    Case(OpportunityBatch, "date_scope free text", put("date_scope", "yesterday"), "date_scope"),
    Case(OpportunityBatch, "date_scope impossible date", put("date_scope", "2025-02-30"), "date_scope"),
    Case(OpportunityBatch, "date_scope week 54", put("date_scope", "2025-W54"), "date_scope"),
    Case(OpportunityBatch, "date_scope week 00", put("date_scope", "2025-W00"), "date_scope"),
    Case(OpportunityBatch, "opportunity_ids not a list", put("opportunity_ids", str(uuid4())), "opportunity_ids"),
    Case(OpportunityBatch, "opportunity_ids duplicated",
         duplicate_first("opportunity_ids"), "opportunity_ids"),
    # CO-11 PatternSourcePost
    Case(PatternSourcePost, "both brand_id and is_global", put("is_global", True), "brand_id"),
    Case(PatternSourcePost, "neither brand_id nor is_global", put("brand_id", None), "brand_id"),
    Case(PatternSourcePost, "channel unknown", put("channel", "myspace"), "channel"),
    Case(PatternSourcePost, "raw_text blank", put("raw_text", ""), "raw_text"),
    Case(PatternSourcePost, "impressions negative", put("impressions", -1), "impressions"),
    Case(PatternSourcePost, "engagements negative", put("engagements", -5), "engagements"),
    # CO-12 PatternTemplate
    Case(PatternTemplate, "name blank", put("name", ""), "name"),
    Case(PatternTemplate, "channel_constraints empty", put("channel_constraints", []), "channel_constraints"),
    Case(PatternTemplate, "channel_constraints unknown channel", put("channel_constraints", ["myspace"]), "channel_constraints"),
    Case(PatternTemplate, "channel_constraints mixes * and a channel",
         put("channel_constraints", ["*", "linkedin"]), "channel_constraints"),
    Case(PatternTemplate, "channel_constraints duplicated", put("channel_constraints", ["x", "x"]), "channel_constraints"),
    Case(PatternTemplate, "structure empty", put("structure", []), "structure"),
    Case(PatternTemplate, "structure beat not snake_case", put("structure", ["Hook!"]), "structure"),
    Case(PatternTemplate, "structure beat duplicated", put("structure", ["hook", "hook"]), "structure"),
    Case(PatternTemplate, "example_source_post_ids empty", put("example_source_post_ids", []), "example_source_post_ids"),
    Case(PatternTemplate, "example_source_post_ids not uuids", put("example_source_post_ids", ["psp_77"]), "example_source_post_ids"),
    Case(PatternTemplate, "usage_stats negative count", put("usage_stats.times_used", -1), "usage_stats"),
    Case(PatternTemplate, "usage_stats rate above 1", put("usage_stats.avg_engagement_rate", 1.5), "usage_stats"),
    Case(PatternTemplate, "status retired", put("status", "retired"), "status"),
    # CO-13 PatternUsage
    Case(PatternUsage, "channel unknown", put("channel", "myspace"), "channel"),
    Case(PatternUsage, "outcome metric negative", put("outcome", {"impressions": -5}), "outcome"),
    Case(PatternUsage, "outcome metric name not snake_case", put("outcome", {"Impressions": 5}), "outcome"),
    # CO-14 ContentPackage
    Case(ContentPackage, "neither opportunity_id nor manual origin", put("opportunity_id", None), "opportunity_id"),
    Case(ContentPackage, "manual origin without origin_note",
         both(put("origin_type", "manual"), put("opportunity_id", None)), "origin_note"),
    Case(ContentPackage, "evergreen_seed origin without origin_note",
         both(put("origin_type", "evergreen_seed"), put("opportunity_id", None)), "origin_note"),
    Case(ContentPackage, "manual origin with blank origin_note",
         both(put("origin_type", "manual"), put("opportunity_id", None), put("origin_note", "  ")), "origin_note"),
    Case(ContentPackage, "manual origin that also names an opportunity",
         both(put("origin_type", "manual"), put("origin_note", "Founder's idea")), "opportunity_id"),
    Case(ContentPackage, "origin_type unknown", put("origin_type", "import"), "origin_type"),
    Case(ContentPackage, "status deleted", put("status", "deleted"), "status"),
    Case(ContentPackage, "multi-scope package with no channel_plan_ids", put("channel_plan_ids", []), "channel_plan_ids"),
    Case(ContentPackage, "single scope without channel",
         both(put("channel_scope", "single"), put("channel_plan_ids", [])), "channel"),
    Case(ContentPackage, "single scope with two channel plans",
         both(put("channel_scope", "single"), put("channel", "linkedin")), "channel_plan_ids"),
    Case(ContentPackage, "multi scope with a single channel set", put("channel", "linkedin"), "channel"),
    Case(ContentPackage, "channel_plan_ids duplicated",
         duplicate_first("channel_plan_ids"), "channel_plan_ids"),
    # CO-15 CoreArgument
    Case(CoreArgument, "thesis of three sentences", put("thesis", THREE_SENTENCES), "thesis"),
    Case(CoreArgument, "thesis blank", put("thesis", " "), "thesis"),
    Case(CoreArgument, "thesis too long", put("thesis", "x" * 401), "thesis"),
    Case(CoreArgument, "2 supporting points", put("supporting_points", SUPPORTING_POINTS[:2]), "supporting_points"),
    Case(CoreArgument, "8 supporting points", put("supporting_points", SUPPORTING_POINTS[:8]), "supporting_points"),
    Case(CoreArgument, "blank supporting point",
         put("supporting_points", [*SUPPORTING_POINTS[:2], ""]), "supporting_points"),
    # CO-16 ChannelPlan
    Case(ChannelPlan, "channel tiktok", put("channel", "tiktok"), "channel"),
    Case(ChannelPlan, "pattern_bindings empty", put("pattern_bindings", []), "pattern_bindings"),
    Case(ChannelPlan, "binding without pattern_template_id",
         drop("pattern_bindings.0.pattern_template_id"), "pattern_template_id"),
    Case(ChannelPlan, "binding without beats", drop("pattern_bindings.0.beats"), "beats"),
    Case(ChannelPlan, "binding with empty beats", put("pattern_bindings.0.beats", {}), "beats"),
    Case(ChannelPlan, "beat not a structure element name",
         put("pattern_bindings.0.beats", {"The Hook": "x"}), "beats"),
    Case(ChannelPlan, "binding without target_variants", drop("pattern_bindings.0.target_variants"), "target_variants"),
    Case(ChannelPlan, "target_variants 0", put("pattern_bindings.0.target_variants", 0), "target_variants"),
    Case(ChannelPlan, "target_variants 11", put("pattern_bindings.0.target_variants", 11), "target_variants"),
    Case(ChannelPlan, "target_variants not an int", put("pattern_bindings.0.target_variants", "two"), "target_variants"),
    # CO-17 ContentVariant
    Case(ContentVariant, "body blank", put("body", ""), "body"),
    Case(ContentVariant, "status scheduled", put("status", "scheduled"), "status"),
    Case(ContentVariant, "channel unknown", put("channel", "myspace"), "channel"),
    Case(ContentVariant, "origin without generated_by", drop("origin.generated_by"), "generated_by"),
    Case(ContentVariant, "origin source_variant_id not a uuid", put("origin.source_variant_id", "cv_1"), "source_variant_id"),
    Case(ContentVariant, "variant is its own source", copy_field("id", "origin.source_variant_id"), "source_variant_id"),
    # CO-18 FeedbackEvent
    Case(FeedbackEvent, "feedback_type unknown", put("feedback_type", "like"), "feedback_type"),
    Case(FeedbackEvent, "variant_rating with an edit payload",
         put("payload", FEEDBACK_PAYLOADS["edit_applied"]), "payload"),
    Case(FeedbackEvent, "never_again with a rating payload",
         both(put("feedback_type", "never_again"), put("payload", {"rating": 4})), "payload"),
    Case(FeedbackEvent, "payload not an object", put("payload", 4), "payload"),
    Case(FeedbackEvent, "rating 6", put("payload.rating", 6), "payload"),
    Case(FeedbackEvent, "rating 0", put("payload.rating", 0), "payload"),
    Case(FeedbackEvent, "rating dimension 6", put("payload.dimensions.tone_match", 6), "payload"),
    Case(FeedbackEvent, "variant_rating without content_variant_id", put("content_variant_id", None), "content_variant_id"),
    Case(FeedbackEvent, "edit_applied without content_variant_id",
         put("content_variant_id", None), "content_variant_id", build=lambda: feedback_event("edit_applied")),
    Case(FeedbackEvent, "performance_snapshot without content_variant_id",
         put("content_variant_id", None), "content_variant_id", build=lambda: feedback_event("performance_snapshot")),
    Case(FeedbackEvent, "edit_applied with no actual edit",
         put("payload.edited_text", FEEDBACK_PAYLOADS["edit_applied"]["original_text"]), "payload",
         build=lambda: feedback_event("edit_applied")),
    Case(FeedbackEvent, "edit_applied edit_distance above 1",
         put("payload.edit_distance", 1.5), "edit_distance", build=lambda: feedback_event("edit_applied")),
    Case(FeedbackEvent, "never_again phrase target without phrase",
         drop("payload.phrase"), "payload", build=lambda: feedback_event("never_again")),
    Case(FeedbackEvent, "never_again target unknown",
         put("payload.target", "everything"), "target", build=lambda: feedback_event("never_again")),
    Case(FeedbackEvent, "saved_as_example fragment id not a uuid",
         put("payload.memory_fragment_id", "frag_42"), "memory_fragment_id", build=lambda: feedback_event("saved_as_example")),
    Case(FeedbackEvent, "performance_snapshot with no metrics",
         put("payload.metrics", {}), "metrics", build=lambda: feedback_event("performance_snapshot")),
    Case(FeedbackEvent, "performance_snapshot naive captured_at",
         put("payload.captured_at", "2025-02-03T09:00:00"), "captured_at", build=lambda: feedback_event("performance_snapshot")),
    # CO-19 BrandPreferences
    Case(BrandPreferences, "pattern_weights keyed by non-uuid", put("pattern_weights", {"pt_confessional_1": 1.4}), "pattern_weights"),
    Case(BrandPreferences, "pattern weight negative", put("pattern_weights", {str(uuid4()): -1}), "pattern_weights"),
    Case(BrandPreferences, "pattern weight above 10", put("pattern_weights", {str(uuid4()): 11}), "pattern_weights"),
    Case(BrandPreferences, "tone_bias_overrides above 1", put("tone_bias_overrides.story_vs_tactical", 1.5), "tone_bias_overrides"),
    Case(BrandPreferences, "persona_pillar_bias key not persona::pillar",
         put("persona_pillar_bias", {"persona_1::pillar_strategy": 1.2}), "persona_pillar_bias"),
    Case(BrandPreferences, "opportunity_scoring_weights empty", put("opportunity_scoring_weights", {}), "opportunity_scoring_weights"),
    Case(BrandPreferences, "opportunity_scoring_weights unknown factor",
         put("opportunity_scoring_weights", {"virality": 1.0}), "opportunity_scoring_weights"),
    Case(BrandPreferences, "version 0", put("version", 0), "version"),
    # CO-20 GlobalPriors
    Case(GlobalPriors, "brand-specific field brand_id", put("brand_id", str(uuid4())), "brand_id"),
    Case(GlobalPriors, "default_tone_bias empty", put("default_tone_bias", {}), "default_tone_bias"),
    Case(GlobalPriors, "default_tone_bias above 1",
         put("default_tone_bias.linkedin.story_vs_tactical", 2), "default_tone_bias"),
    Case(GlobalPriors, "default_opportunity_weights empty", put("default_opportunity_weights", {}), "default_opportunity_weights"),
    Case(GlobalPriors, "pattern_stats keyed by non-uuid",
         put("pattern_stats", {"pt_confessional_1": {"times_used": 1}}), "pattern_stats"),
    Case(GlobalPriors, "pattern_stats negative count",
         put("pattern_stats", {str(uuid4()): {"times_used": -1}}), "pattern_stats"),
    Case(GlobalPriors, "channel_stats unknown channel",
         put("channel_stats", {"myspace": {"times_used": 1}}), "channel_stats"),
    Case(GlobalPriors, "segment not a slug", put("segment", "Default Segment"), "segment"),
    # CO-21 ChannelConfig
    Case(ChannelConfig, "channel unknown", put("channel", "myspace"), "channel"),
    Case(ChannelConfig, "status pending", put("status", "pending"), "status"),
    Case(ChannelConfig, "scopes blank entry", put("scopes", [""]), "scopes"),
    Case(ChannelConfig, "scopes over 64", put("scopes", [f"s{i}" for i in range(65)]), "scopes"),
    Case(ChannelConfig, "rate_limits posts_per_day 0", put("rate_limits.posts_per_day", 0), "rate_limits"),
    Case(ChannelConfig, "rate_limits unknown key", put("rate_limits.burst", 3), "rate_limits"),
    # CO-22 PublishingJob
    Case(PublishingJob, "status queued", put("status", "queued"), "status"),
    Case(PublishingJob, "failed without last_error", put("status", "failed"), "last_error"),
    Case(PublishingJob, "last_error not short",
         both(put("status", "failed"), put("last_error", LONG)), "last_error"),
    Case(PublishingJob, "running without a lease", put("status", "running"), "lease_owner"),
    Case(PublishingJob, "attempts above max_attempts", both(put("attempts", 6), put("max_attempts", 5)), "attempts"),
    Case(PublishingJob, "attempts negative", put("attempts", -1), "attempts"),
    Case(PublishingJob, "max_attempts above ceiling", put("max_attempts", 21), "max_attempts"),
    # CO-23 Org
    Case(Org, "slug with spaces", put("slug", "Acme Agency"), "slug"),
    Case(Org, "status deleted", put("status", "deleted"), "status"),
    # CO-24 BrandMembership
    Case(BrandMembership, "role owner", put("role", "owner"), "role"),
    # CO-25 ApiKey
    Case(ApiKey, "lookup wrong shape", put("lookup", "XYZ"), "lookup"),
    Case(ApiKey, "secret_hash is a plaintext secret", put("secret_hash", "s3cret"), "secret_hash"),
    Case(ApiKey, "expires_at equals created_at", put("expires_at", "2025-01-01T09:00:00Z"), "expires_at"),
    Case(ApiKey, "expires_at before created_at", put("expires_at", "2024-12-31T09:00:00Z"), "expires_at"),
    # CO-26 PublishAttempt
    Case(PublishAttempt, "success without external_post_id", put("external_post_id", None), "external_post_id"),
    Case(PublishAttempt, "raw_response with access_token",
         put("raw_response", {"access_token": "abc", "id": "1"}), "raw_response"),
    Case(PublishAttempt, "raw_response with nested Authorization header",
         put("raw_response", {"request": {"headers": {"Authorization": "Bearer abc"}}}), "raw_response"),
    Case(PublishAttempt, "raw_response with api_key inside a list",
         put("raw_response", {"items": [{"api-key": "abc"}]}), "raw_response"),
    Case(PublishAttempt, "raw_response not truncated", put("raw_response", {"body": "x" * 5000}), "raw_response"),
    Case(PublishAttempt, "in_flight with finished_at", put("status", "in_flight"), "finished_at"),
    Case(PublishAttempt, "finished without finished_at", put("finished_at", None), "finished_at"),
    Case(PublishAttempt, "finished_at before started_at", put("finished_at", "2025-02-02T08:59:00Z"), "finished_at"),
    Case(PublishAttempt, "failed without error_code",
         both(put("status", "failed"), put("external_post_id", None)), "error_code"),
    Case(PublishAttempt, "unconfirmed without error_code",
         both(put("status", "unconfirmed"), put("external_post_id", None)), "error_code"),
    Case(PublishAttempt, "attempt_index 0", put("attempt_index", 0), "attempt_index"),
    Case(PublishAttempt, "attempt_index above ceiling", put("attempt_index", 21), "attempt_index"),
    Case(PublishAttempt, "status done", put("status", "done"), "status"),
    # CO-30 AgentStatus
    Case(AgentStatus, "state sleeping", put("state", "sleeping"), "state"),
    Case(AgentStatus, "error without last_error", put("state", "error"), "last_error"),
    Case(AgentStatus, "cadence under a minute", put("cadence_seconds", 30), "cadence_seconds"),
    Case(AgentStatus, "version 0", put("version", 0), "version"),
    # CO-27 AgentRun
    Case(AgentRun, "result without finished_at", put("finished_at", None), "finished_at"),
    Case(AgentRun, "finished_at without result", put("result", None), "result"),
    Case(AgentRun, "finished_at before started_at", put("finished_at", "2025-02-01T05:00:00Z"), "finished_at"),
    Case(AgentRun, "trigger_type cron", put("trigger_type", "cron"), "trigger_type"),
    Case(AgentRun, "result ok", put("result", "ok"), "result"),
    Case(AgentRun, "summary blank", put("summary", ""), "summary"),
    # CO-28 EventLog
    Case(EventLog, "event_type unknown", put("event_type", "something_happened"), "event_type"),
    Case(EventLog, "message blank", put("message", ""), "message"),
    Case(EventLog, "subject_type blank", put("subject_type", ""), "subject_type"),
    # CO-29 QualityReport
    Case(QualityReport, "overall_pass with g4 failed", put("g4_voice_alignment", False), "overall_pass"),
    Case(QualityReport, "overall_pass with g5 failed", put("g5_platform_compliance", False), "overall_pass"),
    Case(QualityReport, "passing report with critic reasons",
         put("critic_reasons", [{"gate": "g2", "reason": "Weak hook."}]), "critic_reasons"),
    Case(QualityReport, "failing report without critic reasons", put("critic_reasons", []), "critic_reasons",
         build=failing_quality_report),
    Case(QualityReport, "attempt_number 4", put("attempt_number", 4), "attempt_number"),
    Case(QualityReport, "attempt_number 0", put("attempt_number", 0), "attempt_number"),
    Case(QualityReport, "g2_hook_strength above 100", put("g2_hook_strength", 101), "g2_hook_strength"),
    Case(QualityReport, "g7_engagement_prediction negative", put("g7_engagement_prediction", -1), "g7_engagement_prediction"),
    Case(QualityReport, "critic reason with unknown gate", put("critic_reasons.0.gate", "g9"), "gate",
         build=failing_quality_report),
    Case(QualityReport, "more than 20 critic reasons",
         put("critic_reasons", [{"gate": "g4", "reason": f"r{i}"} for i in range(21)]), "critic_reasons",
         build=failing_quality_report),
]

# "MUST have X" where X has no sensible default: dropping it is refused, naming X.
REQUIRED_BY_SEED: dict[type[BaseModel], list[str]] = {
    Brand: ["org_id", "name", "slug", "owner_user_ids"],
    Persona: ["brand_id", "name", "description", "pain_points", "goals"],
    Pillar: ["brand_id", "name", "description"],
    User: ["org_id", "email", "role"],
    BrandBrainSnapshot: ["brand_id", "version", "positioning"],
    BrandRuntimeContext: ["brand_id", "brand_brain_snapshot_id", "channel_overrides"],
    BrandMemoryFragment: ["brand_id", "source_type", "raw_text", "embedding_model", "embedding_dim"],
    GlobalSourceDoc: ["source_type", "language", "text"],
    OpportunityCard: ["brand_id", "source_refs", "angle_summary", "opportunity_type", "score"],
    OpportunityBatch: ["brand_id", "date_scope", "opportunity_ids"],
    PatternSourcePost: ["channel", "raw_text", "created_at"],
    PatternTemplate: ["name", "channel_constraints", "structure", "example_source_post_ids"],
    PatternUsage: ["pattern_template_id", "content_variant_id", "brand_id", "channel"],
    ContentPackage: ["brand_id", "core_argument_id"],
    CoreArgument: ["content_package_id", "thesis", "supporting_points", "persona_id", "pillar_id"],
    ChannelPlan: ["content_package_id", "channel", "pattern_bindings", "brand_brain_snapshot_id"],
    ContentVariant: [
        "content_package_id", "channel_plan_id", "brand_id", "channel",
        "pattern_template_id", "persona_id", "pillar_id", "body", "origin",
    ],
    FeedbackEvent: ["brand_id", "feedback_type", "payload"],
    BrandPreferences: ["brand_id", "opportunity_scoring_weights"],
    GlobalPriors: ["default_tone_bias", "default_opportunity_weights"],
    ChannelConfig: ["brand_id", "channel"],
    PublishingJob: ["brand_id", "content_variant_id", "channel", "scheduled_at"],
    PublishAttempt: ["publishing_job_id", "attempt_index"],
    Org: ["name", "slug"],
    BrandMembership: ["brand_id", "user_id", "role"],
    ApiKey: ["user_id", "name", "lookup", "secret_hash"],
    AgentRun: ["brand_id", "trigger_type"],
    AgentStatus: ["brand_id"],
    EventLog: ["event_type", "subject_type", "message"],
    QualityReport: [
        "brand_id", "content_variant_id", "attempt_number", "g2_hook_strength",
        "g4_voice_alignment", "g5_platform_compliance", "g7_engagement_prediction", "overall_pass",
    ],
}


def _is_timestamp(value: Any) -> bool:
    return isinstance(value, str) and len(value) == 20 and value[10] == "T" and value.endswith("Z")


def _generated_cases() -> list[Case]:
    """Rules that hold for every object: uuid ids, aware timestamps, no unknown fields, order."""
    cases: list[Case] = []
    for cls, builder in BUILDERS.items():
        sample = builder()
        cases.append(Case(cls, "unknown field (extra=forbid)", put("unexpected_field", 1), "unexpected_field"))
        for key, value in sample.items():
            if cls.model_fields[key].annotation in (UUID, UUID | None):
                cases.append(Case(cls, f"{key} not a uuid", put(key, "b_123"), key))
            if _is_timestamp(value):
                cases.append(Case(cls, f"{key} without timezone", put(key, value[:-1]), key))
        if "created_at" in sample and "updated_at" in sample:
            cases.append(Case(cls, "updated_at before created_at", make_updated_before_created, "updated_at"))
        for field in REQUIRED_BY_SEED[cls]:
            cases.append(Case(cls, f"{field} missing", drop(field), field))
    return cases


ALL_INVALID = INVALID_CASES + _generated_cases()


def _case_id(case: Case) -> str:
    return f"{case.cls.__name__}: {case.description}"


@pytest.mark.parametrize("case", ALL_INVALID, ids=_case_id)
def test_invariant_is_enforced(case: Case) -> None:
    data = build(case.cls, case.build)
    case.cls.model_validate(copy.deepcopy(data), context=case.context)  # the base dict is valid
    case.patch(data)
    with pytest.raises(ValidationError) as info:
        case.cls.model_validate(data, context=case.context)
    assert names_field(info.value, case.field), (
        f"{case.field!r} not named by: {info.value.errors(include_url=False)}"
    )


# --------------------------------------------------------------------------------------------
# Valid dicts and the edge cases the seed explicitly allows.
# --------------------------------------------------------------------------------------------


def test_every_canonical_object_has_a_builder() -> None:
    assert set(CANONICAL_OBJECTS.values()) == set(BUILDERS)
    assert set(REQUIRED_BY_SEED) == set(BUILDERS)


@pytest.mark.parametrize("cls", list(BUILDERS), ids=lambda c: c.__name__)
def test_builder_produces_a_valid_object(cls: type[BaseModel]) -> None:
    obj = cls.model_validate(BUILDERS[cls]())
    # Round-trips through JSON unchanged (what the stores do).
    assert cls.model_validate_json(obj.model_dump_json()) == obj


@pytest.mark.parametrize("kind", list(FEEDBACK_PAYLOADS))
def test_feedback_event_accepts_each_payload_type(kind: str) -> None:
    event = FeedbackEvent.model_validate(feedback_event(kind))
    assert type(event.payload).__name__ == {
        "variant_rating": "VariantRating",
        "edit_applied": "EditApplied",
        "never_again": "NeverAgain",
        "saved_as_example": "SavedAsExample",
        "performance_snapshot": "PerformanceSnapshot",
    }[kind]


VALID_VARIANTS: list[Case] = [
    Case(Brand, "no primary channel while setup is incomplete",
         both(put("primary_channels", []), put("setup_complete", False)), ""),
    Case(Brand, "status inactive", put("status", "inactive"), ""),
    Case(Persona, "status hidden", put("status", "hidden"), ""),
    Case(Pillar, "priority omitted (defaults to 0)", drop("priority"), ""),
    Case(User, "every role", put("role", "admin"), ""),
    Case(BrandBrainSnapshot, "version 1", put("version", 1), ""),
    Case(GlobalSourceDoc, "no source_url, author or published_at",
         both(put("source_url", None), put("author_handle", None), put("published_at", None)), ""),
    Case(OpportunityCard, "persona_id null with scope global",
         both(put("persona_id", None), put("scope", "global")), ""),
    Case(OpportunityCard, "score 0", put("score", 0), ""),
    Case(OpportunityCard, "score 100", put("score", 100), ""),
    Case(OpportunityCard, "internal trigger source ref",
         put("source_refs", [{"internal_trigger": "product_launch", "relevance_note": "v2 ships"}]), ""),
    Case(OpportunityBatch, "ISO week date_scope", put("date_scope", "2025-W05"), ""),
    Case(OpportunityBatch, "empty batch", put("opportunity_ids", []), ""),
    Case(PatternSourcePost, "global post without brand_id",
         both(put("brand_id", None), put("is_global", True)), ""),
    Case(PatternSourcePost, "no metrics", both(drop("impressions"), drop("engagements")), ""),
    Case(PatternTemplate, "all channels (*)", put("channel_constraints", ["*"]), ""),
    Case(PatternTemplate, "no usage_stats yet", drop("usage_stats"), ""),
    Case(PatternUsage, "outcome still null", put("outcome", None), ""),
    Case(ContentPackage, "manual origin with note",
         both(put("origin_type", "manual"), put("opportunity_id", None), put("origin_note", "Founder's idea")), ""),
    Case(ContentPackage, "evergreen seed with note",
         both(put("origin_type", "evergreen_seed"), put("opportunity_id", None), put("origin_note", "Q1 evergreen")), ""),
    Case(ContentPackage, "single scope with one channel and no plans",
         both(put("channel_scope", "single"), put("channel", "x"), put("channel_plan_ids", [])), ""),
    Case(ContentPackage, "single scope with one channel and one plan",
         both(put("channel_scope", "single"), put("channel", "x"), put("channel_plan_ids", [str(uuid4())])), ""),
    Case(CoreArgument, "3 supporting points", put("supporting_points", SUPPORTING_POINTS[:3]), ""),
    Case(CoreArgument, "7 supporting points", put("supporting_points", SUPPORTING_POINTS[:7]), ""),
    Case(CoreArgument, "thesis of two sentences", put("thesis", TWO_SENTENCES), ""),
    Case(CoreArgument, "thesis with a decimal number", put("thesis", "CAC rose 2.5x last year, and nobody noticed."), ""),
    Case(ChannelPlan, "target_variants 10", put("pattern_bindings.0.target_variants", 10), ""),
    Case(ContentVariant, "regenerated from another variant", put("origin.source_variant_id", str(uuid4())), ""),
    Case(FeedbackEvent, "system event without user_id", put("user_id", None), ""),
    Case(FeedbackEvent, "saved_as_example without content_variant_id", put("content_variant_id", None), "",
         build=lambda: feedback_event("saved_as_example")),
    Case(FeedbackEvent, "never_again pattern target without phrase",
         both(put("payload", {"target": "pattern"}), put("content_variant_id", None)), "",
         build=lambda: feedback_event("never_again")),
    Case(GlobalPriors, "brand ids given but none referenced", lambda d: None, "",
         context={"brand_ids": {uuid4(), uuid4()}}),
    Case(ChannelConfig, "no rate limits", put("rate_limits", {}), ""),
    Case(PublishingJob, "failed with last_error",
         both(put("status", "failed"), put("last_error", "429 rate limited"), put("attempts", 5)), ""),
    Case(PublishingJob, "running with a lease",
         both(put("status", "running"), put("lease_owner", "publisher-1"), put("lease_expires_at", "2025-02-02T09:05:00Z")), ""),
    Case(PublishAttempt, "in flight", both(put("status", "in_flight"), put("finished_at", None),
                                           put("external_post_id", None), put("raw_response", None)), ""),
    Case(PublishAttempt, "unconfirmed with error_code",
         both(put("status", "unconfirmed"), put("external_post_id", None), put("error_code", "timeout")), ""),
    Case(AgentRun, "still running", both(put("finished_at", None), put("result", None)), ""),
    Case(ApiKey, "never expires", put("expires_at", None), ""),
    Case(QualityReport, "failing report with reasons", lambda d: None, "", build=failing_quality_report),
    Case(QualityReport, "attempt_number 3", put("attempt_number", 3), ""),
]


@pytest.mark.parametrize("case", VALID_VARIANTS, ids=_case_id)
def test_allowed_edge_case_validates(case: Case) -> None:
    data = build(case.cls, case.build)
    case.patch(data)
    assert isinstance(case.cls.model_validate(data, context=case.context), case.cls)


# --------------------------------------------------------------------------------------------
# Focused tests: immutability, GlobalPriors anonymity, error locations, API keys.
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "field", "value"),
    [
        (BrandBrainSnapshot, "positioning", "We now do something else."),
        (BrandBrainSnapshot, "version", 4),
        (FeedbackEvent, "user_id", None),
        (EventLog, "message", "rewritten history"),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else str(v),
)
def test_immutable_objects_refuse_assignment(cls: type[BaseModel], field: str, value: Any) -> None:
    obj = cls.model_validate(BUILDERS[cls]())
    before = getattr(obj, field)
    with pytest.raises(ValidationError) as info:
        setattr(obj, field, value)
    assert info.value.errors()[0]["type"] == "frozen_instance"
    assert getattr(obj, field) == before


def test_opportunity_card_created_at_never_changes_but_state_does() -> None:
    card = OpportunityCard.model_validate(opportunity_card())
    created = card.created_at
    with pytest.raises(ValidationError) as info:
        card.created_at = created.replace(year=2030)
    assert info.value.errors()[0]["loc"] == ("created_at",)
    assert card.created_at == created
    card.lifecycle_state = "snoozed"  # other fields stay mutable (user snooze/pin/ignore)
    assert card.lifecycle_state == "snoozed"


def test_core_argument_persona_and_pillar_are_locked() -> None:
    argument = CoreArgument.model_validate(core_argument())
    for field in ("persona_id", "pillar_id"):
        with pytest.raises(ValidationError) as info:
            setattr(argument, field, uuid4())
        assert info.value.errors()[0]["loc"] == (field,)
    argument.thesis = TWO_SENTENCES  # inline edits of the message stay possible
    with pytest.raises(ValidationError):
        argument.thesis = THREE_SENTENCES


def test_assignment_is_revalidated() -> None:
    b = Brand.model_validate(brand())
    with pytest.raises(ValidationError) as info:
        b.slug = "Acme Analytics"
    assert info.value.errors()[0]["loc"] == ("slug",)
    with pytest.raises(ValidationError):
        b.owner_user_ids = []


@pytest.mark.parametrize("field", ["pattern_stats", "segment", "id"])
def test_global_priors_refuse_brand_ids(field: str) -> None:
    brand_id = uuid4()
    data = global_priors()
    if field == "pattern_stats":
        data["pattern_stats"][str(brand_id)] = {"times_used": 3}
    else:
        data[field] = str(brand_id)
    GlobalPriors.model_validate(copy.deepcopy(data))  # without the list of brands: not checkable
    with pytest.raises(ValidationError) as info:
        GlobalPriors.model_validate(data, context={"brand_ids": {brand_id}})
    assert names_field(info.value, field)
    assert str(brand_id) in str(info.value)


def test_feedback_payload_errors_are_located_under_payload() -> None:
    data = feedback_event("variant_rating")
    data["payload"]["rating"] = 6
    with pytest.raises(ValidationError) as info:
        FeedbackEvent.model_validate(data)
    assert [e["loc"] for e in info.value.errors()] == [("payload", "rating")]


def test_feedback_payload_instance_of_wrong_type_is_refused() -> None:
    other = FeedbackEvent.model_validate(feedback_event("never_again")).payload
    data = feedback_event("variant_rating")
    data["payload"] = other
    with pytest.raises(ValidationError) as info:
        FeedbackEvent.model_validate(data)
    assert names_field(info.value, "payload")


def test_source_ref_accepts_the_seed_note_alias() -> None:
    card = OpportunityCard.model_validate(opportunity_card())
    assert card.source_refs[0].relevance_note == "Article about broken attribution models"


def test_api_key_round_trip() -> None:
    user_id = uuid4()
    token, key = mint_api_key(user_id, "ci")
    parsed = parse_api_key(token)
    assert parsed is not None
    lookup, secret = parsed
    assert key.lookup == lookup and key.user_id == user_id
    assert key.matches(token)

    # The stored record (and its serialized form) never carries the plaintext secret.
    assert secret not in key.model_dump_json()
    assert secret not in repr(key)
    assert key.secret_hash != secret
    stored = ApiKey.model_validate_json(key.model_dump_json())
    assert stored.matches(token)

    # Wrong or malformed tokens do not match.
    other_token, _ = mint_api_key(user_id, "other")
    assert not key.matches(other_token)
    assert not key.matches(f"kairo_{lookup}_{secret}x")
    assert not key.matches(f"kairo_{lookup}_")
    assert not key.matches(token.replace("kairo_", "other_", 1))
    assert parse_api_key("kairo_short_secret") is None
    assert parse_api_key("not-a-key") is None
