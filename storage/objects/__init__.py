"""The canonical objects CO-01..CO-22 of seed 000 and the extensions CO-23+ (EXTENSIONS.md)."""

from .brain import (
    BannedWord,
    BrandBrainSnapshot,
    BrandMemoryFragment,
    BrandRuntimeContext,
    ChannelOverride,
    Competitor,
    Stance,
    VoiceMarker,
)
from .brand import Brand, Persona, Pillar, User
from .content import ChannelPlan, ContentPackage, ContentVariant, CoreArgument, PatternBinding, VariantOrigin
from .enums import *  # noqa: F403 - the vocabularies are part of the object model
from .learning import (
    BrandPreferences,
    EditApplied,
    FeedbackEvent,
    GlobalPriors,
    NeverAgain,
    PatternStat,
    PerformanceSnapshot,
    SavedAsExample,
    ScoringFactor,
    VariantRating,
    persona_pillar_key,
)
from .opportunity import FeedSubscription, GlobalSourceDoc, OpportunityBatch, OpportunityCard, SourceRef
from .operations import AgentRun, AgentStatus, CriticReason, EventLog, QualityReport
from .patterns import PatternSourcePost, PatternTemplate, PatternUsage, UsageStats
from .publishing import ChannelConfig, PublishAttempt, PublishingJob, RateLimits
from .tenancy import ApiKey, BrandMembership, Org, mint_api_key, parse_api_key

CANONICAL_OBJECTS = {
    "CO-01": Brand,
    "CO-02": Persona,
    "CO-03": Pillar,
    "CO-04": User,
    "CO-05": BrandBrainSnapshot,
    "CO-06": BrandRuntimeContext,
    "CO-07": BrandMemoryFragment,
    "CO-08": GlobalSourceDoc,
    "CO-09": OpportunityCard,
    "CO-10": OpportunityBatch,
    "CO-11": PatternSourcePost,
    "CO-12": PatternTemplate,
    "CO-13": PatternUsage,
    "CO-14": ContentPackage,
    "CO-15": CoreArgument,
    "CO-16": ChannelPlan,
    "CO-17": ContentVariant,
    "CO-18": FeedbackEvent,
    "CO-19": BrandPreferences,
    "CO-20": GlobalPriors,
    "CO-21": ChannelConfig,
    "CO-22": PublishingJob,
    "CO-23": Org,
    "CO-24": BrandMembership,
    "CO-25": ApiKey,
    "CO-26": PublishAttempt,
    "CO-27": AgentRun,
    "CO-28": EventLog,
    "CO-29": QualityReport,
    "CO-30": AgentStatus,
}
