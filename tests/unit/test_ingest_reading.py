"""Raw items from a file by its extension, and a fetched body told apart as feed or page."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.ingest.reading import items_from_file, looks_like_feed
from storage.errors import Invalid

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data" / "ingest"


@pytest.mark.parametrize(("body", "content_type", "feed"), [
    (b'<?xml version="1.0"?>\n<!-- made by hand -->\n<rss version="2.0"><channel/></rss>', None, True),
    (b"<feed xmlns='http://www.w3.org/2005/Atom'></feed>", "text/plain", True),
    (b"<html><body>An article</body></html>", "application/rss+xml; charset=utf-8", True),  # the server's word
    (b"<!doctype html><html><body>An article</body></html>", "text/html", False),
    (b"\x89PNG\r\n", "image/png", False),
])  # fmt: skip
def test_a_feed_is_told_by_its_type_or_its_root(body, content_type, feed):
    assert looks_like_feed(body, content_type) is feed


def test_files_are_read_by_their_extension(tmp_path):
    feed = items_from_file("digest.rss", (DATA / "feed.rss").read_bytes())
    assert [i.title for i in feed] == ["Ad platforms claim 2.3 times the conversions that actually closed",
                                       "Tracking plans drift after every release"]  # fmt: skip
    assert feed[0].source_url is None  # a relative link has no base outside the feed's site
    bulk = items_from_file("items.jsonl", b'{"text": "One note.", "title": "A"}\n{"text": "Two."}\n')
    assert [i.text for i in bulk] == ["One note.", "Two."]
    page = items_from_file("story.html", (DATA / "article.html").read_bytes())
    assert len(page) == 1 and len(page[0].text) > 200 and page[0].source_url is None
    note = items_from_file("note.md", "# A note\n\nPlain text, kept whole.".encode())
    assert [i.text for i in note] == ["# A note\n\nPlain text, kept whole."]


@pytest.mark.parametrize(("name", "body", "field"), [
    ("note.txt", "Caf\xe9".encode("latin-1"), "file"),
    ("note.txt", b"  \n", "file"),
    ("items.csv", b"title,body\nA,B\n", None),
    ("digest.xml", b"<html>not a feed</html>", "feed"),
])  # fmt: skip
def test_a_bad_file_is_invalid_naming_the_field(name, body, field):
    with pytest.raises(Invalid) as info:
        items_from_file(name, body)
    if field:
        assert info.value.details["field"] == field


def test_a_feed_key_is_always_a_url_of_its_own_shape():
    from agents.ingest.health import URL_SHAPE, feed_key

    assert feed_key("http://www.news.example.org/feed/?utm_source=x") == "https://news.example.org/feed"
    for url in ("http://\u00b4h}I\U0001f3fb\u00ad", "http://a.example:99999/feed", "http://" + "a" * 2041):
        key = feed_key(url)
        assert URL_SHAPE.match(key) and len(key) <= 2048, url
