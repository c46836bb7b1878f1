"""The four engines as plain async classes: real counting, segmentation, distances, scouting."""

from __future__ import annotations

import pytest

from agents.engines import (
    ContentWriter,
    EditInput,
    Learner,
    LengthInput,
    OpportunityScout,
    PatternMiner,
    SegmentInput,
    ZeroEditInput,
    dispatch,
    grapheme_count,
    x_weighted_length,
)
from storage.errors import Invalid
from storage.memory import HashingEmbedder
from storage.objects import Channel

pytestmark = pytest.mark.unit

FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"  # man-woman-girl-boy, ZWJ


# -- X weighted length (twitter-text v3 conformance cases) ------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi http://test.co", 26),
        ("http://test.co", 23),
        ("H\U0001F431\u263a" + FAMILY, 7),
        ("\U0001F64B\U0001F3FD\U0001F468\u200d\U0001F3A4", 4),  # skin tone; ZWJ profession
        ("Read https://example.com/a/very/long/path?with=query&and=more 🎉", 5 + 23 + 1 + 2),
        ("see example.com/pricing.", 4 + 23 + 1),  # bare domain is a URL; final dot is not
        ("日本語", 6),
        ("e\u0301", 1),  # NFC composes e + combining acute into é
        ("\u201cquoted\u201d \u2014 dash", 15),  # U+201C/D and U+2014 are in the weight-1 ranges
    ],
)
def test_x_weighted_length(text, expected):
    assert x_weighted_length(text) == expected


async def test_x_limits_families_and_cjk():
    writer = ContentWriter()
    families = await writer.check_length(LengthInput(channel=Channel.X, text=FAMILY * 140))
    assert (families.length, families.limit, families.ok) == (280, 280, True)
    cjk = await writer.check_length(LengthInput(channel=Channel.X, text="字" * 160))
    assert (cjk.length, cjk.ok) == (320, False)
    assert (await writer.check_length(LengthInput(channel=Channel.X, text="a" * 281))).ok is False
    assert (await writer.check_length(LengthInput(channel=Channel.X, text=""))).ok is False
    assert (await writer.check_length(LengthInput(channel=Channel.X, text="bad \ufffe char"))).ok is False


# -- graphemes: Mastodon and Bluesky -----------------------------------------------------------


def test_grapheme_count_combining_flags_and_zwj():
    assert grapheme_count("e\u0301") == 1  # base + combining mark, not normalised away
    assert grapheme_count("a\u0308\u0301") == 1  # two stacked combining marks
    assert grapheme_count("\U0001F1EB\U0001F1F7\U0001F1E9\U0001F1EA") == 2  # two flags
    assert grapheme_count(FAMILY) == 1
    assert grapheme_count("日本語") == 3


async def test_bluesky_counts_graphemes_and_bytes():
    writer = ContentWriter()
    # 300 family emoji: 300 graphemes but 7,500 UTF-8 bytes, over Bluesky's 3,000-byte cap.
    heavy = await writer.check_length(LengthInput(channel=Channel.BLUESKY, text=FAMILY * 300))
    assert (heavy.length, heavy.limit, heavy.ok) == (300, 300, False)
    combining = await writer.check_length(LengthInput(channel=Channel.BLUESKY, text="e\u0301" * 300))
    assert (combining.length, combining.ok) == (300, True)  # 600 code points, 300 graphemes
    assert (await writer.check_length(LengthInput(channel=Channel.BLUESKY, text="x" * 301))).ok is False
    # No URL discount on Bluesky.
    url = "https://example.com/" + "a" * 30
    assert (await writer.check_length(LengthInput(channel=Channel.BLUESKY, text=url))).length == len(url)


async def test_mastodon_urls_mentions_and_graphemes():
    writer = ContentWriter()
    text = "hi @alice@example.social see https://example.com/a/very/long/path " + FAMILY
    result = await writer.check_length(LengthInput(channel=Channel.MASTODON, text=text))
    # "hi @alice see " (14) + URL (23) + " " (1) + family (1)
    assert (result.length, result.limit, result.ok) == (39, 500, True)
    custom = await writer.check_length(LengthInput(channel=Channel.MASTODON, text="x" * 600, limit=1000))
    assert (custom.length, custom.limit, custom.ok) == (600, 1000, True)


async def test_linkedin_counts_utf16_units():
    writer = ContentWriter()
    result = await writer.check_length(LengthInput(channel=Channel.LINKEDIN, text="ok \U0001F389"))
    assert (result.length, result.limit, result.ok) == (5, 3000, True)
    assert (await writer.check_length(LengthInput(channel=Channel.LINKEDIN, text="a" * 3001))).ok is False


# -- pattern miner -------------------------------------------------------------------------------


async def test_segment_blocks_lists_and_cta():
    post = (
        "Most dashboards lie.\n\n"
        "We audited 40 of them last quarter.\nHere is what we found:\n"
        "- half had stale data\n• a third double-counted users\n1. none had owners\n\n"
        "Want the checklist? DM me \"audit\"."
    )
    result = await PatternMiner().segment(SegmentInput(text=post))
    assert [(b.name, b.text) for b in result.beats] == [
        ("hook", "Most dashboards lie."),
        ("context", "We audited 40 of them last quarter.\nHere is what we found:"),
        ("list", "- half had stale data\n• a third double-counted users\n1. none had owners"),
        ("cta", 'Want the checklist? DM me "audit".'),
    ]


