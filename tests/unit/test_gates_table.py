"""The labelled gate table (tests/data/gates/table.yml): every gate on realistic posts of three
brands over four channels, with the real MiniLM embedder.

Floors asserted for the rule-based gates (platform, banned words, hook, near-duplicates):
recall on rejects 100 %, false positives at most 5 % of the passing posts, every reject
carries its expected reasons, soft flags raised exactly where expected, lengths exactly as the
platform counts them.

The taboo gate (meaning: MiniLM probes calibrated against ordinary text, negation, lexical
evidence) is tuned on the taboo rows of this table, where it is held to the same floors
(recall 100 %, false positives at most 5 %), and measured on five held-out sets it was not
tuned on (``taboo_holdout*.yml``; brands of their own there): their measured figures are held as floors in
``test_taboo_gate_on_the_held_out_sets`` (the taboo classifiers' settings were chosen with
the first four in view; the fifth was written blind and measured once). Its false rejections of passing posts count in the
common false-positive floor too.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from agents.gates import BrandRules, GateInput, GateReport, PriorVariant, run_gates
from storage.objects import BannedWord, Channel

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data" / "gates"
BRANDS = yaml.safe_load((DATA / "brands.yml").read_text(encoding="utf-8"))
ROWS = yaml.safe_load((DATA / "table.yml").read_text(encoding="utf-8"))["rows"]
# The held-out taboo sets, never tuned on (each file's header says when it was written), with
# what was measured on them, asserted as floors: (taboo posts, decoys, posts caught at least,
# decoys rejected at most).
HELD_OUT = {
    # 12 of 12 acts, 0 of 14 decoys (the first version of the gate: 11 of 12, 1 of 14).
    "taboo_holdout.yml": (12, 14, 12, 0),
    # Two brands appear only there. 6 of 14 acts (first version: 0; before the kinds'
    # classifiers: 4), 1 of 16 decoys (first: 2). Missed mostly: acts with no lexical evidence
    # where neither MiniLM's lean nor the classifier is sure (a put-down by a new image, "a
    # pivot table and a prayer"; layoffs as "let 40 people go").
    "taboo_holdout2.yml": (14, 16, 6, 1),
    # One brand appears only there. 7 of 12 acts (before the general lexicons: 1; before the
    # classifiers: 3), 0 of 12 decoys.
    "taboo_holdout3.yml": (12, 12, 7, 0),
    # Written before the general lexicons by the hand that wrote them (a weaker test): 9 of 10
    # acts, 0 of 10 decoys (before the lexicons: 4 of 10).
    "taboo_holdout4.yml": (10, 10, 9, 0),
    # Written blind in session 6 (its writer saw neither the gate nor its corpus), four brands
    # of its own, measured once after the classifiers' settings were chosen on the sets above:
    # 4 of 20 acts (2 without the classifiers), 0 of 20 decoys. Most acts there are worded by
    # anecdote, sarcasm or implicature; the gate's recall on such wording stays low.
    "taboo_holdout5.yml": (20, 20, 4, 0),
}


def text_of(row: dict) -> str:
    if "build" in row:
        return "".join(fragment * times for fragment, times in row["build"])
    return row["text"]


def candidate(row: dict, taboos: dict[str, list[str]] | None = None) -> GateInput:
    brand = BRANDS[row["brand"]]
    rules = BrandRules(
        banned_words=[BannedWord(**w) for w in brand["banned_words"]],
        taboos=(taboos or {}).get(row["brand"], brand["taboos"]),
        stances=brand.get("stances", []),
        competitors=brand.get("competitors", []),
        own_names=brand.get("names", []),
        number_threads=brand["number_threads"],
    )
    history = [PriorVariant(**v) for v in brand["history"]]
    return GateInput(channel=Channel(row["channel"]), text=text_of(row), brand=rules, history=history)


@pytest.fixture(scope="module")
async def reports(minilm) -> dict[str, GateReport]:
    return {row["id"]: await run_gates(candidate(row), minilm) for row in ROWS}


def test_the_table_is_what_it_claims():
    assert len(ROWS) >= 80 and len({r["id"] for r in ROWS}) == len(ROWS)
    assert {r["channel"] for r in ROWS} == {"x", "linkedin", "mastodon", "bluesky"}
    assert len({r["brand"] for r in ROWS}) >= 3
    passing = sum(r["expect"] == "pass" for r in ROWS)
    assert 0.4 <= passing / len(ROWS) <= 0.65


def _is_taboo_row(row: dict) -> bool:
    return "taboo" in row.get("reasons", [])


def test_recall_on_rejects_is_total(reports):
    missed = [
        r["id"] for r in ROWS if r["expect"] == "reject" and not reports[r["id"]].reasons
    ]
    assert missed == []


def test_false_positives_at_most_five_percent(reports):
    """Every gate, the taboo gate included."""
    passing = [r for r in ROWS if r["expect"] == "pass"]
    wrongly = [(r["id"], reports[r["id"]].reasons) for r in passing if reports[r["id"]].reasons]
    assert len(wrongly) <= 0.05 * len(passing), wrongly


def test_each_reject_carries_its_expected_reasons(reports):
    wrong = {
        r["id"]: reports[r["id"]].reasons
        for r in ROWS
        if r["expect"] == "reject" and not set(r["reasons"]) <= set(reports[r["id"]].reasons)
    }
    assert wrong == {}


def test_soft_flags_exactly_where_expected(reports):
    wrong = {
        r["id"]: reports[r["id"]].flags
        for r in ROWS
        if r["expect"] == "pass" and sorted(reports[r["id"]].flags) != sorted(r.get("flags", []))
    }
    assert wrong == {}


def test_lengths_exactly_as_the_platform_counts(reports):
    rows = [r for r in ROWS if "length" in r]
    assert len(rows) >= 20
    wrong = {r["id"]: (reports[r["id"]].length, r["length"]) for r in rows if reports[r["id"]].length != r["length"]}
    assert wrong == {}


def _taboo_figures(rows: list[dict], reports: dict[str, GateReport]) -> tuple[list[str], list[str], list[str]]:
    """The taboo posts, those caught, and the passing posts wrongly rejected as taboo."""
    acts = [r["id"] for r in rows if r["expect"] == "reject" and (_is_taboo_row(r) or "reasons" not in r)]
    caught = [i for i in acts if "taboo" in reports[i].reasons]
    wrongly = [r["id"] for r in rows if r["expect"] == "pass" and "taboo" in reports[r["id"]].reasons]
    return acts, caught, wrongly


def test_taboo_gate_on_its_calibration_rows(reports):
    """Tuned on these rows (MiniLM, data/taboo.json): every taboo post rejected (43 of 43) and
    none of the 91 passing posts rejected as taboo (the 44 taboo decoys among them)."""
    acts, caught, wrongly = _taboo_figures(ROWS, reports)
    decoys = [r for r in ROWS if r["id"].startswith("tb-decoy-")]
    assert len(acts) == 43 and len(decoys) == 44
    assert sorted(set(acts) - set(caught)) == []
    passing = sum(r["expect"] == "pass" for r in ROWS)
    assert len(wrongly) <= 0.05 * passing, wrongly


REWORDED = {
    "ledgerly": ["Don't badmouth rival software", "Don't exaggerate what our AI can do"],
    "verdant": ["Never say a supplement heals or prevents illness", "No promotions, coupons or price cuts"],
    "northwind": ["Never promise returns", "Keep politics out of our posts"],
    "hearth": ["No special offers", "Never knock other bakeries"],
    "stride": ["Never claim the plans treat injuries or conditions", "No comments about people's weight or looks"],
    "brightdesk": ["Keep customer names out of posts", "Never share staff cuts or company finances",
                   "Don't criticise competing products"],
}  # fmt: skip


async def test_taboo_gate_with_the_taboos_reworded(minilm):
    """The same rows with every brand's taboos said another way (the kinds are chosen by
    meaning, not by the words of the table's taboos). Measured: 42 of 43 taboo posts rejected
    (missed: "you can't lose", under "Never promise returns"), 0 of 91 passing posts."""
    reports = {r["id"]: await run_gates(candidate(r, REWORDED), minilm) for r in ROWS}
    acts, caught, wrongly = _taboo_figures(ROWS, reports)
    assert len(caught) >= 42, sorted(set(acts) - set(caught))
    assert wrongly == []


@pytest.mark.parametrize("name", HELD_OUT)
async def test_taboo_gate_on_the_held_out_sets(name, minilm):
    rows = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["rows"]
    reports = {row["id"]: await run_gates(candidate(row), minilm) for row in rows}
    n_acts, n_decoys, at_least, at_most = HELD_OUT[name]
    acts, caught, wrongly = _taboo_figures(rows, reports)
    assert len(acts) == n_acts and len(rows) - len(acts) == n_decoys
    assert len(caught) >= at_least, sorted(set(acts) - set(caught))
    assert len(wrongly) <= at_most, wrongly


def test_a_taboo_rejection_names_the_taboo_and_the_sentence(reports):
    finding = next(f for f in reports["tb-sale-3"].result("taboo").findings if f.code == "taboo")
    assert finding.evidence == "Running discounts or sales"
    assert "15% off" in finding.message
