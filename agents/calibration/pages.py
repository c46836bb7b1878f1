"""The ``fetch`` that URL imports inject: a page's main text through the ingest package's
fetcher (size cap, timeout, redirects) and extractor (trafilatura).

A page that cannot be fetched or has no main text is an :class:`~storage.errors.Invalid`
naming ``url``, with the fetcher's reason, so the caller answers 422 rather than failing.
"""

from __future__ import annotations

from agents.ingest.fetch import Fetcher, FetchRequest
from agents.ingest.pages import extract_page
from storage.errors import Invalid

from .importing import Fetch


def page_text(fetcher: Fetcher) -> Fetch:
    """A ``fetch(url) -> main text`` over ``fetcher`` (the caller owns and closes it)."""

    async def fetch(url: str) -> str:
        result = await fetcher.fetch(FetchRequest(url=url))
        if result.outcome != "ok" or result.body is None:
            raise Invalid(f"could not fetch {url}: {result.error or result.outcome}",
                          details={"field": "url", "error_code": result.error_code})  # fmt: skip
        try:
            item = extract_page(result.body, result.final_url or url,
                                content_type=result.content_type, charset=result.charset)  # fmt: skip
        except Invalid as exc:
            raise Invalid(f"{url}: {exc.message}", details={"field": "url"}) from None
        return item.text

    return fetch
