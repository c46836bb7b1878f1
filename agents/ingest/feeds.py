"""RSS and Atom feeds to raw items, through feedparser (given bytes: it fetches nothing).

Each entry becomes a :class:`RawItem`: its full content when the feed carries it, else its
summary (markup is cleaned later), its link resolved against the feed's URL, its author and its
published (else updated) time. An empty body, a document that is not a feed, or a feed so
broken that feedparser finds no entries and no title is :class:`storage.errors.Invalid`
naming the field ``feed``; a well-formed feed with no entries is simply empty, and a
truncated feed keeps the entries that could be read.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime
from urllib.parse import urljoin

import feedparser
from pydantic import Field

from storage.errors import Invalid
from storage.objects import SourceDocType

from .models import IngestModel, RawItem


class ParsedFeed(IngestModel):
    title: str | None = None
    items: list[RawItem] = Field(default=[])
    skipped: int = Field(default=0, description="entries without any text")


def _when(entry: feedparser.FeedParserDict) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _body(entry: feedparser.FeedParserDict) -> str:
    contents = entry.get("content") or []
    best = max((c.get("value", "") for c in contents), key=len, default="")
    summary = entry.get("summary", "") or ""
    return best if len(best) >= len(summary) else summary


def parse_feed(body: bytes, feed_url: str, *, source_type: SourceDocType = SourceDocType.ARTICLE) -> ParsedFeed:
    if not body or not body.strip():
        raise Invalid("the feed is empty", details={"field": "feed"})
    parsed = feedparser.parse(body)
    # feedparser names a version for anything containing "<rss"; without entries, a bozo
    # (not well-formed) document is no feed. With entries, a truncated feed still gives them.
    looks_like_feed = bool(parsed.entries) or (bool(parsed.get("version")) and not parsed.get("bozo"))
    if not looks_like_feed:
        reason = parsed.get("bozo_exception")
        raise Invalid(f"not an RSS or Atom feed{f': {reason}' if reason else ''}"[:500], details={"field": "feed"})
    items: list[RawItem] = []
    skipped = 0
    for entry in parsed.entries:
        text = _body(entry)
        title = (entry.get("title") or "").strip() or None
        if not text.strip() and not title:
            skipped += 1
            continue
        link = entry.get("link")
        url = urljoin(feed_url, link) if link else None
        if url and not url.startswith(("http://", "https://")):
            url = None
        author = (entry.get("author") or "").strip()[:120] or None
        items.append(RawItem(
            source_type=source_type, text=text or (title or ""), source_url=url, title=title[:2000] if title else None,
            author_handle=author, published_at=_when(entry),
        ))  # fmt: skip
    title = (parsed.feed.get("title") or "").strip()[:500] or None
    return ParsedFeed(title=title, items=items, skipped=skipped)
