"""Closed vocabularies of the canonical objects (seed 000 and the CO-23+ extensions).

Each enum mirrors a CHECK constraint or catalog table in ``storage/postgres/migrations``; a test
compares the two so they cannot drift apart.
"""

from enum import StrEnum
from typing import Literal


class Channel(StrEnum):
    """Where content goes. Mirrors the ``channels`` catalog table."""

    LINKEDIN = "linkedin"
    X = "x"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    YOUTUBE_SCRIPT = "youtube_script"


class BrandStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class VisibilityStatus(StrEnum):
    """Persona and pillar status; ``hidden`` means not used in v1."""

    ACTIVE = "active"
    HIDDEN = "hidden"


class UserRole(StrEnum):
    CREATOR = "creator"
    STRATEGIST = "strategist"
    MANAGER = "manager"
    ADMIN = "admin"


class UserStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class OrgStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class LengthMode(StrEnum):
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


class RiskMode(StrEnum):
    SAFE = "safe"
    BALANCED = "balanced"
    SPICY = "spicy"


class MemorySourceType(StrEnum):
    IMPORTED_EXAMPLE = "imported_example"
    GENERATED_HIT = "generated_hit"
    MANUAL = "manual"


class SourceDocType(StrEnum):
    ARTICLE = "article"
    LINKEDIN_POST = "linkedin_post"
    X_POST = "x_post"
    MASTODON_POST = "mastodon_post"
    BLUESKY_POST = "bluesky_post"
    BLOG_POST = "blog_post"
    NEWSLETTER = "newsletter"
    TRANSCRIPT = "transcript"
    PASTED_TEXT = "pasted_text"


class OpportunityScope(StrEnum):
    BRAND = "brand"
    GLOBAL = "global"


class OpportunityType(StrEnum):
    TREND = "trend"
    EVERGREEN = "evergreen"
    COMPETITIVE = "competitive"
    PRODUCT = "product"
    CAMPAIGN = "campaign"


class OpportunityState(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    USED = "used"
    SNOOZED = "snoozed"
    DISMISSED = "dismissed"


class PatternStatus(StrEnum):
    ACTIVE = "active"
    EXPERIMENTAL = "experimental"
    DEPRECATED = "deprecated"


class OriginType(StrEnum):
    OPPORTUNITY = "opportunity"
    MANUAL = "manual"
    EVERGREEN_SEED = "evergreen_seed"


class ChannelScope(StrEnum):
    MULTI = "multi"
    SINGLE = "single"


class PackageStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class VariantStatus(StrEnum):
    DRAFT = "draft"
    EDITED = "edited"
    APPROVED = "approved"
    REJECTED = "rejected"
    PUBLISHED = "published"


class FeedbackType(StrEnum):
    VARIANT_RATING = "variant_rating"
    EDIT_APPLIED = "edit_applied"
    NEVER_AGAIN = "never_again"
    SAVED_AS_EXAMPLE = "saved_as_example"
    PERFORMANCE_SNAPSHOT = "performance_snapshot"


class ChannelStatus(StrEnum):
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    ERROR = "error"


class PublishStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    FAILED = "failed"
    CANCELED = "canceled"


class AttemptStatus(StrEnum):
    """Outcome of one publish attempt. ``unconfirmed``: sent, but the answer never came."""

    IN_FLIGHT = "in_flight"
    SUCCESS = "success"
    FAILED = "failed"
    RETRIED = "retried"
    CANCELLED = "cancelled"
    UNCONFIRMED = "unconfirmed"


class RunTrigger(StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    TREND_SPIKE = "trend_spike"
    RETRY = "retry"
    SYSTEM = "system"


class RunResult(StrEnum):
    SUCCESS = "success"
    PARTIAL_SUCCESS = "partial_success"
    ERROR = "error"


class AgentState(StrEnum):
    IDLE = "idle"
    PLANNING = "planning"
    CREATING = "creating"
    PUBLISHING = "publishing"
    ANALYZING = "analyzing"
    ADAPTING = "adapting"
    ERROR = "error"


class EventType(StrEnum):
    BRAND_CREATED = "brand_created"
    SNAPSHOT_CREATED = "snapshot_created"
    RUNTIME_CONTEXT_UPDATED = "runtime_context_updated"
    AGENT_STATE_CHANGED = "agent_state_changed"
    AGENT_ACTIVATED = "agent_activated"
    AGENT_PASSIVATED = "agent_passivated"
    RUN_STARTED = "run_started"
    RUN_FINISHED = "run_finished"
    OPPORTUNITY_CREATED = "opportunity_created"
    PACKAGE_GENERATED = "package_generated"
    PUBLISH_SCHEDULED = "publish_scheduled"
    PUBLISH_SUCCEEDED = "publish_succeeded"
    PUBLISH_FAILED = "publish_failed"
    FEEDBACK_RECORDED = "feedback_recorded"
    PREFERENCES_UPDATED = "preferences_updated"
    MEMORY_ADDED = "memory_added"
    API_KEY_CREATED = "api_key_created"
    ERROR = "error"
    API_KEY_REVOKED = "api_key_revoked"
    USER_UPDATED = "user_updated"
    ORG_UPDATED = "org_updated"
    MEMBERSHIP_REMOVED = "membership_removed"
    POSTS_IMPORTED = "posts_imported"  # 0015_pattern_events.sql
    TEMPLATE_STATUS_CHANGED = "template_status_changed"  # 0015_pattern_events.sql


class Gate(StrEnum):
    """Quality gates (seed 004): hook, voice, platform, engagement prediction, compliance."""

    G2_HOOK = "g2"
    G4_VOICE = "g4"
    G5_PLATFORM = "g5"
    G7_ENGAGEMENT = "g7"
    COMPLIANCE = "g_compliance"


GateRule = Literal["platform", "banned_words", "taboo", "hook", "similarity", "engagement"]
"""The gates as lint rules (``agents.gates``), as their reports store them (migration 0016)."""
GateVerdict = Literal["pass", "flag", "reject"]
GATE_TEXT_MAX = 40_000
"""Longest text the gates take and a stored draft check keeps (a YouTube script is at most 5,000)."""


class BannedSeverity(StrEnum):
    HARD = "hard"
    SOFT = "soft"


class DnaSource(StrEnum):
    DETECTED = "detected"
    MANUAL = "manual"
    VOICE = "voice"


class VoiceMarkerCategory(StrEnum):
    SIGNATURE = "signature"
    TONE = "tone"
    STRUCTURE = "structure"


class StanceCategory(StrEnum):
    CONTRARIAN = "contrarian"
    AUTHORITY = "authority"
    CHALLENGER = "challenger"
    MENTOR = "mentor"