async def test_segment_single_line_splits_sentences_and_needs_a_real_cta():
    miner = PatternMiner()
    one_line = await miner.segment(SegmentInput(text="Stop guessing. Dashboards show the past. Try our audit."))
    assert [b.name for b in one_line.beats] == ["hook", "context", "cta"]
    statement = await miner.segment(SegmentInput(text="Data is a team sport.\n\nShip the boring dashboards first."))
    assert [b.name for b in statement.beats] == ["hook", "context"]
    question = await miner.segment(SegmentInput(text="Hot take.\r\n\r\nWhat would you cut?"))
    assert [b.name for b in question.beats] == ["hook", "cta"]
    single = await miner.segment(SegmentInput(text="Just one thought"))
    assert [(b.name, b.text) for b in single.beats] == [("hook", "Just one thought")]


async def test_label_op_names_each_beat_and_the_signature():
    result = await dispatch(PatternMiner(), "label", {"text": (
        "3 mistakes I made in my first year of consulting:\n\n- No contract\n- No deposit\n- No end date\n\n"
        "Paperwork is part of the work.\n\nFollow me for more."
    )})
    assert [b.kind for b in result.beats] == ["hook_number", "list_item", "list_item", "list_item", "lesson", "cta_plain"]
    assert result.signature == "hook_number>list_item*3>lesson>cta_plain"


# -- learner ---------------------------------------------------------------------------------------


async def test_edit_distance_is_normalized_levenshtein():
    learner = Learner()
    assert (await learner.edit_distance(EditInput(original="kitten", edited="sitting"))).distance == pytest.approx(3 / 7)
    assert (await learner.edit_distance(EditInput(original="same", edited="same"))).distance == 0.0
    assert (await learner.edit_distance(EditInput(original="", edited=""))).distance == 0.0
    assert (await learner.edit_distance(EditInput(original="abc", edited="xyz"))).distance == 1.0
    # Composed vs decomposed accent is not an edit.
    assert (await learner.edit_distance(EditInput(original="café", edited="cafe\u0301"))).distance == 0.0


async def test_zero_edit_rate():
    learner = Learner()
    assert (await learner.zero_edit_rate(ZeroEditInput(total=8, zero_edit=2))).rate == 0.25
    assert (await learner.zero_edit_rate(ZeroEditInput(total=0, zero_edit=0))).rate is None
    with pytest.raises(ValueError):
        ZeroEditInput(total=1, zero_edit=2)


# -- scout -------------------------------------------------------------------------------------------


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def aembed(self, texts):
        self.calls += 1
        return self.embed(texts)


async def test_scout_engine_ingests_then_scouts_through_dispatch_with_cached_anchors():
    from datetime import UTC, datetime
    from uuid import uuid4

    embedder = CountingEmbedder()
    scout = OpportunityScout(embedder)
    now = datetime(2026, 3, 10, tzinfo=UTC)
    text = ("Finance teams hate stale dashboards. Stale dashboards cost finance teams trust in the numbers. "
            "Analytics dashboards for finance teams need fresh data every morning.")
    ingested = await dispatch(scout, "ingest", {"items": [{"text": text, "source_url": "https://e.com/a"},
                                                          {"text": "Banana bread needs ripe bananas and butter."}]})
    assert len(ingested.docs) == 2 and ingested.rejected == [] and embedder.calls == 1
    pillar, persona = uuid4(), uuid4()
    brand = {"brand_id": str(uuid4()), "name": "Acme", "positioning": "analytics dashboards for finance teams",
             "pillars": [{"id": str(pillar), "name": "Dashboards", "description": "analytics dashboards for finance teams"}],
             "personas": [{"id": str(persona), "name": "CFO", "description": "finance teams who read dashboards"}]}
    docs = [{"id": str(p.doc.id), "title": p.doc.title, "text": p.doc.text, "language": p.doc.language,
             "ingested_at": p.doc.ingested_at.isoformat(), "passages": p.passages,
             "passage_vectors": p.passage_vectors, "vector": p.vector} for p in ingested.docs]
    result = await dispatch(scout, "scout", {"brand": brand, "docs": docs, "now": now.isoformat()})
    assert [c.source_refs[0].global_source_doc_id for c in result.cards] == [ingested.docs[0].doc.id]
    assert result.cards[0].pillar_id == pillar and result.cards[0].persona_id == persona
    calls = embedder.calls
    await dispatch(scout, "scout", {"brand": brand, "docs": docs, "now": now.isoformat()})
    assert embedder.calls == calls  # anchors and background embedded once, not per call
    with pytest.raises(Invalid) as bad:
        await dispatch(scout, "scout", {"brand": {**brand, "pillars": []}, "docs": [], "now": now.isoformat()})
    assert bad.value.details == {"field": "payload"}


# -- dispatch --------------------------------------------------------------------------------------


async def test_dispatch_validates_op_and_payload():
    learner = Learner()
    result = await dispatch(learner, "edit_distance", {"original": "a", "edited": "b"})
    assert result.distance == 1.0
    with pytest.raises(Invalid) as unknown:
        await dispatch(learner, "segment", EditInput(original="a", edited="b"))
    assert unknown.value.details == {"field": "op"}
    with pytest.raises(Invalid) as wrong:
        await dispatch(learner, "edit_distance", SegmentInput(text="hello"))
    assert wrong.value.details == {"field": "payload"}


# -- content writer: the quality gates as a pool operation -----------------------------------------


async def test_writer_check_runs_the_gates_through_dispatch():
    from agents.gates import GateReport

    report = await dispatch(ContentWriter(), "check", {"channel": "x", "text": "Churn fell 12% after we cut one step."})
    assert isinstance(report, GateReport) and report.passed
    assert report.length == x_weighted_length("Churn fell 12% after we cut one step.")
    with pytest.raises(Invalid) as wrong:
        await dispatch(ContentWriter(), "check", {"channel": "fax", "text": "hi"})
    assert wrong.value.details == {"field": "payload"}
