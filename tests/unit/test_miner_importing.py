"""Importing posts: JSON, JSONL and CSV; bad input refused with the row and field named."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from agents.engines import dispatch
from agents.engines.miner import ImportInput, PatternMiner
from agents.miner.importing import parse_posts
from storage.errors import Invalid
from storage.objects import Channel

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SWIPE = Path(__file__).resolve().parents[1] / "data" / "miner" / "swipe_posts.jsonl"


def _parse(content, fmt, **kw):
    kw.setdefault("brand_id", None)
    return parse_posts(content, fmt, now=NOW, **kw)


def _invalid(content, fmt, **kw) -> Invalid:
    with pytest.raises(Invalid) as info:
        _parse(content, fmt, **kw)
    return info.value


def test_the_shipped_swipe_file_imports_as_global_posts():
    imported = _parse(SWIPE.read_text(), "jsonl")
    rows = [json.loads(line) for line in SWIPE.read_text().splitlines()]
    assert imported.rows == len(rows) and imported.duplicates == 0
    assert all(p.is_global and p.brand_id is None for p in imported.posts)
    assert [p.impressions for p in imported.posts] == [r["impressions"] for r in rows]


def test_csv_json_and_jsonl_give_the_same_post_and_the_same_id():
    csv_text = 'body,channel,impressions,engagements,posted_at\n"Big news: we launched.\n\nTry it.",linkedin,"1,200",30,2025-01-15T09:00:00Z\n'
    json_text = json.dumps([{"text": "Big news: we launched.\n\nTry it.", "channel": "linkedin",
                             "impressions": 1200, "engagements": 30, "created_at": "2025-01-15T09:00:00Z"}])
    jsonl_text = json.dumps({"raw_text": "Big news: we launched.\n\nTry it.", "channel": "LinkedIn",
                             "impressions": 1200, "engagements": 30, "date": "2025-01-15T09:00:00+00:00"})
    posts = [_parse(t, f).posts[0] for t, f in ((csv_text, "csv"), (json_text, "json"), (jsonl_text, "jsonl"))]
    assert len({p.id for p in posts}) == 1
    assert {(p.channel, p.impressions, p.engagements, p.created_at) for p in posts} == {
        (Channel.LINKEDIN, 1200, 30, datetime(2025, 1, 15, 9, tzinfo=UTC))}


def test_same_post_twice_is_one_post_but_another_scope_is_another():
    text = json.dumps({"posts": [{"text": "Stop guessing.", "channel": "x", "impressions": 10},
                                 {"text": "Stop guessing.", "channel": "x", "impressions": 20}]})
    imported = _parse(text, "json")
    assert len(imported.posts) == 1 and imported.duplicates == 1 and imported.posts[0].impressions == 20
    brand = uuid4()
    assert _parse(text, "json", brand_id=brand).posts[0].id != imported.posts[0].id


def test_missing_metrics_are_allowed():
    post = _parse('text,channel\nHello there friends,mastodon\n', "csv").posts[0]
    assert post.impressions is None and post.engagements is None and post.created_at == NOW


def test_a_csv_without_a_text_column_is_refused_naming_the_field():
    error = _invalid("message,channel\nhello,x\n", "csv")
    assert error.details["field"] == "text" and "no text column" in error.message


@pytest.mark.parametrize(("row", "field", "needle"), [
    ({"text": "   ", "channel": "x"}, "text", "empty"),
    ({"text": "🚀🔥 🎉!!", "channel": "x"}, "text", "no words"),
    ({"text": "Fine post.", "channel": "x", "impressions": -5}, "impressions", "negative"),
    ({"text": "Fine post.", "channel": "x", "impressions": 10, "engagements": 11}, "engagements", "exceed"),
    ({"text": "Fine post.", "channel": "myspace"}, "channel", "must be one of"),
    ({"text": "Fine post.", "channel": "x", "impressions": "lots"}, "impressions", "whole number"),
    ({"text": "Fine post.", "channel": "x", "created_at": "yesterday"}, "created_at", "ISO 8601"),
    ({"text": "Fine post.", "channel": "x", "created_at": "2025-01-01T09:00:00"}, "created_at", "time zone"),
])
def test_a_bad_row_names_its_row_and_field_and_nothing_is_imported(row, field, needle):
    good = {"text": "A good post.", "channel": "linkedin"}
    error = _invalid("\n".join(json.dumps(r) for r in (good, good | {"text": "Another."}, row)), "jsonl")
    assert (error.details["row"], error.details["field"]) == (3, field)
    assert needle in error.details["errors"][0]["message"]
    assert "row 3" in error.message


def test_every_bad_row_is_listed():
    rows = [{"text": "", "channel": "x"}, {"text": "ok post", "channel": "x", "impressions": -1},
            {"text": "ok post two", "channel": "x"}]
    error = _invalid(json.dumps(rows), "json")
    assert [(e["row"], e["field"]) for e in error.details["errors"]] == [(1, "text"), (2, "impressions")]


def test_a_file_too_large_is_refused_before_parsing():
    error = _invalid("x" * 2_000, "csv", max_bytes=1_000)
    assert error.details["field"] == "file" and error.details["bytes"] == 2_000


def test_broken_json_and_unknown_formats_are_refused():
    assert _invalid('{"posts": [', "json").details["field"] == "file"
    assert _invalid('{"text": "a"}\nnot json', "jsonl").details["row"] == 2
    assert _invalid("[]", "json").details["field"] == "file"
    assert _invalid("a", "xml").details["field"] == "format"


async def test_parse_op_uses_the_default_channel():
    result = await dispatch(PatternMiner(), "parse", ImportInput(
        format="csv", content="text\nOne more post about hiring.\n", default_channel=Channel.BLUESKY, now=NOW))
    assert result.posts[0].channel == Channel.BLUESKY and result.rows == 1


def test_a_file_of_100_mb_is_refused_with_the_default_limit_naming_the_file():
    row = json.dumps({"text": "A post that is fine on its own.", "channel": "x"}) + "\n"
    content = row * (100_000_000 // len(row) + 1)
    error = _invalid(content, "jsonl")
    assert error.details["field"] == "file" and error.details["bytes"] >= 100_000_000
    assert error.details["max_bytes"] == PatternMiner().max_import_bytes
