"""Raw items from a file or a URL, whatever it holds: a feed, a bulk import, a page, plain text.

* a file is read by its extension: ``.rss``/``.atom``/``.xml`` a feed, ``.json``/``.jsonl``/
  ``.ndjson``/``.csv`` a bulk import (:mod:`.bulk`), ``.html``/``.htm`` a page, anything else
  pasted text (one item);
* a URL is fetched (:mod:`.fetch`: size cap, timeout, redirects) and read as a feed when its
  content type says so or its body starts like one, else as a page (:mod:`.pages`).

Errors are :class:`storage.errors.Invalid` naming what was wrong (``url`` for a fetch that
failed, ``feed``/``body``/``records[i].field`` for the content).
"""

from __future__ import annotations

from pathlib import PurePath

from storage.errors import Invalid
from storage.objects import SourceDocType

from .bulk import parse_bulk
from .feeds import parse_feed
from .fetch import Fetcher, FetchRequest
from .models import RawItem
from .pages import extract_page

FEED_SUFFIXES = {".rss", ".atom", ".xml"}
BULK_SUFFIXES = {".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
PAGE_SUFFIXES = {".html", ".htm"}
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "application/rdf+xml")


def looks_like_feed(body: bytes, content_type: str | None) -> bool:
    """A feed by its declared type, else by its first tag (``<rss``, ``<feed``, ``<rdf:RDF``)."""
    if content_type and content_type.split(";")[0].strip().lower() in FEED_TYPES:
        return True
    head = body[:2048].lstrip().lower()
    if head.startswith(b"<?xml"):
        head = head[head.find(b"?>") + 2 :].lstrip()
    while head.startswith(b"<!--"):  # comments before the root
        head = head[head.find(b"-->") + 3 :].lstrip()
    return head.startswith((b"<rss", b"<feed", b"<rdf:rdf"))


def items_from_file(name: str, body: bytes) -> list[RawItem]:
    """The items a file holds, read by its extension (see the module docstring)."""
    suffix = PurePath(name).suffix.lower()
    if suffix in FEED_SUFFIXES:
        return parse_feed(body, f"file:///{PurePath(name).name}").items
    if suffix in BULK_SUFFIXES:
        return parse_bulk(body, BULK_SUFFIXES[suffix])  # type: ignore[arg-type]
    if suffix in PAGE_SUFFIXES:
        return [extract_page(body, f"https://localhost/{PurePath(name).name}", content_type="text/html")
                .model_copy(update={"source_url": None})]  # fmt: skip
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid(f"{PurePath(name).name} is not UTF-8 text", details={"field": "file"}) from None
    if not text.strip():
        raise Invalid(f"{PurePath(name).name} is empty", details={"field": "file"})
    return [RawItem(source_type=SourceDocType.PASTED_TEXT, text=text)]


async def items_from_url(fetcher: Fetcher, url: str) -> list[RawItem]:
    """The items at ``url``: a feed's entries, or the page's main text as one item."""
    result = await fetcher.fetch(FetchRequest(url=url))
    if result.outcome != "ok" or result.body is None:
        raise Invalid(f"{url} could not be read: {result.error_code}: {result.error}", details={"field": "url"})
    final = result.final_url or url
    if looks_like_feed(result.body, result.content_type):
        return parse_feed(result.body, final).items
    return [extract_page(result.body, final, content_type=result.content_type, charset=result.charset)]


__all__ = ["items_from_file", "items_from_url", "looks_like_feed"]
