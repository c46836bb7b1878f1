"""Where each canonical object lives: one ``Table`` per object."""

from __future__ import annotations

from typing import Any

from storage.objects import (
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
)

from .rows import Table


def _variant_to_row(variant: ContentVariant, row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "generated_by": variant.origin.generated_by, "source_variant_id": variant.origin.source_variant_id}


def _variant_from_row(row: dict[str, Any]) -> dict[str, Any]:
    row["origin"] = {"generated_by": row.pop("generated_by"), "source_variant_id": row.pop("source_variant_id")}
    return row


ORGS = Table("orgs", Org)
USERS = Table("users", User)
BRANDS = Table("brands", Brand)
MEMBERSHIPS = Table("brand_memberships", BrandMembership)
API_KEYS = Table("api_keys", ApiKey)
PERSONAS = Table("personas", Persona)
PILLARS = Table("pillars", Pillar)
SNAPSHOTS = Table(
    "brand_brain_snapshots",
    BrandBrainSnapshot,
    json_columns=frozenset({"tone_profile", "voice_markers", "banned_words", "stances", "competitors"}),
)
RUNTIME_CONTEXTS = Table("brand_runtime_contexts", BrandRuntimeContext, json_columns=frozenset({"channel_overrides"}))
MEMORY_FRAGMENTS = Table("memory_fragments", BrandMemoryFragment)
SOURCE_DOCS = Table("global_source_docs", GlobalSourceDoc)
OPPORTUNITY_CARDS = Table("opportunity_cards", OpportunityCard, json_columns=frozenset({"source_refs"}))
OPPORTUNITY_BATCHES = Table("opportunity_batches", OpportunityBatch)
PATTERN_SOURCE_POSTS = Table("pattern_source_posts", PatternSourcePost)
PATTERN_TEMPLATES = Table("pattern_templates", PatternTemplate, json_columns=frozenset({"usage_stats"}))
PATTERN_USAGES = Table("pattern_usages", PatternUsage, json_columns=frozenset({"outcome"}))
CONTENT_PACKAGES = Table(
    "content_packages",
    ContentPackage,
    virtual_fields=frozenset({"channel_plan_ids"}),
    select_sql=(
        "SELECT p.*, coalesce((SELECT array_agg(c.id ORDER BY c.created_at, c.channel) FROM channel_plans c"
        " WHERE c.content_package_id = p.id), '{}') AS channel_plan_ids FROM content_packages p"
    ),
)
CORE_ARGUMENTS = Table("core_arguments", CoreArgument)
CHANNEL_PLANS = Table("channel_plans", ChannelPlan, json_columns=frozenset({"pattern_bindings"}))
CONTENT_VARIANTS = Table(
    "content_variants",
    ContentVariant,
    virtual_fields=frozenset({"origin"}),
    extra_columns=("generated_by", "source_variant_id"),
    to_row_hook=_variant_to_row,
    from_row_hook=_variant_from_row,
)
FEEDBACK_EVENTS = Table("feedback_events", FeedbackEvent, json_columns=frozenset({"payload"}))
BRAND_PREFERENCES = Table(
    "brand_preferences",
    BrandPreferences,
    json_columns=frozenset({"pattern_weights", "tone_bias_overrides", "persona_pillar_bias", "opportunity_scoring_weights"}),
)
GLOBAL_PRIORS = Table(
    "global_priors",
    GlobalPriors,
    json_columns=frozenset({"pattern_stats", "channel_stats", "default_tone_bias", "default_opportunity_weights"}),
)
CHANNEL_CONFIGS = Table("channel_configs", ChannelConfig, json_columns=frozenset({"rate_limits"}))
PUBLISHING_JOBS = Table("publishing_jobs", PublishingJob)
PUBLISH_ATTEMPTS = Table("publish_attempts", PublishAttempt, json_columns=frozenset({"raw_response"}))
AGENT_RUNS = Table("agent_runs", AgentRun)
EVENT_LOG = Table("event_log", EventLog, json_columns=frozenset({"meta"}))
QUALITY_REPORTS = Table("quality_reports", QualityReport, json_columns=frozenset({"critic_reasons"}))
AGENT_STATES = Table("agent_states", AgentStatus, key="brand_id")

ALL_TABLES: tuple[Table[Any], ...] = (
    ORGS, USERS, BRANDS, MEMBERSHIPS, API_KEYS, PERSONAS, PILLARS, SNAPSHOTS, RUNTIME_CONTEXTS,
    MEMORY_FRAGMENTS, SOURCE_DOCS, OPPORTUNITY_CARDS, OPPORTUNITY_BATCHES, PATTERN_SOURCE_POSTS,
    PATTERN_TEMPLATES, PATTERN_USAGES, CONTENT_PACKAGES, CORE_ARGUMENTS, CHANNEL_PLANS,
    CONTENT_VARIANTS, FEEDBACK_EVENTS, BRAND_PREFERENCES, GLOBAL_PRIORS, CHANNEL_CONFIGS,
    PUBLISHING_JOBS, PUBLISH_ATTEMPTS, AGENT_RUNS, EVENT_LOG, QUALITY_REPORTS, AGENT_STATES,
)  # fmt: skip
