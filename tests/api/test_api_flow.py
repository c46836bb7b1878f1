"""The main paths through the HTTP API, end to end through the Serve proxy."""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import pytest

from api_support import assert_error, bearer, brand_body

pytestmark = pytest.mark.cluster


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


def test_onboarding_creates_the_brand_its_strategy_and_its_agent_schedule(client, tenant_a):
    created = tenant_a.onboarded
    brand = created["brand"]
    assert brand["role"] == "admin" and brand["owner_user_ids"] == [tenant_a.admin["id"]]
    assert created["snapshot"]["version"] == 1
    assert created["runtime_context"]["version"] == 1
    assert created["runtime_context"]["brand_brain_snapshot_id"] == created["snapshot"]["id"]
    assert sorted(created["runtime_context"]["channel_overrides"]) == ["linkedin", "x"]
    agent = created["agent"]
    wake_in = parse(agent["next_wake_at"]) - parse(brand["created_at"])
    assert agent["cadence_seconds"] == 3600 and timedelta(minutes=59) < wake_in < timedelta(minutes=61)

    listed = client.get("/v1/brands", headers=tenant_a.headers).json()["items"]
    assert [b["id"] for b in listed] == [brand["id"]]
    assert client.get(f"/v1/brands/{brand['id']}", headers=tenant_a.headers).json()["slug"] == brand["slug"]
    members = client.get(f"/v1/brands/{brand['id']}/members", headers=tenant_a.headers).json()["items"]
    assert [(m["user_id"], m["role"]) for m in members] == [(tenant_a.admin["id"], "admin")]
    events = client.get(f"/v1/brands/{brand['id']}/events", headers=tenant_a.headers).json()["items"]
    assert "brand_created" in [e["event_type"] for e in events]


def test_snapshot_runtime_context_and_memory(client, tenant_a):
    brand_id = tenant_a.brand["id"]
    h = tenant_a.headers

    # A new strategy snapshot goes through the agent: version 2, the context re-pointed at it.
    response = client.post(f"/v1/brands/{brand_id}/snapshots", headers=h,
                           json={"expected_version": 1, "positioning": "Attribution your board believes.",
                                 "offers": ["Pipeline dashboards"]})  # fmt: skip
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["snapshot"]["version"] == 2
    assert created["snapshot"]["offers"] == ["Pipeline dashboards"]
    assert created["snapshot"]["persona_ids"] == [p["id"] for p in tenant_a.onboarded["personas"]]  # carried over
    assert created["runtime_context"]["brand_brain_snapshot_id"] == created["snapshot"]["id"]
    assert [s["version"] for s in client.get(f"/v1/brands/{brand_id}/snapshots", headers=h).json()["items"]] == [2, 1]
    assert client.get(f"/v1/brands/{brand_id}/snapshots/2", headers=h).json()["id"] == created["snapshot"]["id"]
    stale = client.post(f"/v1/brands/{brand_id}/snapshots", headers=h, json={"expected_version": 1})
    assert assert_error(stale, 409, "conflict")["details"] == {"field": "expected_version", "expected_version": 1, "current_version": 2}

    # The runtime context, read from PostgreSQL, then patched at its version; a stale patch is 409.
    context = client.get(f"/v1/brands/{brand_id}/runtime-context", headers=h).json()
    assert context == created["runtime_context"]
    patch = {"expected_version": context["version"],
             "channel_overrides": {"x": {"risk_mode": "spicy", "tone_bias": {"story_vs_tactical": 0.9}}}}
    response = client.patch(f"/v1/brands/{brand_id}/runtime-context", headers=h, json=patch)
    assert response.status_code == 200, response.text
    patched = response.json()
    assert patched["version"] == context["version"] + 1
    assert patched["channel_overrides"]["x"]["risk_mode"] == "spicy"
    assert patched["channel_overrides"]["x"]["tone_bias"]["story_vs_tactical"] == 0.9
    assert client.get(f"/v1/brands/{brand_id}/runtime-context", headers=h).json() == patched
    stale = client.patch(f"/v1/brands/{brand_id}/runtime-context", headers=h, json=patch)
    assert assert_error(stale, 409, "conflict")["details"]["current_version"] == patched["version"]

    # Memory: remember fragments (MiniLM + Chroma in the replica), then search them by meaning.
    texts = [
        "Boards ignore dashboards that do not tie marketing to qualified pipeline.",
        "Our office dog is called Pixel and loves the espresso machine.",
        "Attribution is about knowing which lever to pull next quarter.",
    ]
    fragments = []
    for text in texts:
        response = client.post(f"/v1/brands/{brand_id}/memory", headers=h, json={"raw_text": text, "tags": ["test"]})
        assert response.status_code == 201, response.text
        fragments.append(response.json())
    assert fragments[0]["embedding_dim"] == 384 and fragments[0]["source_type"] == "manual"
    hits = client.get(f"/v1/brands/{brand_id}/memory/search", headers=h,
                      params={"q": "Why does the board not trust our marketing reports?", "k": 2}).json()  # fmt: skip
    assert len(hits) == 2
    assert hits[0]["fragment"]["id"] == fragments[0]["id"]
    assert hits[0]["similarity"] >= hits[1]["similarity"]
    assert fragments[1]["id"] not in [hit["fragment"]["id"] for hit in hits]
    listed = client.get(f"/v1/brands/{brand_id}/memory", headers=h, params={"limit": 2}).json()["items"]
    assert [f["id"] for f in listed] == [fragments[2]["id"], fragments[1]["id"]]  # newest first
    kinds = [e["event_type"] for e in client.get(f"/v1/brands/{brand_id}/events", headers=h).json()["items"]]
    assert {"snapshot_created", "runtime_context_updated", "memory_added"} <= set(kinds)


