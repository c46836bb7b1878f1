"""The brand agent's pages to write about: a URL becomes a stored source document.

A package can start from "a URL to write about". The agent fetches the page with ingestion's
fetcher (its size cap, timeout and redirect limit; only absolute http(s) URLs, as ingestion
allows), the scout pool extracts its main text (trafilatura is CPU work: it runs in the pool
that runs ingestion, never in an API replica), and the document is cleaned, language-tagged,
deduplicated and embedded by the same ingest operation feeds and ``kairo ingest`` use, as a
document of the brand's tenant. A URL the brand may already read (public, or its tenant's) is
reused without fetching; a page whose text is already stored joins that document.

A page that cannot become a document (refused, timed out, 404, too large, not HTML, no main
text) is :class:`storage.errors.Invalid` naming ``source.url`` with a ``reason`` (the
fetcher's error code, ``not_html`` or ``no_main_text``): the caller answers 422 and nothing was
stored, neither a document nor a package nor a generation round.

The page's persona and pillar, when the request does not lock them, are the ones the scout
gives the document for this brand (:func:`page_focus`: its embedding match of the page's
passages against the brand's pillars and personas, the same call that scores cards, in the
scout pool; nothing it returns is stored). A scout that cannot answer leaves the choice to the
writer's word-overlap fallback (:func:`agents.writer.page.nearest`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog

from agents.ingest.fetch import FetchConfig, Fetcher, FetchRequest
from agents.ingest.pages import HTML_TYPES, FetchedPage
from agents.ingest.urls import normalize_url
from agents.scout.models import ScoutInput, ScoutResult
from agents.scout.service import brand_profile, ingest_input, scout_doc, store_ingested
from agents.writer.models import SourceDoc
from storage.errors import Invalid, NotFound
from storage.objects.base import utcnow
from storage.postgres import repositories as repo
from storage.postgres.sources import StoredDoc

from .commands import PageAsk
from .gateway import call_engine

if TYPE_CHECKING:  # pragma: no cover
    from .brand_agent import BrandAgent

log = structlog.get_logger(__name__)

FIELD = "source.url"
PAGE_FETCH_LIMITS = {"timeout_seconds": 15.0, "max_bytes": 5 * 1024 * 1024, "max_redirects": 5}
# An agent without a fetch configuration of its own (tools, tests): these limits, no address policy.
# Brand hosts give their agents the deployment's (Settings.fetch_config: public addresses only).
PAGE_FETCH = FetchConfig(**PAGE_FETCH_LIMITS)
SOURCE_TEXT_MAX = 40_000
KNOWN_SCAN = 200  # documents on the URL's host read to find the same URL


def _refused(message: str, reason: str, **details: Any) -> Invalid:
    return Invalid(message, details={"field": FIELD, "reason": reason, **details})


def source_doc(doc: Any) -> SourceDoc:
    return SourceDoc(id=doc.id, title=doc.title, text=doc.text[:SOURCE_TEXT_MAX], url=doc.source_url)


def page_key(url: str) -> str:
    """The URL's normalized form; a URL ingestion cannot read is refused (``invalid_url``)."""
    try:
        return normalize_url(url, field=FIELD)
    except (Invalid, ValueError) as exc:  # urlsplit raises ValueError on a broken IPv6 host
        message = exc.message if isinstance(exc, Invalid) else f"invalid URL: {exc}"
        raise _refused(message, "invalid_url") from None


async def known_page(conn: Any, org_id: UUID, url: str) -> Any | None:
    """The newest document the tenant may read (public or its own) stored for the same URL
    (compared in normalized form: scheme, ``www.``, tracking parameters... aside)."""
    key = page_key(url)
    host = key.split("/", 3)[2].split(":")[0]
    docs = await repo.source_docs.list(
        conn, "(org_id IS NULL OR org_id = $1) AND source_url IS NOT NULL AND position($2 in lower(source_url)) > 0",
        org_id, host, order_by="ingested_at DESC, id", limit=KNOWN_SCAN)  # fmt: skip
    for doc in docs:
        try:
            if normalize_url(doc.source_url) == key:
                return doc
        except Invalid:
            continue
    return None


async def _scout(agent: BrandAgent, op: str, payload: Any) -> Any:
    """The scout pool's answer; an error the engine raised on purpose is raised as itself."""
    return await call_engine(agent.engines, "scout", op, payload)


