"""PatternUsage outcomes → a template's usage stats and status (pure logic, thresholds given).

A template is judged against its channels' medians: a usage on LinkedIn is expected to earn the
LinkedIn median engagement rate on its impressions. ``performance`` = engagements observed /
engagements expected over measured usages (1.0 = exactly median).

* ``experimental → active``: at least ``active_min_uses`` measured usages and performance at least
  ``active_min_ratio`` over all of them;
* ``experimental | active → deprecated``: at least ``deprecate_min_uses`` measured usages and
  performance below ``deprecate_ratio`` over the last ``deprecate_window`` of them ("for long
  enough": one bad week of a good template does not deprecate it, a run of them does);
* ``deprecated`` stays deprecated (the writer stops choosing it, so it gathers no new evidence;
  a person may set it back).

The thresholds come from settings (``KAIRO_PATTERN_*``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from storage.objects import Channel, PatternStatus, PatternTemplate, PatternUsage


class StatusThresholds(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    active_min_uses: int = Field(default=5, ge=1)
    active_min_ratio: float = Field(default=0.9, ge=0)
    deprecate_min_uses: int = Field(default=10, ge=1)
    deprecate_window: int = Field(default=10, ge=1)
    deprecate_ratio: float = Field(default=0.7, ge=0)


@dataclass(frozen=True)
class StatusDecision:
    template: PatternTemplate  # usage stats refreshed, status as decided
    previous: PatternStatus
    changed: bool
    reason: str
    performance: float | None


def _measured(usages: Sequence[PatternUsage]) -> list[PatternUsage]:
    out = [u for u in usages if u.outcome and u.outcome.get("impressions", 0) > 0 and "engagements" in u.outcome]
    return sorted(out, key=lambda u: (u.created_at, str(u.id)))


def performance(usages: Sequence[PatternUsage], medians: Mapping[Channel, float]) -> float | None:
    """Observed / expected engagements (expected at each usage's channel median); None if unknown."""
    observed = expected = 0.0
    for usage in usages:
        median = medians.get(Channel(usage.channel))
        if median is None or not usage.outcome:
            continue
        observed += usage.outcome["engagements"]
        expected += usage.outcome["impressions"] * median
    return observed / expected if expected > 0 else None


def review(
    template: PatternTemplate,
    usages: Sequence[PatternUsage],
    medians: Mapping[Channel, float],
    thresholds: StatusThresholds,
) -> StatusDecision:
    """The template with stats from ``usages`` (all of its usages) and its next status."""
    mine = [u for u in usages if u.pattern_template_id == template.id]
    measured = _measured(mine)
    stats = template.usage_stats.model_copy(update={
        "times_used": len(mine),
        "measured_uses": len(measured),
        "used_impressions": int(sum(u.outcome["impressions"] for u in measured if u.outcome)),
        "used_engagements": int(sum(u.outcome["engagements"] for u in measured if u.outcome)),
    })
    overall = performance(measured, medians)
    recent = performance(measured[-thresholds.deprecate_window:], medians)
    status, reason = template.status, "no change"
    if template.status != PatternStatus.DEPRECATED:
        if (len(measured) >= thresholds.deprecate_min_uses and recent is not None
                and recent < thresholds.deprecate_ratio):
            status = PatternStatus.DEPRECATED
            reason = (f"last {min(len(measured), thresholds.deprecate_window)} measured uses at {recent:.2f}x "
                      f"the channel median (below {thresholds.deprecate_ratio:.2f}x)")
        elif (template.status == PatternStatus.EXPERIMENTAL and len(measured) >= thresholds.active_min_uses
              and overall is not None and overall >= thresholds.active_min_ratio):
            status = PatternStatus.ACTIVE
            reason = (f"{len(measured)} measured uses at {overall:.2f}x the channel median "
                      f"(at least {thresholds.active_min_ratio:.2f}x)")
    updated = template.model_copy(update={"usage_stats": stats, "status": status})
    return StatusDecision(updated, template.status, status != template.status, reason, overall)


def channel_medians(rates: Mapping[Channel, Sequence[float]]) -> dict[Channel, float]:
    """The median engagement rate of each channel from per-post (or per-variant) rates."""
    out = {}
    for channel, values in rates.items():
        ordered = sorted(values)
        if ordered:
            mid = len(ordered) // 2
            out[channel] = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return out
