"""Tenant isolation: walk every endpoint of the app's route table with another tenant's key
against tenant A's ids, and expect 404 (never 403, never 200) and nothing changed.

The routes come from the app itself, so a new endpoint cannot be forgotten: one with ids is
walked automatically (a write needs a sample body below), one without ids must be classified.
"""

from __future__ import annotations

import pytest
from fastapi.routing import iter_route_contexts

from runtime.api.app import create_app
from runtime.settings import Settings

from api_support import (
    assert_error, brand_body, checked_report, generation_session, mined_template, scheduled_job, scouted_card, subscribed_feed, written_package,
)  # fmt: skip

pytestmark = pytest.mark.cluster

BRAND = "/v1/brands/{brand_id}"
PERSONA = {"name": "Hijack", "description": "Not yours.", "pain_points": ["x"], "goals": ["y"]}
PILLAR = {"name": "Hijack", "description": "Not yours."}
# A valid body for every write that names ids, so a 404 cannot come from a malformed request.
BODIES = {
    ("POST", "/v1/users/{user_id}/api-keys"): {"name": "stolen"},
    ("PATCH", "/v1/users/{user_id}"): {"status": "inactive"},
    ("PATCH", "/v1/orgs/{org_id}"): {"name": "Hijacked"},
    ("POST", f"{BRAND}/members"): {"user_id": "<b-user>", "role": "creator"},
    ("POST", f"{BRAND}/personas"): PERSONA,
    ("PATCH", f"{BRAND}/personas/{{persona_id}}"): {"name": "Hijacked"},
    ("POST", f"{BRAND}/pillars"): PILLAR,
    ("PATCH", f"{BRAND}/pillars/{{pillar_id}}"): {"name": "Hijacked"},
    ("POST", f"{BRAND}/snapshots"): {"expected_version": 1, "positioning": "Hijacked."},
    ("PATCH", f"{BRAND}/runtime-context"): {"expected_version": 1, "remove_channels": ["x"]},
    ("POST", f"{BRAND}/memory"): {"raw_text": "stolen"},
    ("POST", f"{BRAND}/memory:batch"): {"fragments": [{"raw_text": "stolen"}]},
    ("PATCH", f"{BRAND}/agent"): {"expected_version": 1, "paused": True},
    ("POST", f"{BRAND}/runs"): None,
    ("POST", f"{BRAND}/patterns/posts"): {"format": "jsonl", "content": '{"raw_text": "Stolen.", "channel": "x"}'},
    ("POST", f"{BRAND}/patterns/runs"): None,
    ("POST", f"{BRAND}/gates/check"): {"channel": "x", "text": "Stolen draft."},
    ("PUT", f"{BRAND}/gates/rubric"): {"hook": {"threshold": 99}},
    ("POST", f"{BRAND}/sources"): {"items": [{"text": "A stolen article about attribution."}]},
    ("POST", f"{BRAND}/scout"): None,
    ("POST", f"{BRAND}/feeds"): {"url": "https://feeds.example/stolen.rss"},
    ("POST", f"{BRAND}/opportunities/{{card_id}}/actions"): {"action": "dismiss"},
    ("POST", f"{BRAND}/calibrations"): {"format": "paste", "content": "Stolen voice one.\n\nStolen voice two."},
    ("POST", f"{BRAND}/channels"): {"adapter": "outbox", "channel": "bluesky"},
    ("POST", f"{BRAND}/channels/{{channel_config_id}}/disconnect"): None,
    ("POST", f"{BRAND}/publishing-jobs"): {"content_variant_id": "00000000-0000-4000-8000-000000000001", "in_seconds": 3600},
    ("POST", f"{BRAND}/publishing-jobs/{{job_id}}/reschedule"): {"in_seconds": 7200},
    ("POST", f"{BRAND}/publishing-jobs/{{job_id}}/cancel"): None,
    ("POST", f"{BRAND}/packages"): {"source": {"kind": "card", "card_id": "00000000-0000-4000-8000-000000000001"},
                                    "channels": {"x": {}}},
    ("PATCH", f"{BRAND}/packages/{{package_id}}/variants/{{variant_id}}"): {"expected_version": 1, "text": "Stolen edit."},
    ("POST", f"{BRAND}/packages/{{package_id}}/variants/{{variant_id}}/review"): {"action": "approve", "expected_version": 1},
    ("POST", f"{BRAND}/packages/{{package_id}}/regeneration"): {
        "what": {"target": "plan", "plan_id": "00000000-0000-4000-8000-000000000001"}, "expected_version": 1},
    ("POST", f"{BRAND}/packages/{{package_id}}/kill"): {"expected_version": 1, "reason": "Stolen."},
}
QUERIES = {("GET", f"{BRAND}/memory/search"): {"q": "anything", "k": 1}}
# Routes without ids: lists are checked for leaks below, the rest hold nothing of a tenant.
UNSCOPED = {
    ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/healthz"),
    ("GET", "/metrics"), ("GET", "/v1/me"), ("POST", "/v1/orgs"), ("POST", "/v1/users"), ("GET", "/v1/users"),
    ("GET", "/v1/api-keys"), ("POST", "/v1/brands"), ("GET", "/v1/brands"),
    ("POST", "/v1/patterns/posts"), ("POST", "/v1/patterns/runs"),  # the operator's: 403 for tenants
}  # fmt: skip


def route_table() -> list[tuple[str, str]]:
    """(method, path template) of every route the app serves."""
    app = create_app(None, None, None, Settings())  # factories are only called by requests
    routes = []
    for context in iter_route_contexts(app.routes):
        for method in sorted((getattr(context.original_route, "methods", None) or set()) - {"HEAD"}):
            routes.append((method, context.path))
    return routes


