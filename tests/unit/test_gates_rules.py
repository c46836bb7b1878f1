"""The gates one by one: hook, near-duplicates, predicted engagement, rubric overrides, the
registry and the QualityReport row; and no gate raises on arbitrary Unicode."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from agents.gates import (
    RULES,
    BrandRules,
    EngagementStats,
    GateInput,
    PriorVariant,
    Rubric,
    RubricOverride,
    quality_report,
    run_gates,
)
from agents.gates.hook import first_line, hook_score
from agents.gates.similarity import lexical_similarity
from storage.memory import HashingEmbedder
from storage.objects import BannedWord, Channel

pytestmark = pytest.mark.unit


def test_registry_lists_every_gate_with_stable_codes():
    assert [r.name for r in RULES] == ["platform", "banned_words", "taboo", "hook", "similarity", "engagement"]
    codes = {code for r in RULES for code in r.codes}
    assert {"over_length", "empty", "banned_word_hard", "banned_word_soft_flag", "taboo", "weak_hook",
            "linkedin_reserved_chars_escaped", "low_predicted_engagement"} <= codes  # fmt: skip
    assert [r.name for r in RULES if r.fixes] == ["platform"]


@pytest.mark.parametrize(
    ("line", "weak"),
    [
        ("Good morning, friends!", True),
        ("A few thoughts today.", True),
        ("Hello LinkedIn 👋", True),
        ("Thoughts?", True),
        ("🚀🚀🚀", True),
        ("Guten Morgen!", True),
        ("Good morning from the refinery: 40 tonnes passed testing.", False),
        ("3 things.", False),
        ("Why do dashboards lie?", False),
        ("Churn is a pricing problem.", False),
        # Teasers and warm-ups that promise something without saying what.
        ("Big news!", True),
        ("Well, it's been a while.", True),
        ("Thinking out loud here...", True),
        ("I wanted to take a moment to reflect.", True),
        ("Guess what?", True),
        ("Excited to share some personal news.", True),
        ("Big news: our second bakery opens in Leeds on Saturday.", False),
        ("Guess what we found in the flour store?", False),
        ("Thinking about quitting sugar?", False),
        ("It has been a while since we raised prices.", False),
    ],
)
def test_hook_needs_a_subject_or_a_number(line, weak):
    score, _ = hook_score(line)
    assert (score < 20) is weak


def test_first_line_skips_blank_lines_and_cuts_a_long_paragraph():
    assert first_line("\n\n  Churn fell.\nMore") == "Churn fell."
    long = "Churn fell 12% this quarter. " + "More words follow here. " * 10
    assert first_line(long) == "Churn fell 12% this quarter."


async def test_hook_threshold_is_a_rubric_knob():
    text = "Churn again.\nWe measured it."
    assert (await run_gates(GateInput(channel=Channel.X, text=text))).passed
    strict = Rubric(overrides=[RubricOverride(rule="hook", threshold=90)])
    report = await run_gates(GateInput(channel=Channel.X, text=text, rubric=strict))
    assert report.reasons == ["weak_hook"] and report.thresholds["hook"] == 90


def test_lexical_similarity_sees_rewording_not_topic():
    a = "Most churn dashboards show you who left. Almost none show you why."
    assert lexical_similarity(a, "Almost none show you why. Most churn dashboards show you who left!") > 0.9
    assert lexical_similarity(a, "Call five customers who cancelled and ask them what went wrong.") < 0.6


async def test_near_duplicate_names_the_variant_and_ignores_other_channels():
    prior = "Most churn dashboards show you who left. Almost none show you why. We rebuilt ours."
    history = [PriorVariant(id="v-1", channel=Channel.X, text=prior),
               PriorVariant(id="v-2", channel=Channel.LINKEDIN, text="Board decks need one number per slide.")]  # fmt: skip
    reworded = "Most churn dashboards show who left. Almost none show why. We rebuilt ours."
    report = await run_gates(GateInput(channel=Channel.X, text=reworded, history=history), HashingEmbedder())
    assert report.reasons == ["near_duplicate_of:v-1"]
    elsewhere = await run_gates(GateInput(channel=Channel.MASTODON, text=reworded, history=history))
    assert elsewhere.passed and elsewhere.result("similarity").skipped


async def test_engagement_prediction_shrinks_the_template_towards_the_prior():
    prior = EngagementStats(times_used=1000, avg_engagement_rate=0.03)
    weak = EngagementStats(times_used=40, avg_engagement_rate=0.002)
    unproven = EngagementStats(times_used=1, avg_engagement_rate=0.0)
    strong = EngagementStats(times_used=40, avg_engagement_rate=0.09)
    text = "Churn is a pricing problem."

    async def g7(template, rubric=Rubric()):
        return await run_gates(GateInput(channel=Channel.LINKEDIN, text=text, template=template, prior=prior, rubric=rubric))

    low, new, high = await g7(weak), await g7(unproven), await g7(strong)
    assert low.passed and low.flags == ["low_predicted_engagement"]  # a flag by default
    assert new.result("engagement").score > 40  # one bad use barely moves the prediction
    assert high.result("engagement").score > 60 and high.flags == []
    assert (await run_gates(GateInput(channel=Channel.X, text=text))).result("engagement").skipped
    strict = Rubric(overrides=[RubricOverride(rule="engagement", severity="reject", threshold=60)])
    assert (await g7(unproven, strict)).reasons == ["low_predicted_engagement"]


@pytest.mark.parametrize(
    "override",
    [
        {"rule": "hook", "threshold": 101},
        {"rule": "hook", "threshold": -1},
        {"rule": "platform", "severity": "flag"},
        {"rule": "banned_words", "threshold": 10},
        {"rule": "hook"},
        {"rule": "tone", "threshold": 10},
        {"rule": "hook", "severity": "maybe"},
    ],
)
def test_rubric_overrides_are_validated(override):
    with pytest.raises(ValidationError):
        RubricOverride.model_validate(override)


def test_one_override_per_gate():
    with pytest.raises(ValidationError):
        Rubric(overrides=[RubricOverride(rule="hook", threshold=10), RubricOverride(rule="hook", threshold=20)])


async def test_quality_report_row_of_an_attempt():
    brand_id, variant_id = uuid.uuid4(), uuid.uuid4()
    rules = BrandRules(snapshot_id=uuid.uuid4(), banned_words=[BannedWord(word="scrap")])
    rejected = await run_gates(GateInput(channel=Channel.X, text="Good morning!\nScrap the funnel.", brand=rules))
    row = quality_report(rejected, brand_id=brand_id, content_variant_id=variant_id, attempt_number=2)
    assert not row.overall_pass and not row.g4_voice_alignment and row.g5_platform_compliance
    assert {r.reason.split(":")[0] for r in row.critic_reasons} == {"banned_word_hard", "weak_hook"}
    assert rejected.snapshot_id == rules.snapshot_id
    passed = await run_gates(GateInput(channel=Channel.LINKEDIN, text="Churn (again) is a pricing problem."))
    ok = quality_report(passed, brand_id=brand_id, content_variant_id=variant_id, attempt_number=1)
    assert ok.overall_pass and ok.critic_reasons == [] and passed.flags == ["linkedin_reserved_chars_escaped"]


GARBAGE_RULES = BrandRules(
    banned_words=[BannedWord(word="scrap"), BannedWord(word="e\u0301t\u00e9", severity="soft")],
    taboos=["Trashing competitors", "No discount talk", "Never mention the founder's divorce", "Never name our clients"],
    stances=["Slow bread is better bread"],
    competitors=["Tabulate", "Daily Loaf"],
    own_names=["Ledgerly"],
)


UNICODE = st.characters(codec=None, exclude_categories=("Cs",))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=UNICODE, max_size=600), channel=st.sampled_from(list(Channel)), thread=st.booleans(),
       spoiler=st.none() | st.text(alphabet=UNICODE, max_size=80))  # fmt: skip
async def test_no_gate_raises_on_arbitrary_unicode(text, channel, thread, spoiler):
    """Any text a model can hold (pydantic refuses unpaired surrogates before the gates: the
    API answers them with a 422), with the taboo gate's probes, negations and cues on it."""
    history = [PriorVariant(id="p", channel=channel, text=text[::-1])]
    candidate = GateInput(channel=channel, text=text, brand=GARBAGE_RULES, history=history, thread=thread,
                          spoiler_text=spoiler if channel is Channel.MASTODON else None)  # fmt: skip
    report = await run_gates(candidate, HashingEmbedder())
    assert report.verdict in ("pass", "flag", "reject")
    assert report.length >= 0 and report.passed == (not report.reasons)
    assert not report.result("taboo").skipped
    row = quality_report(report, brand_id=uuid.uuid4(), content_variant_id=uuid.uuid4(), attempt_number=1)
    assert row.overall_pass == report.passed and len(row.gate_results) == len(report.results)
