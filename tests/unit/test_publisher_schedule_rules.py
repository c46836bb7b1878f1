"""Scheduling rules as a table: each bad request names its rule; a good one passes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from agents.publisher.scheduling import ScheduleRules, busiest_hour, check
from storage.objects.enums import Channel, ChannelStatus
from storage.objects.publishing import ChannelConfig, RateLimits
from storage.postgres.publishing import ScheduleFacts

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
AT = NOW + timedelta(days=1)


def facts(**kw) -> ScheduleFacts:
    connection = ChannelConfig(brand_id=uuid4(), channel=Channel(kw.pop("channel", "x")), status=kw.pop("status", ChannelStatus.CONNECTED),
                               rate_limits=kw.pop("limits", RateLimits()))
    base = {"variant_status": "approved", "variant_channel": connection.channel.value, "variant_body": "A fine post.",
            "package_id": uuid4(), "connection": connection, "variant_open_jobs": 0, "same_day": []}
    return ScheduleFacts(**{**base, **kw})


def rules_broken(f: ScheduleFacts, at: datetime = AT) -> list[tuple[str, bool]]:
    return [(r.rule, r.conflict) for r in check(f, at, NOW, ScheduleRules(max_horizon=timedelta(days=30)))]


def test_a_good_request_passes():
    assert rules_broken(facts()) == []


@pytest.mark.parametrize(("f", "at", "expected"), [
    (facts(), NOW - timedelta(minutes=1), ("scheduled_in_past", False)),
    (facts(), NOW, ("scheduled_in_past", False)),
    (facts(), NOW + timedelta(days=31), ("beyond_horizon", False)),
    (facts(variant_status="edited"), AT, ("variant_not_approved", True)),
    (facts(connection=None), AT, ("channel_not_connected", True)),
    (facts(status=ChannelStatus.ERROR), AT, ("channel_not_connected", True)),
    (facts(variant_body="界" * 141), AT, ("over_length", False)),  # 282 weighted on X
    (facts(channel="linkedin", variant_body="(a)" * 1000), AT, ("over_length", False)),  # 3000 shown, 5000 escaped
    (facts(channel="bluesky", variant_body="e\u0301" * 301), AT, ("over_length", False)),
    (facts(variant_open_jobs=1), AT, ("already_scheduled", True)),
    (facts(limits=RateLimits(min_gap_seconds=3600), same_day=[AT + timedelta(minutes=30)]), AT, ("min_gap", True)),
    (facts(limits=RateLimits(posts_per_day=2), same_day=[AT - timedelta(hours=3), AT + timedelta(hours=3)]), AT,
     ("daily_cap", True)),
    (facts(limits=RateLimits(posts_per_hour=2), nearby=[AT - timedelta(minutes=50), AT - timedelta(minutes=20)]), AT,
     ("hourly_cap", True)),
    (facts(limits=RateLimits(posts_per_hour=2), nearby=[AT - timedelta(minutes=10), AT + timedelta(minutes=40)]), AT,
     ("hourly_cap", True)),  # across a clock hour, and from the day before or after
])  # fmt: skip
def test_each_rule_refuses_with_its_name(f, at, expected):
    assert rules_broken(f, at) == [expected]


def test_counting_follows_the_platform_rules_not_len():
    assert rules_broken(facts(channel="bluesky", variant_body="e\u0301" * 300)) == []  # 300 graphemes, 600 code points
    assert rules_broken(facts(variant_body="https://example.com/" + "a" * 200 + " " + "b" * 250)) == []  # URL counts 23
    assert rules_broken(facts(limits=RateLimits(min_gap_seconds=3600), same_day=[AT + timedelta(hours=2)])) == []


def test_an_hourly_cap_counts_any_60_minutes_not_clock_hours():
    limits = RateLimits(posts_per_hour=2)
    # Two others, but no 60-minute window holds them both with this post: allowed.
    spread = [AT - timedelta(minutes=45), AT + timedelta(minutes=45)]
    assert rules_broken(facts(limits=limits, nearby=spread)) == []
    assert busiest_hour(AT, spread) == 1
    # Posts an hour or more away never count; two posts at one time count twice.
    assert busiest_hour(AT, [AT - timedelta(hours=1), AT + timedelta(hours=1), AT + timedelta(minutes=5)]) == 1
    assert busiest_hour(AT, [AT + timedelta(minutes=5)] * 2) == 2
    assert rules_broken(facts(limits=limits, nearby=[AT + timedelta(minutes=5)])) == []
