"""Grounding on planted claims (tests/data/writer/grounding.json): every invented figure, name,
quote, URL and handle planted into a composed variant is rejected and named; every claim that
restates the references (in another format or other words) passes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.writer.grounding import (
    References,
    check_grounding,
    figures,
    names,
    word_figures,
)
from agents.writer.pipeline import references
from tests.data.writer.corpus import uid, written

CASES = json.loads((Path(__file__).parents[1] / "data" / "writer" / "grounding.json").read_text())


def _package(brand: str, doc: str):
    for req, res in written():
        if req.card.id == uid("card", doc):
            return req, res
    raise AssertionError(f"no package for {brand}/{doc}")


def _planted(body: str, sentence: str) -> str:
    head, sep, rest = body.partition("\n\n")
    return f"{head}\n\n{sentence}{sep}{rest}" if sep else f"{body} {sentence}"


@pytest.mark.parametrize("case", CASES["invented"], ids=lambda c: c["text"][:40])
def test_an_invented_claim_is_rejected_and_named(case):
    req, res = _package(case["brand"], case["doc"])
    refs = references(req, res.core_argument)
    body = res.session.candidates[0].variant.body
    assert check_grounding(body, refs).passed
    report = check_grounding(_planted(body, case["text"]), refs)
    assert not report.passed
    flagged = " | ".join(c.text for c in report.untraced)
    for expected in case["untraced"]:
        assert expected in flagged, (expected, flagged)


@pytest.mark.parametrize("case", CASES["traceable"], ids=lambda c: c["text"][:40])
def test_a_traceable_claim_passes(case):
    req, res = _package(case["brand"], case["doc"])
    refs = references(req, res.core_argument)
    for candidate in res.session.candidates:
        report = check_grounding(_planted(candidate.variant.body, case["text"]), refs)
        assert report.passed, report.untraced


def test_the_planted_set_is_large_and_mixed():
    kinds = {"figure": 0, "name": 0, "quote": 0}
    for case in CASES["invented"]:
        kinds["figure"] += bool(figures(case["text"]) or word_figures(case["text"]))
        kinds["name"] += bool(names(case["text"]))
        kinds["quote"] += '"' in case["text"]
    assert len(CASES["invented"]) >= 20 and len(CASES["traceable"]) >= 12
    assert kinds["figure"] >= 10 and kinds["name"] >= 8 and kinds["quote"] >= 3


def test_figures_match_across_formats_but_not_across_meanings():
    refs = References(["A survey of 1,140 dashboards: 58 percent were stale, costing $3.80 per 1,000 loads in Q2; four hours."])
    for ok in ["1140 dashboards", "58% were stale", "$3.80", "Q2", "within 4 hours", "four hours"]:
        assert check_grounding(ok, refs).passed, ok
    for bad in ["58 dashboards", "1,400 dashboards", "$3.08", "Q3", "five hours", "59%"]:
        assert not check_grounding(bad, refs).passed, bad


def test_list_ordinals_counts_of_parts_and_sentence_openers_are_not_claims():
    refs = References(["Teams review tracking plans."])
    text = "Three things worth knowing about tracking plans.\n\n1. Teams review them.\n2. Most teams agree."
    assert check_grounding(text, refs).passed


def test_a_name_opening_a_sentence_is_still_a_name():
    refs = References(["Teams review tracking plans."])
    report = check_grounding("Forrester says teams review tracking plans.", refs)
    assert [c.text for c in report.untraced] == ["Forrester"]
