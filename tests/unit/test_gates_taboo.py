"""The taboo gate's parts: a taboo's act, its kinds and probes, lexical evidence with its
slots and hedges, proper names, which way a negation works, the background calibration; and
the gate on small cases with the real MiniLM.
The gate's quality is measured on the labelled table (test_gates_table.py)."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from agents.gates import BrandRules, GateInput, run_gates
from agents.gates.names import proper_names
from agents.gates.negation import denegated, distanced, negated_inside, negated_outside
from agents.gates.phrases import PhraseSet
from agents.gates.rules import Context
from agents.gates.taboo import units
from agents.gates.taboo_background import Background, background_units, lean_and_act
from agents.gates.taboo_probes import act_of, kinds_of, probes_for
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
    phrases = PhraseSet.of(["{number} off", "can't lose", "{competitor} is a joke", "no {any} needed", "welcome {name}"],
                           ["DashHub", "Daily Loaf"], names=["Orchard Foods"])  # fmt: skip
    text = words("Get 15% off today, you can’t lose! Honestly, Daily Loaf is a joke. No analysts needed. Welcome, Orchard Foods")
    assert phrases.find(text) == ["# off", "can t lose", "daily loaf is a joke", "no * needed", "welcome orchard foods"]
    assert phrases.find(words("no needed")) == []  # {any} is exactly one token
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


@pytest.mark.parametrize(
    ("sentence", "positive"),
    [
        ("Your capital is protected no matter what the markets do.", None),
        ("It is not only fast, it is not cheap.", "It is not only fast, it is cheap."),
    ],
)
def test_phrases_whose_negation_negates_nothing_are_kept(sentence, positive):
    assert denegated(sentence) == positive
    assert not negated_outside(words("A guaranteed 8%, no matter what"), ("guaranteed",))


def test_a_reported_or_warned_against_claim_is_distanced():
    assert distanced(words("A rival claims its gummies cure anxiety"), ("cure", "anxiety"))
    assert distanced(words("Beware of anyone selling guaranteed returns"), ("guaranteed",))
    assert not distanced(words("Our gummies cure anxiety"), ("cure", "anxiety"))
    assert not distanced(words("That is a promise"), ("a promise",))
    # a distancing word is inside a cue only as a whole token: "claimed" is not in "unclaimed"
    assert distanced(words("A rival claimed every buyer wins an unclaimed prize"), ("unclaimed prize",))
    assert not distanced(words("Everyone wins an unclaimed prize"), ("unclaimed prize",))


def test_a_negation_inside_the_cues_is_part_of_the_act():
    assert negated_inside(("no * needed",)) and negated_inside(("can t lose",))
    assert not negated_inside(("exactly which", "guaranteed"))


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Welcome aboard, Fairview Dental Group! All 38 practices now run on Acme.", ["Fairview Dental Group"]),
        ("Great month working with the IT team at Halden Freight.", ["Halden Freight"]),
        ("Proud to have protected Harbor Bank and Alpine Health this winter.", ["Harbor Bank", "Alpine Health"]),
        ("The Bank of England held rates on Thursday.", ["Bank of England"]),
        ("Black Friday is here. Meet us on Monday in March.", []),  # calendar words
        ("Tabulate's new exports are good. Microsoft patched 61 flaws.", []),  # a competitor; a sentence's first word
        ("我们的客户很满意。", []),  # no case, no names
    ],
)
def test_proper_names_are_capitalised_runs_without_the_brands_own(text, names):
    assert proper_names(text, exclude=["Tabulate", "Acme"]) == names


async def test_naming_a_client_needs_a_name_in_a_client_frame(minilm):
    brand = BrandRules(taboos=["Never name our clients"], competitors=["Tabulate"], own_names=["Ledgerly"])
    text = "We helped Orchard Foods close the month in two days. Tabulate shipped exports."
    ctx = Context(GateInput(channel=Channel.X, text=text, brand=brand), minilm)
    probes = await probes_for(ctx, brand.taboos[0])
    assert probes.kinds == ("naming_clients",)
    assert probes.evidence(words("We helped Orchard Foods close the month in two days.")).strength == 3
    assert probes.evidence(words("We helped a food wholesaler close the month")).strength == 0  # no name
    assert probes.evidence(words("Tabulate shipped exports.")).strength == 0  # a competitor is no client


async def test_a_hedge_takes_an_absolute_claim_back(minilm):
    ctx = Context(GateInput(channel=Channel.X, text="x"), minilm)
    probes = await probes_for(ctx, "Overpromising AI magic")
    assert probes.evidence(words("It reconciles every account on its own")).strength == 2
    assert probes.evidence(words("It reconciles about 80% of accounts on its own")).strength == 0


@pytest.mark.parametrize(
    ("taboo", "kind"),
    [
        ("No badmouthing other agencies", "disparaging"),
        ("Keep client names private", "naming_clients"),
        ("Never mention redundancies", "internal_matters"),
        ("No coupons", "discounting"),
    ],
)
async def test_kinds_are_chosen_by_the_ways_a_taboo_is_phrased(minilm, taboo, kind):
    ctx = Context(GateInput(channel=Channel.X, text="x"), minilm)
    assert kind in await kinds_of(ctx, act_of(taboo))


async def test_the_background_reads_ordinary_text_as_ordinary(minilm):
    """The calibration: ordinary sentences score about 0 standard deviations on average, and
    a sentence that commits the act scores well above them."""
    brand = BrandRules(taboos=["No discount talk"])
    ctx = Context(GateInput(channel=Channel.X, text="x", brand=brand), minilm)
    probes = await probes_for(ctx, "No discount talk")
    background = await Background.of(ctx, probes, [])
    singles, pairs = background_units()
    lean, _ = await lean_and_act(ctx, probes, singles, [])
    z = background.lean_z(lean, np.zeros(len(singles), dtype=bool))
    assert abs(float(z.mean())) < 1e-3 and abs(float(z.std()) - 1.0) < 1e-3
    sale, _ = await lean_and_act(ctx, probes, ["Everything in the shop is 40% off this weekend only."], [])
    assert float(background.lean_z(sale, np.array([False]))[0]) > 2.0
    assert len(pairs) == len(singles) // 2


def test_units_are_sentences_and_adjacent_pairs():
    assert units("Switching from Tabulate? Smart move. Their engine is a mess.", 60) == [
        "Switching from Tabulate?", "Smart move.", "Their engine is a mess.",
        "Switching from Tabulate? Smart move.", "Smart move. Their engine is a mess.",
    ]  # fmt: skip
    assert units("ok", 60) == []


def test_a_one_word_fragment_joins_the_sentence_it_introduces():
    # "LaneGuard?" names whom the next sentence trashes: dropped, the pair never held both.
    assert units("LaneGuard? Slow, rude and useless. Switch to us.", 60) == [
        "LaneGuard? Slow, rude and useless.", "Switch to us.", "LaneGuard? Slow, rude and useless. Switch to us.",
    ]  # fmt: skip
    assert units("Their support is a joke. Honestly.", 60) == ["Their support is a joke. Honestly."]
    assert units("Wow. 🎉 !", 60) == []


def test_competitors_and_their_handles_come_from_the_snapshot():
    snapshot = BrandBrainSnapshot(
        brand_id=uuid.uuid4(), version=1, positioning="Bread", taboos=["Never disparage competitors by name"],
        stances=[Stance(stance="Slow bread is better bread", category="contrarian")],
        competitors=[Competitor(name="Daily Loaf", handles=["@dailyloaf@bread.social", "loafhq"])],
    )  # fmt: skip
    rules = BrandRules.from_snapshot(snapshot)
    assert rules.competitors == ["Daily Loaf", "dailyloaf", "loafhq"]
    assert rules.stances == ["Slow bread is better bread"]


async def test_the_brands_own_name_is_never_a_clients(minilm):
    snapshot = BrandBrainSnapshot(brand_id=uuid.uuid4(), version=1, positioning="Helpdesk software",
                                  taboos=["Never name our clients"], offers=["Inbox Zero plan"])  # fmt: skip
    text = "Welcome to Harbor Desk Live, everyone: we helped Harbor Desk users answer twice as fast this year."
    own = BrandRules.from_snapshot(snapshot, brand_name="Harbor Desk")
    assert own.own_names == ["Harbor Desk", "Inbox Zero plan"]
    passed = await run_gates(GateInput(channel=Channel.LINKEDIN, text=text, brand=own), minilm)
    assert "taboo" not in {f.code for r in passed.results for f in r.findings}
    unnamed = await run_gates(GateInput(channel=Channel.LINKEDIN, text=text, brand=BrandRules.from_snapshot(snapshot)),
                              minilm)  # fmt: skip
    assert "taboo" in {f.code for r in unnamed.results for f in r.findings}  # without it, the name reads as a client


async def test_probes_follow_the_kind_and_name_the_competitors(minilm):
    brand = BrandRules(taboos=["Never disparage competitors by name"], competitors=["Daily Loaf"],
                       stances=["Slow bread is better bread"])  # fmt: skip
    ctx = Context(GateInput(channel=Channel.X, text="x", brand=brand), minilm)
    probes = await probes_for(ctx, brand.taboos[0])
    assert probes.kinds == ("disparaging",)
    assert any("Daily Loaf" in p for p in probes.act) and any("Daily Loaf" in p for p in probes.contrast)
    assert "Slow bread is better bread" in probes.contrast
    assert probes.evidence(words("Daily Loaf sells overpriced junk")).strength == 3
    assert probes.evidence(words("Daily Loaf opened on Hill Street")).strength == 1  # the object alone
    assert probes.evidence(words("Daily Loaf's rolls are soggy")).strength == 3  # the negative-evaluation list
    assert probes.evidence(words("Our rolls were soggy once; we fixed the oven")).strength == 0  # about no rival
    assert probes.evidence(words("Our rye sells out by noon")).strength == 0
    discount = await probes_for(ctx, "No discount talk")
    assert discount.kinds == ("discounting",)
    assert discount.evidence(words("Everything 20% off")).strength == 2
    assert discount.evidence(words("Everything 20% off, plus free delivery")).strength == 3  # two cues
    health = await probes_for(ctx, "No medical claims")
    assert health.evidence(words("Our programme eases arthritis")).strength == 3
    assert health.evidence(words("A study on arthritis came out")).strength == 0  # a topic alone is no evidence


async def test_a_taboo_no_kind_covers_is_its_own_probe(minilm):
    ctx = Context(GateInput(channel=Channel.X, text="x"), minilm)
    probes = await probes_for(ctx, "Never mention the founder's divorce")
    assert probes.kinds == () and probes.act == ("mention the founder's divorce",)
    assert all("mention the founder's divorce" in c for c in probes.contrast)


BAKERY = BrandRules(taboos=["No discount talk", "Never disparage competitors by name"], competitors=["Daily Loaf"])
AGENCY = BrandRules(taboos=["Keep client names private", "Never mention redundancies"], own_names=["Brightline"])


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


@pytest.mark.parametrize(
    ("text", "breaks"),
    [
        ("Thanks to Calder Shipping for renewing with us for a third year.", True),
        ("A shipping firm renewed with us for a third year; we keep its name to ourselves.", False),
        ("We are looking for two designers in Glasgow to join Brightline.", False),
    ],
)
async def test_the_gate_tells_a_client_named_from_a_client_kept_private(minilm, text, breaks):
    report = await run_gates(GateInput(channel=Channel.MASTODON, text=text, brand=AGENCY), minilm)
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
