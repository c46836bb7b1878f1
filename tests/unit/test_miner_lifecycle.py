"""PatternUsage outcomes move a template experimental → active, or to deprecated."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from agents.engines import dispatch
from agents.engines.miner import PatternMiner, ReviewInput
from agents.miner.lifecycle import StatusThresholds, channel_medians, review
from storage.objects import Channel, PatternStatus, PatternTemplate, PatternUsage

T0 = datetime(2026, 1, 1, tzinfo=UTC)
MEDIANS = {Channel.LINKEDIN: 0.04, Channel.X: 0.01}
RULES = StatusThresholds(active_min_uses=3, active_min_ratio=0.9, deprecate_min_uses=4, deprecate_window=3,
                         deprecate_ratio=0.7)


def _template(status=PatternStatus.EXPERIMENTAL) -> PatternTemplate:
    return PatternTemplate(name="Story hook → lesson", channel_constraints=["*"], structure=["hook_story", "lesson"],
                           example_source_post_ids=[uuid4()], status=status)


def _usage(template, rate, day, channel=Channel.LINKEDIN, impressions=1000) -> PatternUsage:
    outcome = None if rate is None else {"impressions": impressions, "engagements": round(rate * impressions)}
    return PatternUsage(pattern_template_id=template.id, content_variant_id=uuid4(), brand_id=uuid4(),
                        channel=channel, created_at=T0 + timedelta(days=day), outcome=outcome)


def test_enough_measured_uses_at_the_median_make_it_active():
    t = _template()
    two = [_usage(t, 0.04, d) for d in range(2)]
    assert review(t, two + [_usage(t, None, 5)], MEDIANS, RULES).template.status == PatternStatus.EXPERIMENTAL
    decision = review(t, two + [_usage(t, 0.04, 3)], MEDIANS, RULES)
    assert decision.changed and decision.template.status == PatternStatus.ACTIVE
    assert decision.performance == pytest.approx(1.0)
    stats = decision.template.usage_stats
    assert (stats.times_used, stats.measured_uses, stats.used_impressions, stats.used_engagements) == (3, 3, 3000, 120)


def test_each_usage_is_judged_against_its_own_channels_median():
    t = _template()
    # 2 % is half the LinkedIn median but twice the X median.
    on_x = [_usage(t, 0.02, d, Channel.X) for d in range(3)]
    on_linkedin = [_usage(t, 0.02, d) for d in range(3)]
    assert review(t, on_x, MEDIANS, RULES).template.status == PatternStatus.ACTIVE
    assert review(t, on_linkedin, MEDIANS, RULES).template.status == PatternStatus.EXPERIMENTAL


def test_underperforming_for_long_enough_deprecates_but_one_bad_stretch_does_not():
    t = _template(PatternStatus.ACTIVE)
    good = [_usage(t, 0.05, d) for d in range(5)]
    one_bad = good + [_usage(t, 0.01, 6)]
    assert review(t, one_bad, MEDIANS, RULES).template.status == PatternStatus.ACTIVE
    long_bad = good + [_usage(t, 0.01, 6 + d) for d in range(3)]
    decision = review(t, long_bad, MEDIANS, RULES)
    assert decision.template.status == PatternStatus.DEPRECATED and "last 3 measured uses" in decision.reason


def test_deprecated_stays_deprecated_and_other_templates_usages_are_ignored():
    t = _template(PatternStatus.DEPRECATED)
    other = _template()
    usages = [_usage(t, 0.08, d) for d in range(5)] + [_usage(other, 0.0, d) for d in range(9)]
    decision = review(t, usages, MEDIANS, RULES)
    assert decision.template.status == PatternStatus.DEPRECATED and not decision.changed
    assert decision.template.usage_stats.times_used == 5


def test_channel_medians():
    assert channel_medians({Channel.X: [0.03, 0.01, 0.02], Channel.LINKEDIN: [0.01, 0.05]}) == {
        Channel.X: 0.02, Channel.LINKEDIN: pytest.approx(0.03)}


async def test_review_op_uses_the_engines_thresholds():
    t = _template()
    payload = ReviewInput(template=t, usages=[_usage(t, 0.05, d) for d in range(3)], channel_medians=MEDIANS)
    assert (await dispatch(PatternMiner(), "review", payload)).template.status == PatternStatus.EXPERIMENTAL
    assert (await PatternMiner(status_thresholds=RULES).review(payload)).template.status == PatternStatus.ACTIVE
