"""The ingestion pipeline with a stand-in embedder: rejections, exact and near duplicates, org
scoping, one embedding call per batch; bulk imports; feed parsing; feed health and backoff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from agents.ingest.bulk import parse_bulk
from agents.ingest.feeds import parse_feed
from agents.ingest.health import BackoffPolicy, health, is_due, new_subscription, record_failure, record_success
from agents.ingest.models import IngestInput, KnownDoc, RawItem
from agents.ingest.pipeline import Ingestor, known_from_prepared
from storage.errors import Invalid
from storage.memory import HashingEmbedder
from storage.objects import SourceDocType

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
STORY = (
    "A subscription software company switched off its branded search ads in twelve randomly chosen regions for six "
    "weeks while keeping them on everywhere else. Sign-ups in the holdout regions fell by only 9 percent, even though "
    "the ad platform had attributed 40 percent of all sign-ups to those ads."
)
REWORDED = (
    "A subscription software company turned off its branded search ads in twelve randomly selected regions for six "
    "weeks while keeping them on everywhere else. Sign-ups in the holdout regions fell by only 9 percent, although "
    "the ad platform had attributed 40 percent of all sign-ups to those ads."
)
OTHER = (
    "A review of 1,400 landing-page tests found that the median test was stopped after reaching just 28 percent of "
    "the sample size needed to detect the lift it reported, because teams peeked at results every day."
)


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[int] = []

    async def aembed(self, texts):
        self.calls.append(len(texts))
        return self.embed(texts)


async def test_pipeline_dedupes_by_url_text_and_near_text_in_one_embedding_call():
    embedder = CountingEmbedder()
    items = [
        RawItem(text=STORY, source_url="https://www.example.com/a?utm_source=x", title="Branded search holdout"),
        RawItem(text=STORY.upper(), source_url="https://example.com/elsewhere"),  # same text, other case
        RawItem(text=OTHER, source_url="http://example.com/a/"),  # same URL as item 0
        RawItem(text=REWORDED, source_url="https://other.example/reworded"),
        RawItem(text=OTHER, source_url="https://example.com/tests"),
    ]
    result = await Ingestor(embedder).ingest(IngestInput(items=items, now=NOW))
    assert [(m.index, m.reason) for m in result.merged] == [(1, "same_text"), (2, "same_url"), (3, "near_duplicate")]
    assert {m.doc_id for m in result.merged[:3]} == {result.docs[0].doc.id}
    assert [d.doc.source_url for d in result.docs] == ["https://www.example.com/a?utm_source=x", "https://example.com/tests"]
    assert len(embedder.calls) == 1  # every passage of every new doc in one call
    first = result.docs[0]
    assert first.doc.language == "en" and first.doc.ingested_at == NOW and first.doc.content_hash
    assert first.passages[0].startswith("Branded search holdout. ")
    assert len(first.passage_vectors) == len(first.passages) and len(first.vector) == embedder.dim
    # Known documents dedupe the next call, by URL, text or near text.
    known = known_from_prepared(result.docs)
    again = await Ingestor(embedder).ingest(IngestInput(items=[items[0], items[3], RawItem(text=OTHER)], known=known))
    assert again.docs == [] and [m.reason for m in again.merged] == ["same_url", "near_duplicate", "same_text"]


async def test_bad_items_are_rejected_naming_the_field_and_the_rest_proceed():
    items = [
        RawItem(text="   <p> </p> "),
        RawItem(text=bytes(range(256)).decode("latin-1") * 4),  # a binary body decoded as text
        RawItem(text=(b"\x89PNG\r\n" + bytes(range(128, 256)) * 3).decode("utf-8", errors="replace")),
        RawItem(text=STORY, source_url="not a url"),
        RawItem(text=STORY),
    ]
    result = await Ingestor(HashingEmbedder()).ingest(IngestInput(items=items))
    assert [(r.index, r.field) for r in result.rejected] == [(0, "text"), (1, "text"), (2, "text"), (3, "source_url")]
    assert len(result.docs) == 1 and result.docs[0].doc.source_type is SourceDocType.PASTED_TEXT


async def test_a_public_item_never_joins_a_private_document():
    org = uuid4()
    private = KnownDoc(id=uuid4(), text=STORY, source_url="https://example.com/a", org_id=org)
    public = await Ingestor(HashingEmbedder()).ingest(
        IngestInput(items=[RawItem(text=STORY, source_url="https://example.com/a")], known=[private])
    )
    assert public.merged == [] and len(public.docs) == 1
    same_org = await Ingestor(HashingEmbedder()).ingest(
        IngestInput(items=[RawItem(text=STORY, org_id=org)], known=[private])
    )
    assert [m.doc_id for m in same_org.merged] == [private.id]
    shared = KnownDoc(id=uuid4(), text=OTHER)
    joins_public = await Ingestor(HashingEmbedder()).ingest(IngestInput(items=[RawItem(text=OTHER, org_id=org)], known=[shared]))
    assert [m.doc_id for m in joins_public.merged] == [shared.id]


# -- bulk imports ------------------------------------------------------------------------------------


def test_bulk_json_jsonl_and_csv():
    as_json = parse_bulk('[{"text": "One story.", "url": "https://e.com/1", "published_at": "2026-03-01"}]', "json")
    assert as_json[0].published_at == datetime(2026, 3, 1, tzinfo=UTC) and as_json[0].source_url == "https://e.com/1"
    lines = parse_bulk('{"text": "a"}\n\n{"text": "b", "source_type": "x_post", "published_at": "2026-03-01T10:00:00Z"}', "jsonl")
    assert [i.text for i in lines] == ["a", "b"] and lines[1].source_type is SourceDocType.X_POST
    rows = parse_bulk("title,text,url\nHello,Some text here,https://e.com/2\n", "csv")
    assert (rows[0].title, rows[0].text, rows[0].source_url) == ("Hello", "Some text here", "https://e.com/2")


@pytest.mark.parametrize(
    ("body", "fmt", "field"),
    [
        ("title,url\nx,https://e.com\n", "csv", "records.text"),
        ("text,title\nfine,ok\n,missing text\n", "csv", "records[1].text"),
        ('[{"text": "ok"}, {"txt": "typo"}]', "json", "records[1].txt"),
        ('{"text": "ok"}\nnot json', "jsonl", "records[1]"),
        ('{"text": "ok"}', "json", "records"),
        ('[{"text": "ok", "published_at": "yesterday"}]', "json", "records[0].published_at"),
        ('[{"text": "ok", "source_type": "fax"}]', "json", "records[0].source_type"),
        ("[1, 2]", "json", "records[0]"),
        (b"\xff\xfe\x00bad", "csv", "records"),
    ],
)
def test_bulk_errors_name_the_row_and_field(body, fmt, field):
    with pytest.raises(Invalid) as info:
        parse_bulk(body, fmt)
    assert info.value.details == {"field": field}


# -- feed parsing ----------------------------------------------------------------------------------


RSS = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>
<item><title>First</title><link>/p/1</link><pubDate>Mon, 09 Mar 2026 08:00:00 GMT</pubDate>
<description>&lt;p&gt;Body one.&lt;/p&gt;</description></item>
<item><title></title><description></description></item>
<item><title>Only a title</title><link>javascript:alert(1)</link></item>
</channel></rss>"""


