"""A package written about a page at a URL, through the brand agent (in process, no Ray): the
page is fetched from a local site, extracted in the scout engine, stored as the brand's
tenant's source document and written from (its claim the thesis, its figures the variants'
figures); the same URL asked again is reused, not fetched; a regeneration grounds on the same
page; a page that cannot be read is refused naming ``source.url`` and its reason, with nothing
stored - no document, no package, no generation round."""

from __future__ import annotations

from uuid import uuid4

import pytest

from agents.ingest.fetch import FetchConfig
from agents.writer.grounding import References, check_grounding
from runtime import agent_pages
from runtime.commands import ChannelAsk, PageAsk, RegenerateVariants, WritePackage
from runtime.local import LocalAgentGateway, LocalEngines
from storage.errors import Invalid, NotFound
from storage.memory import HashingEmbedder
from storage.objects import Channel, OriginType, VariantStatus
from storage.postgres import repositories as repo
from tests.data.writer.page_server import page_site
from tests.integration.conftest import insert_examples

pytestmark = pytest.mark.integration

CHANNELS = [ChannelAsk(channel=Channel.LINKEDIN), ChannelAsk(channel=Channel.X)]
TABLES = ("global_source_docs", "content_packages", "generation_sessions", "content_variants", "event_log")


@pytest.fixture
def site():
    with page_site() as served:
        yield served


@pytest.fixture
async def brand(db, examples):
    await insert_examples(db, examples)
    return examples


def gateway(db) -> LocalAgentGateway:
    return LocalAgentGateway(db, LocalEngines(HashingEmbedder()))


async def count(db, table: str, where: str = "true", *args: object) -> int:
    async with db.connection() as conn:
        return await conn.fetchval(f"SELECT count(*) FROM {table} WHERE {where}", *args)


async def test_a_page_becomes_a_package_grounded_on_it(db, brand, site) -> None:
    base, hits = site
    agents = gateway(db)
    docs_before = await count(db, "global_source_docs")
    url = f"{base}/pipeline-review?utm_source=newsletter"
    view = await agents.send(brand.brand.id, WritePackage(page=PageAsk(url=url), channels=CHANNELS))
    package, argument = view.package, view.core_argument
    assert package.origin_type is OriginType.MANUAL and url in package.origin_note
    async with db.connection() as conn:
        docs = await repo.source_docs.list(conn, "source_url = $1", url)
        session = await conn.fetchrow("SELECT source_doc_id, status FROM generation_sessions WHERE content_package_id = $1",
                                      package.id)  # fmt: skip
    assert len(docs) == 1 and docs[0].org_id == brand.brand.org_id  # the brand's tenant's document
    doc = docs[0]
    assert session["source_doc_id"] == doc.id and session["status"] == "written"
    # unlocked, the persona and pillar are those the scout matches the page to for this brand
    focus = await agent_pages.page_focus(agents.agents[brand.brand.id], doc.id)
    assert None not in focus and (argument.persona_id, argument.pillar_id) == focus
    # the thesis is one of the page's own sentences, and every supporting point is the page's too
    flat = " ".join(doc.text.split())
    assert argument.thesis in flat and not argument.thesis.startswith(doc.title)  # a sentence, not the heading
    assert all(p in flat for p in argument.supporting_points) and argument.thesis not in argument.supporting_points
    assert "Pricing" not in doc.text and "hiring" not in doc.text  # the site's navigation is not the article
    # every figure and quotation of every variant traces to the page itself (not the brand's brain)
    page_only = References([doc.text, doc.title or ""])
    passed = [v.variant for v in view.variants if v.variant.status is VariantStatus.DRAFT]
    assert len(passed) >= 3
    for variant in passed:
        report = check_grounding(variant.body, page_only)
        assert [c for c in report.untraced if c.kind in ("figure", "quote")] == [], variant.body
    assert any(c.kind == "figure" for v in passed for c in check_grounding(v.body, page_only).checked)

    # asked again (another spelling of the same URL), the document is reused: no fetch, no new row
    again = await agents.send(brand.brand.id, WritePackage(page=PageAsk(url=f"{base}/pipeline-review/"),
                                                           channels=[ChannelAsk(channel=Channel.LINKEDIN)], seed=3))  # fmt: skip
    assert hits["/pipeline-review"] == 1 and await count(db, "global_source_docs") == docs_before + 1
    assert await count(db, "generation_sessions", "content_package_id = $1 AND source_doc_id = $2",
                       again.package.id, doc.id) == 1  # fmt: skip

    # a regeneration grounds on the same page: its round names it
    x = next(v for v in view.variants if v.variant.channel is Channel.X)
    regenerated = await agents.send(brand.brand.id, RegenerateVariants(package_id=package.id, variant_id=x.variant.id,
                                                                       expected_version=view.version, seed=9))  # fmt: skip
    fresh = [v for v in regenerated.variants if v.variant.origin.source_variant_id == x.variant.id]
    assert len(fresh) == 1
    assert await count(db, "generation_sessions", "content_package_id = $1 AND round = 'regenerate' "
                       "AND source_doc_id = $2", package.id, doc.id) == 1  # fmt: skip
    if fresh[0].variant.status is VariantStatus.DRAFT:
        assert not [c for c in check_grounding(fresh[0].variant.body, page_only).untraced if c.kind == "figure"]


