"""Writing about a page (a URL) as pure logic: the thesis read off the page, the persona and
pillar chosen from it, the argument built from its sentences, and the written package grounded
on it. Quality on the labelled pages of tests/data/writer/pages.json (3 brands, 22 pages: 16
the method was set on - 6 of them a first held-out batch, measured once before the advice cue
was added - and 6 held out from the current method, measured once)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from uuid import uuid4

import pytest

from agents.gates import run_gates
from agents.writer import Composer, write_package
from agents.writer.argument import ArgumentConfig, opens_with_anaphor
from agents.writer.grounding import References, check_grounding
from agents.writer.models import Named, PageTopic, SourceDoc
from agents.writer.page import (
    PageConfig,
    advises,
    argument_from_page,
    narrates,
    nearest,
    origin_note,
    page_sentences,
    thesis_of_document,
)
from storage.errors import Invalid
from storage.objects import OriginType, VariantStatus
from tests.data.writer.corpus import requests

DATA = json.loads((Path(__file__).parents[1] / "data" / "writer" / "pages.json").read_text())
PAGES = DATA["pages"]


def doc_of(page: dict) -> SourceDoc:
    return SourceDoc(id=uuid4(), title=page["title"], text=page["text"], url="https://example.org/post")


def options(page: dict, kind: str) -> list[Named]:
    return [Named(id=uuid4(), name=o["name"], about=o["about"]) for o in DATA["brands"][page["brand"]][kind]]


def hits(pages: list[dict]) -> int:
    return sum(thesis_of_document(doc_of(p)) in p["claims"] for p in pages)


def test_the_thesis_is_the_pages_claim_on_the_labelled_pages():
    held_out = [p for p in PAGES if p.get("held_out")]
    tuned = [p for p in PAGES if not p.get("held_out")]
    assert len(PAGES) == 22 and len(held_out) == 6
    # measured: 13/16 on the pages the method was set on (the first held-out batch was 3/6
    # before the advice cue, 4/6 after), 3/6 held out (16/22 in all)
    assert hits(tuned) >= 12
    assert hits(held_out) >= 3
    assert hits(PAGES) / len(PAGES) >= 0.7


def test_the_thesis_is_a_sentence_of_the_page_never_its_heading_a_question_or_a_pointer_back():
    config = ArgumentConfig.load()
    for page in PAGES:
        doc = doc_of(page)
        thesis = thesis_of_document(doc)
        assert thesis in {" ".join(s.split()) for s in page_sentences(doc)}, thesis
        assert not thesis.startswith(page["title"]) and not thesis.endswith("?")
        assert not opens_with_anaphor(thesis, config)


def test_the_pillar_is_the_one_the_page_is_about():
    right = sum(nearest(options(p, "pillars"), " ".join([p["title"], *page_sentences(doc_of(p))[:12]])).name
                == p["pillar"] for p in PAGES)  # fmt: skip
    assert right >= 17  # measured 18/22 (14/16 on the tuning pages, 4/6 held out)


@pytest.mark.parametrize(
    ("sentence", "story"),
    [
        ("Last March a client of ours waited 74 days for a payment that was due in 30.", True),
        ("A year ago our blog published five posts a week.", True),
        ("She said the board never reads the report.", True),
        ("We rebuilt the review around pipeline stages.", True),
        ("Trade shows pay off when the follow-up is planned before the show starts.", False),
        ("Owners who pay estimated tax every quarter sleep better in April.", False),
        ("Routes planned around the windows are squeezed in less often.", False),
        ("Long payment terms quietly turn a small business into its clients' bank.", False),
    ],
)
def test_a_story_is_told_apart_from_a_claim(sentence, story):
    assert narrates(sentence, PageConfig.load()) is story


@pytest.mark.parametrize(
    ("sentence", "advice"),
    [
        ("Start by looking at your own data for the hour after lunch.", True),
        ("If you try this, start with the stage where deals stall the longest.", True),
        ("Before you publish, ask who would push back on the post.", True),
        ("Starting salaries rose again this spring.", False),
        ("If the answer is nobody, the post is not worth publishing.", False),
        ("Boards stop trusting marketing when the deck explains credit instead of revenue.", False),
    ],
)
def test_advice_is_told_apart_from_a_claim(sentence, advice):
    assert advises(sentence, PageConfig.load()) is advice


def test_a_lede_anecdote_does_not_become_the_thesis():
    doc = SourceDoc(title="Deposits are not rude", text=(
        "Deposits are not rude Last spring a furniture maker lost money on three cancelled commissions. "
        "She had never asked for a deposit. Asking for a deposit makes both sides commit before the work starts, "
        "and clients who commit cancel less often. Put the deposit in the quote and explain what it covers."))  # fmt: skip
    assert thesis_of_document(doc) == ("Asking for a deposit makes both sides commit before the work starts, "
                                       "and clients who commit cancel less often.")  # fmt: skip


def test_the_argument_comes_from_the_page_with_persona_and_pillar_locked_or_chosen():
    page = PAGES[3]  # the attribution page of the B2B marketing brand
    request = requests()[0]
    pillars, personas = options(page, "pillars"), options(page, "personas")
    brand = request.brand.model_copy(update={"pillars": pillars, "personas": personas})
    doc = doc_of(page)
    chosen = argument_from_page(uuid4(), PageTopic(url=doc.url), [doc], brand)
    assert chosen.pillar_id == next(p.id for p in pillars if p.name == page["pillar"])
    assert chosen.thesis == thesis_of_document(doc)
    flat = " ".join(page["text"].split())
    assert 3 <= len(chosen.supporting_points) <= 7 and all(p in flat for p in chosen.supporting_points)
    assert chosen.thesis not in chosen.supporting_points
    locked = argument_from_page(uuid4(), PageTopic(url=doc.url, persona_id=personas[1].id, pillar_id=pillars[2].id),
                                [doc], brand)  # fmt: skip
    assert (locked.persona_id, locked.pillar_id) == (personas[1].id, pillars[2].id)
    with pytest.raises(Invalid) as foreign:
        argument_from_page(uuid4(), PageTopic(url=doc.url, pillar_id=uuid4()), [doc], brand)
    assert foreign.value.details["field"] == "pillar_id"
    thin = SourceDoc(title="Short", text="Boards want revenue. That is all we have to say today, friends.")
    with pytest.raises(Invalid) as too_thin:
        argument_from_page(uuid4(), PageTopic(url=doc.url), [thin], brand.model_copy(update={"memory": []}))
    assert too_thin.value.details == {"field": "source.url", "reason": "too_few_facts"}


def test_the_origin_note_names_the_page():
    doc = doc_of(PAGES[0])
    assert origin_note(PageTopic(url="https://example.org/a"), doc) == "page: https://example.org/a"
    long_url = "https://example.org/" + "a" * 600
    assert origin_note(PageTopic(url=long_url), doc) == f"page: {PAGES[0]['title']}"


def test_a_package_written_about_a_page_is_grounded_on_it():
    base = requests()[0]
    page = PAGES[6]  # the electric vans page: figures (40 vans, five months, 68 percent)
    doc = doc_of(page)
    request = base.model_copy(update={"card": None, "page": PageTopic(url=doc.url), "sources": [doc]})
    result = asyncio.run(write_package(request, Composer(), run_gates))
    assert result.status == "written" and result.card is None
    assert result.package.origin_type is OriginType.MANUAL and doc.url in result.package.origin_note
    assert result.core_argument.thesis == thesis_of_document(doc)
    refs = References([doc.text, doc.title])
    passed = [v for v in result.variants if v.status is VariantStatus.DRAFT]
    assert passed
    for variant in passed:
        assert not [c for c in check_grounding(variant.body, refs).untraced if c.kind in ("figure", "quote")], variant.body
    # a figure the page does not hold is refused by the grounding every attempt goes through
    invented = check_grounding("The depot cut charging costs by 37 percent.", refs)
    assert not invented.passed and invented.untraced[0].kind == "figure"