ROUTES = route_table()
ID_ROUTES = [r for r in ROUTES if "{" in r[1]]


def test_the_route_table_is_fully_classified():
    assert len(ID_ROUTES) >= 25
    assert {r for r in ROUTES if "{" not in r[1]} == UNSCOPED, "classify the new route (UNSCOPED or ids)"
    writes = {r for r in ID_ROUTES if r[0] in ("POST", "PATCH", "PUT")}
    assert writes == set(BODIES), "give every write with ids a valid sample body in BODIES"


@pytest.fixture(scope="module")
async def a_ids(client, tenant_a, api_db) -> dict[str, str]:
    run = client.post(f"/v1/brands/{tenant_a.brand['id']}/runs", headers=tenant_a.headers)
    assert run.status_code == 201, run.text
    return {
        "template_id": mined_template(client, tenant_a),
        "card_id": scouted_card(client, tenant_a),
        "report_id": checked_report(client, tenant_a),
        "feed_id": subscribed_feed(client, tenant_a),
        **await scheduled_job(client, tenant_a, api_db),
        **{k: v for k, v in written_package(client, tenant_a).items() if k in ("package_id", "variant_id")},
        "session_id": generation_session(client, tenant_a),
        "brand_id": tenant_a.brand["id"],
        "persona_id": tenant_a.onboarded["personas"][0]["id"],
        "pillar_id": tenant_a.onboarded["pillars"][0]["id"],
        "version": "1",
        "run_id": run.json()["run"]["id"],
        "org_id": tenant_a.org["id"],
        "user_id": tenant_a.admin["id"],
        "key_id": tenant_a.admin_key["id"],
    }


def state_of(client, tenant) -> dict:
    """Everything the walk could have changed in tenant A."""
    base = f"/v1/brands/{tenant.brand['id']}"
    h = tenant.headers
    state = {path: client.get(path, headers=h).json() for path in (
        base, f"{base}/members", f"{base}/personas", f"{base}/pillars", f"{base}/snapshots",
        f"{base}/runtime-context", f"{base}/memory", f"{base}/runs", "/v1/api-keys", "/v1/users",
        f"/v1/orgs/{tenant.org['id']}", f"{base}/channels", f"{base}/publishing-jobs", f"{base}/feeds", f"{base}/packages",
        f"{base}/quality-reports",
    )}  # fmt: skip
    for key in state["/v1/api-keys"]["items"]:
        key.pop("last_used_at")  # the walking key's own use is recorded, and that is fine
    return state


def walk(client, routes, ids, headers, body_user_id) -> list[tuple[str, str, int]]:
    """Call each route with ``headers``; the (method, path, status) of every non-404."""
    leaks = []
    for method, template in routes:
        body = BODIES.get((method, template))
        if body and body.get("user_id") == "<b-user>":
            body = {**body, "user_id": body_user_id}
        response = client.request(method, template.format(**ids), headers=headers, json=body,
                                  params=QUERIES.get((method, template)))  # fmt: skip
        if response.status_code != 404:
            leaks.append((method, template, response.status_code))
        else:
            error = assert_error(response, 404, "not_found")
            assert tenant_values_absent(error, ids, template)
    return leaks


def tenant_values_absent(error: dict, ids: dict, template: str) -> bool:
    # A 404 names at most the id the caller sent itself, nothing else of tenant A.
    text = str(error)
    sent = {v for k, v in ids.items() if f"{{{k}}}" in template}
    return all(value not in text for key, value in ids.items() if value not in sent and key != "version")


def test_another_tenants_admin_gets_404_on_every_endpoint(client, tenant_a, tenant_b, a_ids):
    assert client.get(f"/v1/brands/{tenant_b.brand['id']}", headers=tenant_b.headers).status_code == 200
    before = state_of(client, tenant_a)
    leaks = walk(client, ID_ROUTES, a_ids, tenant_b.headers, tenant_b.admin["id"])
    assert leaks == []
    assert state_of(client, tenant_a) == before


def test_a_same_org_user_without_membership_gets_404_on_every_brand_endpoint(client, tenant_a, a_ids):
    outsider, headers = tenant_a.user("manager")  # a manager of the org, but not on this brand
    before = state_of(client, tenant_a)
    brand_routes = [r for r in ID_ROUTES if r[1].startswith(BRAND)]
    assert len(brand_routes) >= 20
    assert walk(client, brand_routes, a_ids, headers, outsider["id"]) == []
    assert state_of(client, tenant_a) == before


def test_lists_show_nothing_of_another_tenant(client, tenant_a, tenant_b, a_ids):
    h = tenant_b.headers
    assert [b["id"] for b in client.get("/v1/brands", headers=h).json()["items"]] == [tenant_b.brand["id"]]
    assert {u["org_id"] for u in client.get("/v1/users", headers=h).json()["items"]} == {tenant_b.org["id"]}
    b_users = {u["id"] for u in client.get("/v1/users", headers=h).json()["items"]}
    assert {k["user_id"] for k in client.get("/v1/api-keys", headers=h).json()["items"]} <= b_users
    me = client.get("/v1/me", headers=h).json()
    assert me["org"]["id"] == tenant_b.org["id"]
    assert {m["brand_id"] for m in me["memberships"]} == {tenant_b.brand["id"]}
    # Not an operator: creating tenants is refused outright.
    assert_error(client.post("/v1/orgs", headers=h, json={"name": "X", "slug": "x-org", "admin_email": "a@x.io"}),
                 403, "forbidden")  # fmt: skip


def test_the_same_slug_in_two_tenants_is_no_conflict(client, tenant_a, tenant_b):
    response = client.post("/v1/brands", headers=tenant_b.headers,
                           json=brand_body(slug=tenant_a.brand["slug"]))
    assert response.status_code == 201, response.text