async def test_a_locked_persona_and_pillar_are_kept_and_a_foreign_one_is_refused(db, brand, site) -> None:
    base, hits = site
    agents = gateway(db)
    persona, pillar = brand.opportunity_cards[0].persona_id, brand.opportunity_cards[0].pillar_id
    view = await agents.send(brand.brand.id, WritePackage(
        page=PageAsk(url=f"{base}/pipeline-review", persona_id=persona, pillar_id=pillar,
                     notes="Our own review now opens with the stage where deals stall the longest."),
        channels=[ChannelAsk(channel=Channel.LINKEDIN, variants=1)]))  # fmt: skip
    assert (view.core_argument.persona_id, view.core_argument.pillar_id) == (persona, pillar)
    before = {t: await count(db, t) for t in TABLES}
    with pytest.raises(NotFound) as caught:
        await agents.send(brand.brand.id, WritePackage(page=PageAsk(url=f"{base}/moved-review", pillar_id=uuid4()),
                                                       channels=CHANNELS))  # fmt: skip
    assert caught.value.details["field"] == "pillar_id"
    assert hits["/moved-review"] == 0  # refused before anything was fetched
    assert {t: await count(db, t) for t in TABLES} == before


@pytest.mark.parametrize(
    ("path", "reason"),
    [("/missing", "http_status"), ("/error", "http_status"), ("/chart.png", "not_html"), ("/home", "no_main_text"),
     ("/huge", "too_large")],
)  # fmt: skip
async def test_a_page_that_cannot_be_read_leaves_nothing(db, brand, site, path, reason) -> None:
    base, _ = site
    before = {t: await count(db, t) for t in TABLES}
    with pytest.raises(Invalid) as caught:
        await gateway(db).send(brand.brand.id, WritePackage(page=PageAsk(url=f"{base}{path}"), channels=CHANNELS))
    assert caught.value.details["field"] == "source.url" and caught.value.details["reason"] == reason
    assert {t: await count(db, t) for t in TABLES} == before


async def test_a_refused_connection_and_a_timeout_leave_nothing(db, brand, site, monkeypatch) -> None:
    before = {t: await count(db, t) for t in TABLES}
    with pytest.raises(Invalid) as refused:  # nothing listens on port 9
        await gateway(db).send(brand.brand.id, WritePackage(page=PageAsk(url="http://127.0.0.1:9/post"),
                                                            channels=CHANNELS))  # fmt: skip
    assert refused.value.details == {"field": "source.url", "reason": "connection", "status": None}
    for broken in ("http://[fe80::1/post", "http://example.org:99999/post"):  # a host or port no fetcher can use
        with pytest.raises(Invalid) as invalid:
            await gateway(db).send(brand.brand.id, WritePackage(page=PageAsk(url=broken), channels=CHANNELS))
        assert invalid.value.details == {"field": "source.url", "reason": "invalid_url"}
    monkeypatch.setattr(agent_pages, "PAGE_FETCH", FetchConfig(timeout_seconds=0.5))
    with pytest.raises(Invalid) as slow:
        await gateway(db).send(brand.brand.id, WritePackage(page=PageAsk(url=f"{site[0]}/slow"),
                                                            channels=CHANNELS))  # fmt: skip
    assert slow.value.details["reason"] == "timeout"
    assert {t: await count(db, t) for t in TABLES} == before


async def test_a_deployments_agent_reaches_no_internal_address(db, brand, site) -> None:
    """Brand hosts give their agents the deployment's fetch policy (public addresses only unless
    a network is allowed): a page on loopback is refused before any request reaches it."""
    from runtime.settings import Settings

    base, hits = site
    before = {t: await count(db, t) for t in TABLES}
    guarded = Settings(fetch_allowed_networks=[]).fetch_config(**agent_pages.PAGE_FETCH_LIMITS)
    agents = LocalAgentGateway(db, LocalEngines(HashingEmbedder()), fetch=guarded)
    served = sum(hits.values())
    with pytest.raises(Invalid) as blocked:
        await agents.send(brand.brand.id, WritePackage(page=PageAsk(url=f"{base}/pipeline-review"), channels=CHANNELS))
    assert blocked.value.details["field"] == "source.url" and blocked.value.details["reason"] == "blocked_address"
    assert sum(hits.values()) == served  # the page was never asked for
    assert {t: await count(db, t) for t in TABLES} == before