def test_agent_status_schedule_and_runs(client, tenant_a):
    brand_id = tenant_a.brand["id"]
    h = tenant_a.headers
    view = client.get(f"/v1/brands/{brand_id}/agent", headers=h).json()
    assert view["status"]["state"] == "idle" and view["host"]
    version = view["status"]["version"]
    response = client.patch(f"/v1/brands/{brand_id}/agent", headers=h,
                            json={"expected_version": version, "cadence_seconds": 600, "paused": True})  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.json()["status"]["cadence_seconds"] == 600 and response.json()["status"]["paused"] is True
    stale = client.patch(f"/v1/brands/{brand_id}/agent", headers=h, json={"expected_version": version, "paused": False})
    assert_error(stale, 409, "conflict")

    response = client.post(f"/v1/brands/{brand_id}/runs", headers=h)
    assert response.status_code == 201, response.text
    run = response.json()["run"]
    assert run["trigger_type"] == "manual" and run["result"] == "success"
    assert client.get(f"/v1/brands/{brand_id}/runs/{run['id']}", headers=h).json() == run
    assert client.get(f"/v1/brands/{brand_id}/runs", headers=h).json()["items"][0]["id"] == run["id"]
    events = client.get(f"/v1/brands/{brand_id}/events", headers=h, params={"limit": 200}).json()["items"]
    stamps = [e["created_at"] for e in events]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    assert len(client.get(f"/v1/brands/{brand_id}/events", headers=h, params={"limit": 2}).json()["items"]) == 2


def test_personas_and_pillars(client, tenant_a):
    base = f"/v1/brands/{tenant_a.brand['id']}"
    h = tenant_a.headers
    persona = client.post(f"{base}/personas", headers=h, json={
        "name": "RevOps lead", "description": "Owns the funnel data.", "pain_points": ["Dirty CRM"], "goals": ["Trust"],
    })  # fmt: skip
    assert persona.status_code == 201, persona.text
    persona = persona.json()
    assert persona["id"] in [p["id"] for p in client.get(f"{base}/personas", headers=h).json()["items"]]
    patched = client.patch(f"{base}/personas/{persona['id']}", headers=h, json={"goals": ["Trust", "Speed"]})
    assert patched.status_code == 200, patched.text
    assert patched.json()["goals"] == ["Trust", "Speed"] and patched.json()["name"] == "RevOps lead"
    assert client.get(f"{base}/personas/{persona['id']}", headers=h).json() == patched.json()

    pillar = client.post(f"{base}/pillars", headers=h, json={"name": "Data hygiene", "description": "Clean inputs.",
                                                              "priority": 9})  # fmt: skip
    assert pillar.status_code == 201, pillar.text
    pillar = pillar.json()
    assert client.get(f"{base}/pillars", headers=h).json()["items"][0]["id"] == pillar["id"]  # highest priority first
    patched = client.patch(f"{base}/pillars/{pillar['id']}", headers=h, json={"status": "hidden"})
    assert patched.json()["status"] == "hidden"
    assert client.get(f"{base}/pillars/{pillar['id']}", headers=h).json()["status"] == "hidden"


