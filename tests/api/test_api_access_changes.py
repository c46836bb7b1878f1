"""Changing who may do what: a user's role and status, an org's name and status, a brand
membership removed, an API key revoked — through the real Serve proxy, with their audit lines."""

from __future__ import annotations

import asyncio
from uuid import UUID

import httpx
import pytest

from api_support import Tenant, assert_error, bearer, brand_body

pytestmark = pytest.mark.cluster


@pytest.fixture
def tenant(client, operator_token) -> Tenant:
    tenant = Tenant(client, operator_token)
    tenant.onboard()
    return tenant


async def audit(api_db, event_type: str, subject_id: str) -> list[dict]:
    async with api_db.connection() as conn:
        rows = await conn.fetch(
            "SELECT * FROM event_log WHERE event_type = $1 AND subject_id = $2 ORDER BY created_at",
            event_type, subject_id,
        )  # fmt: skip
    return [dict(r) for r in rows]


async def test_a_deactivated_users_keys_stop_working_and_come_back_on_reactivation(client, tenant, api_db):
    user, headers = tenant.user("strategist")
    assert client.get("/v1/me", headers=headers).status_code == 200

    response = client.patch(f"/v1/users/{user['id']}", headers=tenant.headers, json={"status": "inactive"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "inactive"
    assert "inactive" in assert_error(client.get("/v1/me", headers=headers), 401, "unauthenticated")["message"]

    assert client.patch(f"/v1/users/{user['id']}", headers=tenant.headers, json={"status": "active"}).status_code == 200
    assert client.get("/v1/me", headers=headers).status_code == 200
    events = await audit(api_db, "user_updated", user["id"])
    assert [e["meta"]["status"] for e in events] == [
        {"from": "active", "to": "inactive"}, {"from": "inactive", "to": "active"}
    ]
    assert {e["user_id"] for e in events} == {UUID(tenant.admin["id"])}


def test_an_org_role_change_takes_effect_at_once(client, tenant):
    user, headers = tenant.user("creator")
    assert_error(client.post("/v1/brands", headers=headers, json=brand_body()), 403, "forbidden")  # needs manager
    response = client.patch(f"/v1/users/{user['id']}", headers=tenant.headers, json={"role": "manager"})
    assert response.status_code == 200, response.text
    assert client.get("/v1/me", headers=headers).json()["user"]["role"] == "manager"
    assert client.post("/v1/brands", headers=headers, json=brand_body()).status_code == 201


def test_changing_users_needs_an_org_admin_and_a_valid_body(client, tenant):
    user, headers = tenant.user("manager")
    assert_error(client.patch(f"/v1/users/{tenant.admin['id']}", headers=headers, json={"role": "creator"}),
                 403, "forbidden")  # fmt: skip
    error = assert_error(client.patch(f"/v1/users/{user['id']}", headers=tenant.headers, json={"role": "owner"}),
                         422, "invalid")  # fmt: skip
    assert "role" in str(error["details"])
    assert_error(client.patch(f"/v1/users/{user['id']}", headers=tenant.headers, json={"status": None}), 422)
    assert_error(client.patch(f"/v1/users/{user['id']}", headers=tenant.headers, json={"email": "x@y.io"}), 422)
    missing = "00000000-0000-4000-8000-000000000000"
    assert_error(client.patch(f"/v1/users/{missing}", headers=tenant.headers, json={"role": "creator"}), 404)


def test_the_last_active_admin_cannot_step_down(client, tenant):
    me = tenant.admin["id"]
    for change in ({"role": "manager"}, {"status": "inactive"}):
        error = assert_error(client.patch(f"/v1/users/{me}", headers=tenant.headers, json=change), 409, "conflict")
        assert "without an active admin" in error["message"]
    second, second_headers = tenant.user("admin")
    assert client.patch(f"/v1/users/{me}", headers=tenant.headers, json={"role": "manager"}).status_code == 200
    # Now the second admin is the last one.
    assert_error(client.patch(f"/v1/users/{second['id']}", headers=second_headers, json={"role": "creator"}), 409)


def test_two_admins_demoting_each_other_at_once_leave_one_admin(client, tenant):
    second, second_headers = tenant.user("admin")
    first = tenant.admin["id"]

    async def both() -> list[int]:
        async with httpx.AsyncClient(base_url=str(client.base_url), timeout=60) as http:
            responses = await asyncio.gather(
                http.patch(f"/v1/users/{second['id']}", headers=tenant.headers, json={"role": "manager"}),
                http.patch(f"/v1/users/{first}", headers=second_headers, json={"role": "manager"}),
            )
        return sorted(r.status_code for r in responses)

    # Whichever commits first wins; the other is refused — 409 when both passed the admin check
    # before either committed, 403 when the loser was already demoted by then.
    first_status, second_status = asyncio.run(both())
    assert first_status == 200 and second_status in (403, 409)
    users = client.get("/v1/users", headers=tenant.headers).json()["items"]
    admins = {u["id"] for u in users if u["role"] == "admin" and u["status"] == "active"}
    assert len(admins) == 1


async def test_an_operator_suspends_and_reactivates_an_org(client, tenant, operator_token, api_db):
    org = f"/v1/orgs/{tenant.org['id']}"
    operator = bearer(operator_token)
    response = client.patch(org, headers=operator, json={"status": "suspended"})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "suspended"
    assert "suspended" in assert_error(client.get("/v1/me", headers=tenant.headers), 401)["message"]
    assert client.patch(org, headers=operator, json={"status": "active"}).status_code == 200
    assert client.get(f"/v1/brands/{tenant.brand['id']}", headers=tenant.headers).status_code == 200
    events = await audit(api_db, "org_updated", tenant.org["id"])
    assert [e["meta"]["status"]["to"] for e in events] == ["suspended", "active"]


def test_org_admins_rename_their_org_but_never_change_its_status(client, tenant):
    org = f"/v1/orgs/{tenant.org['id']}"
    response = client.patch(org, headers=tenant.headers, json={"name": "Renamed Agency"})
    assert response.status_code == 200, response.text
    assert client.get(org, headers=tenant.headers).json()["name"] == "Renamed Agency"
    assert_error(client.patch(org, headers=tenant.headers, json={"status": "suspended"}), 403, "forbidden")
    _, manager = tenant.user("manager")
    assert_error(client.patch(org, headers=manager, json={"name": "Mine now"}), 403, "forbidden")
    assert client.get(org, headers=tenant.headers).json()["status"] == "active"


def test_the_operator_org_is_never_suspended(client, operator_token):
    operator = bearer(operator_token)
    own = client.get("/v1/me", headers=operator).json()["org"]["id"]
    assert_error(client.patch(f"/v1/orgs/{own}", headers=operator, json={"status": "suspended"}), 409, "conflict")
    assert client.get("/v1/me", headers=operator).status_code == 200


async def test_removing_a_membership_takes_the_brand_away(client, tenant, api_db):
    brand = f"/v1/brands/{tenant.brand['id']}"
    creator, creator_headers = tenant.user("creator", brand_role="creator")
    manager, manager_headers = tenant.user("creator", brand_role="manager")
    assert client.get(brand, headers=creator_headers).status_code == 200

    response = client.delete(f"{brand}/members/{creator['id']}", headers=manager_headers)
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "creator"
    assert_error(client.get(brand, headers=creator_headers), 404, "not_found")
    assert_error(client.delete(f"{brand}/members/{creator['id']}", headers=manager_headers), 404, "not_found")
    members = {m["user_id"] for m in client.get(f"{brand}/members", headers=tenant.headers).json()["items"]}
    assert creator["id"] not in members and manager["id"] in members
    events = await audit(api_db, "membership_removed", response.json()["id"])
    assert len(events) == 1 and events[0]["meta"] == {"user_id": creator["id"], "role": "creator"}


def test_a_manager_cannot_remove_a_higher_role_and_a_creator_removes_nobody(client, tenant):
    brand = f"/v1/brands/{tenant.brand['id']}"
    admin_member, _ = tenant.user("creator", brand_role="admin")
    _, manager_headers = tenant.user("creator", brand_role="manager")
    peer, creator_headers = tenant.user("creator", brand_role="creator")
    assert_error(client.delete(f"{brand}/members/{admin_member['id']}", headers=manager_headers), 403, "forbidden")
    assert_error(client.delete(f"{brand}/members/{peer['id']}", headers=creator_headers), 403, "forbidden")
    members = {m["user_id"] for m in client.get(f"{brand}/members", headers=tenant.headers).json()["items"]}
    assert {admin_member["id"], peer["id"]} <= members


async def test_revoking_a_key_is_audited_once(client, tenant, api_db):
    user, headers = tenant.user("creator")
    key_id = client.get("/v1/me", headers=headers).json()["api_key"]["id"]
    for _ in range(2):
        assert client.delete(f"/v1/api-keys/{key_id}", headers=tenant.headers).status_code == 200
    assert_error(client.get("/v1/me", headers=headers), 401)
    events = await audit(api_db, "api_key_revoked", key_id)
    assert len(events) == 1 and events[0]["meta"] == {"owner_user_id": user["id"]}