def test_feed_entries_links_dates_and_empty_entries():
    parsed = parse_feed(RSS, "https://feeds.example/rss")
    assert parsed.title == "T" and parsed.skipped == 1
    first, second = parsed.items
    assert (first.source_url, first.published_at) == ("https://feeds.example/p/1", datetime(2026, 3, 9, 8, tzinfo=UTC))
    assert second.source_url is None and second.text == "Only a title"


@pytest.mark.parametrize("body", [b"", b"   ", b"<html><body><p>not a feed</p></body></html>", b"<rss><<<broken", b"\x89PNG\x00\x00"])
def test_not_a_feed_is_invalid_naming_feed(body):
    with pytest.raises(Invalid) as info:
        parse_feed(body, "https://feeds.example/rss")
    assert info.value.details == {"field": "feed"}


def test_a_well_formed_feed_without_entries_is_empty():
    parsed = parse_feed(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Quiet</title></channel></rss>', "https://f.example/")
    assert parsed.items == [] and parsed.title == "Quiet"


# -- feed health -------------------------------------------------------------------------------------


def test_backoff_doubles_to_a_cap_and_success_resets():
    policy = BackoffPolicy(base_seconds=60, max_seconds=3600, jitter=0.0)
    sub = new_subscription(uuid4(), "https://www.feeds.example/rss/?utm_source=x", poll_interval_seconds=900, now=NOW)
    assert sub.url_key == "https://feeds.example/rss" and is_due(sub, NOW) and health(sub).status == "never_polled"
    delays = []
    for _ in range(8):
        sub = record_failure(sub, NOW, "timeout: no answer", policy)
        delays.append((sub.next_poll_at - NOW).total_seconds())
    assert delays == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert (health(sub).status, sub.consecutive_failures, sub.last_error) == ("failing", 8, "timeout: no answer")
    assert not is_due(sub, NOW + timedelta(seconds=3599)) and is_due(sub, NOW + timedelta(seconds=3600))
    ok = record_success(sub, NOW, etag='"v2"', last_modified="Tue", not_modified=False)
    assert (ok.consecutive_failures, ok.etag, ok.next_poll_at, health(ok).status) == (0, '"v2"', NOW + timedelta(seconds=900), "ok")
    assert ok.last_error == "timeout: no answer"  # the last error stays visible after recovery
    kept = record_success(ok, NOW, etag=None, last_modified=None, not_modified=True)
    assert (kept.etag, kept.last_modified) == ('"v2"', "Tue")  # a 304 keeps the validators
    jittered = BackoffPolicy(base_seconds=60, jitter=0.1).delay(3, "some-id")
    assert 240 <= jittered <= 264 and jittered == BackoffPolicy(base_seconds=60, jitter=0.1).delay(3, "some-id")