async def test_users_keys_and_me(client, tenant_a, api_db):
    h = tenant_a.headers
    me = client.get("/v1/me", headers=h).json()
    assert me["user"]["id"] == tenant_a.admin["id"] and me["org"]["id"] == tenant_a.org["id"]
    assert "secret_hash" not in me["api_key"] and me["memberships"][0]["role"] == "admin"
    assert client.get(f"/v1/orgs/{tenant_a.org['id']}", headers=h).json()["slug"] == tenant_a.org["slug"]

    user, user_headers = tenant_a.user("strategist")
    assert client.get(f"/v1/users/{user['id']}", headers=h).json() == user
    assert user["id"] in [u["id"] for u in client.get("/v1/users", headers=h).json()["items"]]
    assert client.get("/v1/me", headers=user_headers).json()["user"]["id"] == user["id"]

    # A user mints a key of their own; sees only their keys; an org admin sees everyone's.
    minted = client.post(f"/v1/users/{user['id']}/api-keys", headers=user_headers, json={"name": "laptop"})
    assert minted.status_code == 201, minted.text
    own_token = minted.json()["token"]
    assert own_token.startswith("kairo_") and "secret_hash" not in minted.json()["api_key"]
    mine = client.get("/v1/api-keys", headers=user_headers).json()["items"]
    assert {k["user_id"] for k in mine} == {user["id"]} and len(mine) == 2
    everyone = client.get("/v1/api-keys", headers=h).json()["items"]
    assert {tenant_a.admin["id"], user["id"]} <= {k["user_id"] for k in everyone}

    # last_used_at is recorded on use.
    assert client.get("/v1/me", headers=bearer(own_token)).status_code == 200
    async with api_db.connection() as conn:
        used = await conn.fetchval("SELECT last_used_at FROM api_keys WHERE id = $1",
                                   UUID(minted.json()["api_key"]["id"]))
    assert used is not None

    revoked = client.delete(f"/v1/api-keys/{minted.json()['api_key']['id']}", headers=bearer(own_token))
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert_error(client.get("/v1/me", headers=bearer(own_token)), 401, "unauthenticated")
    assert client.get("/v1/me", headers=user_headers).status_code == 200  # the other key still works


def test_members_and_roles(client, tenant_a):
    brand_id = tenant_a.brand["id"]
    manager, manager_headers = tenant_a.user("manager", brand_role="manager")
    creator, _ = tenant_a.user("creator")
    members = client.get(f"/v1/brands/{brand_id}/members", headers=manager_headers).json()["items"]
    assert (manager["id"], "manager") in [(m["user_id"], m["role"]) for m in members]
    granted = client.post(f"/v1/brands/{brand_id}/members", headers=manager_headers,
                          json={"user_id": creator["id"], "role": "strategist"})  # fmt: skip
    assert granted.status_code == 201, granted.text
    above = client.post(f"/v1/brands/{brand_id}/members", headers=manager_headers,
                        json={"user_id": tenant_a.user("creator")[0]["id"], "role": "admin"})  # fmt: skip
    assert assert_error(above, 403, "forbidden")["details"] == {"role": "manager", "granted_role": "admin"}
    # A manager of the org may onboard a brand, and becomes its admin.
    created = client.post("/v1/brands", headers=manager_headers, json=brand_body())
    assert created.status_code == 201, created.text
    assert created.json()["brand"]["owner_user_ids"] == [manager["id"]] and created.json()["brand"]["role"] == "admin"
