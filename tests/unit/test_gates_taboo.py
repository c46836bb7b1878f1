"""The taboo gate's parts: a taboo's act, its kinds and probes, lexical evidence with its
slots, which way a negation works; and the gate on small cases with the real MiniLM.
The gate's quality is measured on the labelled table (test_gates_table.py)."""

from __future__ import annotations

import uuid

import pytest

from agents.gates import BrandRules, GateInput, run_gates
from agents.gates.negation import denegated, negated_outside
from agents.gates.phrases import PhraseSet
from agents.gates.rules import Context
from agents.gates.taboo import units
from agents.gates.taboo_probes import act_of, probes_for
from agents.gates.tokens import words
from storage.objects import BrandBrainSnapshot, Channel, Competitor, Stance

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("taboo", "act"),
    [
        ("Never disparage competitors by name", "disparage competitors by name"),
        ("No discount talk", "discount talk"),
        ("We never promise guaranteed returns", "promise guaranteed returns"),
        ("Don't make medical claims", "make medical claims"),
        ("Trashing competitors", "Trashing competitors"),
        ("Nothing about politics", "Nothing about politics"),  # "nothing" is not a prohibition prefix
    ],
)
def test_the_act_of_a_taboo_is_its_text_without_the_prohibition(taboo, act):
    assert act_of(taboo) == act


def test_phrases_match_whole_tokens_with_number_and_competitor_slots():
    phrases = PhraseSet.of(["{number} off", "can't lose", "{competitor} is a joke"], ["DashHub", "Daily Loaf"])
    text = words("Get 15% off today, you can’t lose! Honestly, Daily Loaf is a joke.")
    assert phrases.find(text) == ["# off", "can t lose", "daily loaf is a joke"]
    assert phrases.find(words("Fifteen percent off; scandashhub is a joke")) == []
    assert not PhraseSet.of(["{competitor} is a joke"], [])  # no competitors: nothing to match


@pytest.mark.parametrize(
    ("sentence", "positive"),
    [
        ("Our programme is not a treatment for sciatica.", "Our programme is a treatment for sciatica."),
        ("With this plan you can\u2019t lose.", "With this plan you can lose."),
        ("We don't do sales.", "We do sales."),
        ("No analysts needed.", "analysts needed."),
        ("Notable gains this year.", None),
        ("Knots and nothingness", None),
    ],
)
def test_denegated_takes_the_negation_out(sentence, positive):
    assert denegated(sentence) == positive


def test_a_negation_inside_a_cue_is_part_of_it():
    assert not negated_outside(words("You can't lose with us"), ("can t lose",))
    assert negated_outside(words("Guaranteed is a word we never use"), ("guaranteed",))
    assert negated_outside(words("We can't promise you'll never lose"), ("never lose",))


def test_units_are_sentences_and_adjacent_pairs():
    assert units("Switching from Tabulate? Smart move. Their engine is a mess.", 60) == [
        "Switching from Tabulate?", "Smart move.", "Their engine is a mess.",
        "Switching from Tabulate? Smart move.", "Smart move. Their engine is a mess.",
    ]  # fmt: skip
    assert units("ok", 60) == []


def test_competitors_and_their_handles_come_from_the_snapshot():
    snapshot = BrandBrainSnapshot(
        brand_id=uuid.uuid4(), version=1, positioning="Bread", taboos=["Never disparage competitors by name"],
        stances=[Stance(stance="Slow bread is better bread", category="contrarian")],
        competitors=[Competitor(name="Daily Loaf", handles=["@dailyloaf@bread.social", "loafhq"])],
    )  # fmt: skip
    rules = BrandRules.from_snapshot(snapshot)
    assert rules.competitors == ["Daily Loaf", "dailyloaf", "loafhq"]
    assert rules.stances == ["Slow bread is better bread"]


async def test_probes_follow_the_kind_and_name_the_competitors(minilm):
    brand = BrandRules(taboos=["Never disparage competitors by name"], competitors=["Daily Loaf"],
                       stances=["Slow bread is better bread"])  # fmt: skip
    ctx = Context(GateInput(channel=Channel.X, text="x", brand=brand), minilm)
    probes = await probes_for(ctx, brand.taboos[0])
    assert probes.kinds == ("disparaging",)
    assert any("Daily Loaf" in p for p in probes.act) and any("Daily Loaf" in p for p in probes.contrast)
    assert "Slow bread is better bread" in probes.contrast
    assert probes.evidence(words("Daily Loaf sells overpriced junk")).strength == 2
    assert probes.evidence(words("Our rye sells out by noon")).strength == 0
    discount = await probes_for(ctx, "No discount talk")
    assert discount.kinds == ("discounting",)
    assert discount.evidence(words("Everything 20% off")).strength == 1


async def test_a_taboo_no_kind_covers_is_its_own_probe(minilm):
    ctx = Context(GateInput(channel=Channel.X, text="x"), minilm)
    probes = await probes_for(ctx, "Never mention the founder's divorce")
    assert probes.kinds == () and probes.act == ("mention the founder's divorce",)
    assert all("mention the founder's divorce" in c for c in probes.contrast)


BAKERY = BrandRules(taboos=["No discount talk", "Never disparage competitors by name"], competitors=["Daily Loaf"])


@pytest.mark.parametrize(
    ("text", "breaks"),
    [
        ("Every cake is 30% off this Saturday, and the second loaf is free.", True),
        ("We do not run sales: the price on the board is the price every day.", False),
        ("Daily Loaf's cakes are a sad, overpriced joke.", True),
        ("Daily Loaf opened on Hill Street this week; good bread helps the whole street.", False),
        ("Our rye takes two days to make, and we bake it every morning at five.", False),
    ],
)
async def test_the_gate_tells_an_act_from_a_mention(minilm, text, breaks):
    report = await run_gates(GateInput(channel=Channel.MASTODON, text=text, brand=BAKERY), minilm)
    result = report.result("taboo")
    assert not result.skipped
    assert ("taboo" in report.reasons) is breaks, result
    assert (result.score < 50) is breaks


async def test_the_threshold_makes_the_gate_stricter_or_looser(minilm):
    from agents.gates import Rubric, RubricOverride

    text = "Every cake is 30% off this Saturday, and the second loaf is free."
    loose = Rubric(overrides=[RubricOverride(rule="taboo", threshold=0.0)])
    report = await run_gates(GateInput(channel=Channel.X, text=text, brand=BAKERY, rubric=loose), minilm)
    assert "taboo" not in report.reasons
    flag = Rubric(overrides=[RubricOverride(rule="taboo", severity="flag")])
    report = await run_gates(GateInput(channel=Channel.X, text=text, brand=BAKERY, rubric=flag), minilm)
    assert report.passed and "taboo" in report.flags


async def test_without_an_embedder_the_gate_says_it_was_skipped():
    report = await run_gates(GateInput(channel=Channel.X, text="Everything 30% off today only.", brand=BAKERY))
    assert report.result("taboo").skipped and report.passed
