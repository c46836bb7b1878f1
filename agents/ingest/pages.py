"""A fetched page to a raw item: the main text extracted by trafilatura, with its metadata.

A body that is not HTML (an image, a PDF, random bytes) or a page with no extractable main
text (navigation only, HTML garbage) is :class:`storage.errors.Invalid` naming the field
``body``: the caller records the reason, nothing half-made is stored.
"""

from __future__ import annotations

from datetime import UTC, datetime

import trafilatura
from pydantic import Field

from storage.errors import Invalid
from storage.objects import SourceDocType

from .models import IngestModel, RawItem
from .text import printable_ratio

HTML_TYPES = ("text/html", "application/xhtml+xml", "text/plain", "")
MIN_MAIN_TEXT = 80
DATE_PARAMS = {"outputformat": "%Y-%m-%dT%H:%M:%S%z", "original_date": True, "extensive_search": True}
"""Publication time with the time of day when the page says it (trafilatura defaults to the day)."""


def _decode(body: bytes, charset: str | None) -> str:
    for encoding in (charset, "utf-8"):
        if encoding:
            try:
                return body.decode(encoding)
            except (LookupError, UnicodeDecodeError):
                continue
    return body.decode("utf-8", errors="replace")


def _published(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class FetchedPage(IngestModel):
    """A page's body as the fetcher returned it (``final_url`` as ``url``): the input of the
    scout pool's ``extract_page``, so the extraction runs in the pool, not where it was fetched."""

    url: str = Field(max_length=2048)
    body: bytes = Field(max_length=16 * 1024 * 1024)
    content_type: str | None = Field(default=None, max_length=200)
    charset: str | None = Field(default=None, max_length=100)


def extract_page(body: bytes, url: str, *, content_type: str | None = None, charset: str | None = None) -> RawItem:
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind not in HTML_TYPES or b"\x00" in body[:4096]:
        raise Invalid(f"the page is not HTML (content type {kind or 'unknown'})", details={"field": "body"})
    html = _decode(body, charset)
    if printable_ratio(html[:20000]) < 0.9:
        raise Invalid("the page body is not readable text", details={"field": "body"})
    try:
        document = trafilatura.bare_extraction(
            html, url=url, with_metadata=True, include_comments=False, date_extraction_params=DATE_PARAMS
        )
    except Exception as exc:  # trafilatura raises a variety of parser errors on garbage
        raise Invalid(f"the page could not be parsed: {type(exc).__name__}", details={"field": "body"}) from exc
    text = (getattr(document, "text", None) or "").strip() if document is not None else ""
    if len(text) < MIN_MAIN_TEXT:
        raise Invalid("no main text found on the page", details={"field": "body"})
    title = (getattr(document, "title", None) or "").strip() or None
    author = (getattr(document, "author", None) or "").strip()[:120] or None
    return RawItem(
        source_type=SourceDocType.ARTICLE, text=text, source_url=url, title=title[:2000] if title else None,
        author_handle=author, published_at=_published(getattr(document, "date", None)),
    )  # fmt: skip
