"""Built-in starting knobs for a new brand, used when no GlobalPriors segment exists yet."""

from __future__ import annotations

from storage.objects import Channel, ChannelOverride, LengthMode, RiskMode, ScoringFactor

DEFAULT_TONE_BIAS = {"story_vs_tactical": 0.5, "aggressive_vs_safe": 0.3}

LENGTH_BY_CHANNEL = {
    Channel.X: LengthMode.SHORT,
    Channel.BLUESKY: LengthMode.SHORT,
    Channel.MASTODON: LengthMode.SHORT,
    Channel.LINKEDIN: LengthMode.MEDIUM,
    Channel.YOUTUBE_SCRIPT: LengthMode.LONG,
}

DEFAULT_SCORING_WEIGHTS = {
    ScoringFactor.BRAND_RELEVANCE: 1.0,
    ScoringFactor.FRESHNESS: 0.6,
    ScoringFactor.NOVELTY: 0.5,
    ScoringFactor.COMPETITIVE_ANGLE: 0.4,
}


def default_override(channel: Channel, tone_bias: dict[str, float] | None = None) -> ChannelOverride:
    return ChannelOverride(
        tone_bias=tone_bias or DEFAULT_TONE_BIAS,
        length_mode=LENGTH_BY_CHANNEL[channel],
        risk_mode=RiskMode.BALANCED,
    )
