"""Packages written about a page at a URL, and the generation rounds, through the real Serve
proxy: the brand's agent fetches a page from a local site (127.0.0.1), the scout pool extracts
it, and the package's variants say the page's figures; a page that cannot be read is a 422
naming ``body.source.url`` and its reason, with no package and no round stored. The rounds list
shows each round's generator, status, reason and page, and one round reads back with every
attempt; another tenant sees none of it."""

from __future__ import annotations

from uuid import uuid4

import pytest
from api_support import assert_error, mined_template

from agents.writer.grounding import References, check_grounding
from storage.postgres import writing as store
from tests.data.writer.page_server import ARTICLE, page_site

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def site():
    with page_site() as served:
        yield served


@pytest.fixture(scope="module")
def page_package(client, tenant_a, site) -> dict:
    base, _ = site
    mined_template(client, tenant_a)
    made = client.post(f"/v1/brands/{tenant_a.brand['id']}/packages", headers=tenant_a.headers, json={
        "source": {"kind": "url", "url": f"{base}/pipeline-review"}, "channels": {"linkedin": {}, "x": {}}})  # fmt: skip
    assert made.status_code == 201, made.text
    return made.json()


def rounds(client, tenant, **params) -> list[dict]:
    listed = client.get(f"/v1/brands/{tenant.brand['id']}/generation-sessions", headers=tenant.headers, params=params)
    assert listed.status_code == 200, listed.text
    return listed.json()["items"]


def test_a_page_becomes_a_package_that_says_its_figures(client, tenant_a, site, page_package):
    base, hits = site
    view = page_package
    assert view["package"]["origin_type"] == "manual" and f"{base}/pipeline-review" in view["package"]["origin_note"]
    assert hits["/pipeline-review"] == 1  # fetched once, by the agent
    [written] = rounds(client, tenant_a, package_id=view["package"]["id"])
    assert written["status"] == "written" and written["source_doc_id"] and written["round"] == "write"
    assert written["candidates"] == 4 and written["attempts"] >= 4 and written["reason"] is None
    # the page as stored: what every figure and quotation of a passing variant must come from
    session = client.get(f"/v1/brands/{tenant_a.brand['id']}/generation-sessions/{written['id']}",
                         headers=tenant_a.headers).json()  # fmt: skip
    assert {a["content_variant_id"] for a in session["attempt_log"]} == {v["variant"]["id"] for v in view["variants"]}
    thesis = view["core_argument"]["thesis"]
    assert "attribution deck" in thesis and not thesis.startswith("The pipeline review that")  # the claim, not the headline
    page = References([ARTICLE.decode()])
    passed = [v["variant"]["body"] for v in view["variants"] if v["variant"]["status"] == "draft"]
    assert len(passed) >= 3
    for body in passed:
        untraced = [c for c in check_grounding(body, page).untraced if c.kind in ("figure", "quote")]
        assert untraced == [], body
    assert any(c.kind == "figure" for body in passed for c in check_grounding(body, page).checked)


@pytest.mark.parametrize(("path", "reason"), [("/missing", "http_status"), ("/chart.png", "not_html"),
                                              ("/home", "no_main_text"), ("/huge", "too_large")])  # fmt: skip
def test_a_page_that_cannot_be_read_is_a_422_and_leaves_nothing(client, tenant_a, site, page_package, path, reason):
    base, _ = site
    brand = f"/v1/brands/{tenant_a.brand['id']}"
    packages = client.get(f"{brand}/packages", headers=tenant_a.headers, params={"limit": 200}).json()["items"]
    before = (len(packages), len(rounds(client, tenant_a, limit=200)))
    refused = client.post(f"{brand}/packages", headers=tenant_a.headers, json={
        "source": {"kind": "url", "url": f"{base}{path}"}, "channels": {"linkedin": {}}})  # fmt: skip
    details = assert_error(refused, 422, "invalid")["details"]
    assert details["field"] == "body.source.url" and details["reason"] == reason
    packages = client.get(f"{brand}/packages", headers=tenant_a.headers, params={"limit": 200}).json()["items"]
    assert (len(packages), len(rounds(client, tenant_a, limit=200))) == before


async def test_the_rounds_list_filters_and_shows_why_a_round_failed(client, tenant_a, tenant_b, page_package, api_db):
    from uuid import UUID

    brand = f"/v1/brands/{tenant_a.brand['id']}"
    failed = store.GenerationSessionRow(brand_id=UUID(tenant_a.brand["id"]), status="failed", generator="openai",
                                        seed=4, reason="generator openai: timeout")  # fmt: skip

    async with api_db.transaction() as conn:  # a failed first round, as a generator that timed out leaves it
        await store.save_failure(conn, failed)
    listed = rounds(client, tenant_a, status="failed")
    assert [r["id"] for r in listed] == [str(failed.id)]
    assert listed[0]["reason"] == "generator openai: timeout" and listed[0]["generator"] == "openai"
    assert listed[0]["content_package_id"] is None and listed[0]["attempts"] == 0
    assert all(r["status"] == "written" for r in rounds(client, tenant_a, status="written"))
    newest_first = rounds(client, tenant_a)
    assert [r["created_at"] for r in newest_first] == sorted((r["created_at"] for r in newest_first), reverse=True)
    one = client.get(f"{brand}/generation-sessions", headers=tenant_a.headers, params={"limit": 1})
    assert len(one.json()["items"]) == 1 and one.json()["next_cursor"]
    detail = client.get(f"{brand}/generation-sessions/{failed.id}", headers=tenant_a.headers).json()
    assert detail["attempt_log"] == [] and detail["reason"] == failed.reason
    # unknown ids and another tenant's rounds are 404s
    assert_error(client.get(f"{brand}/generation-sessions/{uuid4()}", headers=tenant_a.headers), 404, "not_found")
    assert_error(client.get(f"{brand}/generation-sessions", headers=tenant_a.headers,
                            params={"package_id": str(uuid4())}), 404, "not_found")  # fmt: skip
    other = f"/v1/brands/{tenant_b.brand['id']}/generation-sessions/{failed.id}"
    assert_error(client.get(other, headers=tenant_b.headers), 404, "not_found")