async def fetch_page(url: str, config: FetchConfig | None = None) -> FetchedPage:
    """The page's body, fetched as ingestion fetches; refused (Invalid naming ``source.url``)
    when the fetch failed or the body is not a web page."""
    async with Fetcher(config or PAGE_FETCH) as fetcher:
        result = await fetcher.fetch(FetchRequest(url=url))
    if result.outcome != "ok" or not result.body:
        reason = result.error_code or "empty_body"
        raise _refused(f"the page could not be fetched: {result.error or 'the server sent an empty body'}", reason,
                       status=result.status)  # fmt: skip
    kind = (result.content_type or "").split(";")[0].strip().lower()
    if kind not in HTML_TYPES:
        raise _refused(f"the page is not HTML (content type {kind})", "not_html", status=result.status)
    return FetchedPage(url=result.final_url or url, body=result.body, content_type=result.content_type,
                       charset=result.charset)  # fmt: skip


async def page_source(agent: BrandAgent, ask: PageAsk) -> SourceDoc:
    """The page as a source document of the brand's tenant: reused when its URL is known,
    else fetched, extracted in the scout pool and ingested (stored in its own transaction:
    a document is ingestion's data, not the brand's state)."""
    org_id = agent.brand.org_id
    async with agent.db.connection() as conn:
        known = await known_page(conn, org_id, ask.url)
    if known is not None:
        return source_doc(known)
    page = await fetch_page(ask.url, agent.fetch or PAGE_FETCH)
    try:
        item = await _scout(agent, "extract_page", page)
    except Invalid as exc:
        raise _refused(f"no main text could be read from the page: {exc.message}", "no_main_text") from None
    item = item.model_copy(update={"source_url": ask.url})  # the URL asked for, the one a later ask repeats
    now = utcnow()
    async with agent.db.connection() as conn:
        payload = await ingest_input(conn, [item], org_id=org_id, now=now)
    result = await _scout(agent, "ingest", payload)
    if result.rejected:
        first = result.rejected[0]
        raise _refused(f"the page's text cannot be a document: {first.reason}", "no_main_text")
    async with agent.db.transaction() as conn:
        await store_ingested(conn, result)
        doc_id = result.docs[0].doc.id if result.docs else result.merged[0].doc_id
        found = await repo.source_docs.list(conn, "id = $1", doc_id)
        if not found and result.docs:  # the same text was stored meanwhile (or long ago): that document
            prepared = result.docs[0].doc
            found = await repo.source_docs.list(conn, "content_hash = $1 AND org_id IS NOT DISTINCT FROM $2",
                                                prepared.content_hash, prepared.org_id)  # fmt: skip
    if not found:
        raise NotFound("the page's document is gone", details={"field": FIELD})
    return source_doc(found[0])


def focus_of(result: ScoutResult) -> tuple[UUID | None, UUID | None]:
    """(persona, pillar) the scout matched the page to, whether or not it would make a card."""
    score = result.scores[0] if result.scores else None
    return (score.persona_id, score.pillar_id) if score else (None, None)


async def page_focus(agent: BrandAgent, doc_id: UUID) -> tuple[UUID | None, UUID | None]:
    """The persona and pillar the scout matches the stored page to for this brand; (None,
    None) when it cannot say (the writer then picks by word overlap)."""
    try:
        async with agent.db.connection() as conn:
            profile = await brand_profile(conn, agent.brand_id)
            docs = await repo.source_docs.list(conn, "id = $1", doc_id)
            rows = await conn.fetch("SELECT text, vector FROM source_doc_passages WHERE doc_id = $1 ORDER BY position",
                                    doc_id)  # fmt: skip
        if not docs or not rows:
            return None, None
        stored = StoredDoc(docs[0], [r["text"] for r in rows], [list(r["vector"]) for r in rows])
        result = await _scout(agent, "scout", ScoutInput(brand=profile, docs=[scout_doc(stored)], now=utcnow()))
    except Exception as exc:  # optional input (as the hook library is): the page is still written, its focus by word overlap
        log.warning("writer.page_focus_unavailable", error=f"{type(exc).__name__}: {exc}"[:300])
        return None, None
    return focus_of(result)


__all__ = ["FIELD", "PAGE_FETCH", "fetch_page", "focus_of", "known_page", "page_focus", "page_key", "page_source", "source_doc"]
