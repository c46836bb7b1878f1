"""The labelled gate table (tests/data/gates/table.yml): every gate on realistic posts of three
brands over four channels, with the real MiniLM embedder.

Floors asserted for the rule-based gates (platform, banned words, hook, near-duplicates):
recall on rejects 100 %, false positives at most 5 % of the passing posts, every reject
carries its expected reasons, soft flags raised exactly where expected, lengths exactly as the
platform counts them.

The taboo gate (meaning, MiniLM probes) does NOT reach those floors yet; its figures on this
table are measured and held as a regression floor in ``test_taboo_gate_as_measured`` (see
the numbers there), and taboo rejections of posts labelled as passing are counted there, not
in the rule-based false-positive floor.
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


def text_of(row: dict) -> str:
    if "build" in row:
        return "".join(fragment * times for fragment, times in row["build"])
    return row["text"]


def candidate(row: dict) -> GateInput:
    brand = BRANDS[row["brand"]]
    rules = BrandRules(
        banned_words=[BannedWord(**w) for w in brand["banned_words"]],
        taboos=brand["taboos"],
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


def _rule_reasons(report: GateReport) -> list[str]:
    return [code for code in report.reasons if code != "taboo"]


def _is_taboo_row(row: dict) -> bool:
    return "taboo" in row.get("reasons", [])


def test_recall_on_rejects_is_total(reports):
    missed = [
        r["id"] for r in ROWS if r["expect"] == "reject" and not _is_taboo_row(r) and not _rule_reasons(reports[r["id"]])
    ]
    assert missed == []


def test_false_positives_at_most_five_percent(reports):
    passing = [r for r in ROWS if r["expect"] == "pass"]
    wrongly = [(r["id"], _rule_reasons(reports[r["id"]])) for r in passing if _rule_reasons(reports[r["id"]])]
    assert len(wrongly) <= 0.05 * len(passing), wrongly


def test_each_reject_carries_its_expected_reasons(reports):
    wrong = {
        r["id"]: reports[r["id"]].reasons
        for r in ROWS
        if r["expect"] == "reject" and not _is_taboo_row(r) and not set(r["reasons"]) <= set(reports[r["id"]].reasons)
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


def test_taboo_gate_as_measured(reports):
    """Measured on this table (MiniLM, data/taboo.json): 4 of 10 taboo posts rejected; 2 of 57
    passing posts wrongly rejected as taboo (3.5 %), both among the 10 taboo decoys.
    These floors only catch a regression; the issue's floors (100 % recall) are not met."""
    taboo_rows = [r for r in ROWS if _is_taboo_row(r)]
    caught = [r["id"] for r in taboo_rows if "taboo" in reports[r["id"]].reasons]
    decoys = [r for r in ROWS if r["id"].startswith("tb-decoy-")]
    wrongly = [r["id"] for r in ROWS if r["expect"] == "pass" and "taboo" in reports[r["id"]].reasons]
    assert len(taboo_rows) == 10 and len(decoys) == 10
    assert len(caught) >= 4, caught
    assert len(wrongly) <= 2, wrongly
    assert sum(r["id"] in wrongly for r in decoys) <= 2
