"""Bad input, unknown ids, conflicts, missing keys and low roles: the right status, always in
the one error envelope, through the Serve proxy."""

from __future__ import annotations

import uuid

import pytest

from api_support import assert_error, bearer, brand_body

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def brand_url(tenant_a) -> str:
    return f"/v1/brands/{tenant_a.brand['id']}"


# -- 401 --------------------------------------------------------------------------------------


def test_401_without_or_with_a_bad_key(client, tenant_a):
    lookup = tenant_a.token.split("_")[1]
    for headers in (
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        bearer("not-a-kairo-key"),
        bearer(f"kairo_{lookup}_wrong-secret"),  # a real key's lookup with a wrong secret
        bearer(f"kairo_{'0' * 12}_whatever"),  # no such key
        bearer(tenant_a.token + "x"),
    ):
        response = client.get("/v1/me", headers=headers)
        assert_error(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"] == "Bearer"
    # Authentication comes before anything else: no 404 or 422 leaks to an anonymous caller.
    assert_error(client.get(f"/v1/brands/{uuid.uuid4()}"), 401)
    assert_error(client.post("/v1/brands", json={"slug": "Not A Slug"}), 401)
    assert_error(client.get("/v1/brands/not-a-uuid"), 401)


def test_401_for_a_revoked_key(client, tenant_a):
    _, headers = tenant_a.user("creator")
    key_id = client.get("/v1/me", headers=headers).json()["api_key"]["id"]
    assert client.delete(f"/v1/api-keys/{key_id}", headers=tenant_a.headers).status_code == 200
    assert assert_error(client.get("/v1/me", headers=headers), 401)["message"] == "API key revoked"


# -- 422 --------------------------------------------------------------------------------------


def invalid_field(response) -> str:
    return assert_error(response, 422, "invalid")["details"]["field"]


NO_PAINS = brand_body()
NO_PAINS["personas"][0]["pain_points"] = []
PERSONA = {"name": "P", "description": "D.", "goals": ["g"]}
# (method, path under the brand or absolute, request arguments, the field the 422 must name)
INVALID = [
    ("POST", "/v1/brands", {"json": brand_body(slug="Not A Slug")}, "body.slug"),
    ("POST", "/v1/brands", {"json": NO_PAINS}, "body.personas.0.pain_points"),
    ("POST", "/personas", {"json": PERSONA}, "body.pain_points"),
    ("POST", "/personas", {"json": {**PERSONA, "pain_points": []}}, "body.pain_points"),
    ("GET", "/memory/search", {"params": {"q": "x", "k": 0}}, "query.k"),
    ("GET", "/memory/search", {}, "query.q"),
    ("GET", "/memory/search", {"params": {"q": "   "}}, "query.q"),
    ("GET", "/events", {"params": {"limit": 201}}, "query.limit"),
    ("GET", "/v1/brands/not-a-uuid", {}, "path.brand_id"),
    ("GET", "/snapshots/0", {}, "path.version"),
    ("POST", "/snapshots", {"json": {}}, "body.expected_version"),
    ("PATCH", "/agent", {"json": {"expected_version": 1, "cadence_seconds": 5}}, "body.cadence_seconds"),
    ("POST", "/memory", {"json": {"raw_text": "x" * 501}}, "body.raw_text"),
    ("POST", "/pillars", {"json": {"name": "P", "description": "D.", "colour": "red"}}, "body.colour"),
    ("PATCH", "/personas/{persona_id}", {"json": {"name": None}}, "body.name"),
    ("PATCH", "/runtime-context", {"json": {"expected_version": 1, "channel_overrides": {"x": {"risk_mode": "no"}}}},
     "body.channel_overrides.x.risk_mode"),
    ("POST", "/v1/users/{admin_id}/api-keys", {"json": {"name": "old", "expires_in_seconds": 59}},
     "body.expires_in_seconds"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "kwargs", "field"), INVALID)
def test_422_names_the_field(client, tenant_a, brand_url, method, path, kwargs, field):
    path = path.format(persona_id=tenant_a.onboarded["personas"][0]["id"], admin_id=tenant_a.admin["id"])
    url = path if path.startswith("/v1/") else brand_url + path
    response = client.request(method, url, headers=tenant_a.headers, **kwargs)
    assert invalid_field(response) == field


def test_422_for_malformed_json(client, tenant_a):
    headers = {**tenant_a.headers, "Content-Type": "application/json"}
    assert_error(client.post("/v1/brands", headers=headers, content=b"{not json"), 422, "invalid")


def test_a_body_naming_an_unknown_object_is_a_404_naming_the_field(client, tenant_a, brand_url):
    h = tenant_a.headers
    # A snapshot naming a persona that is not the brand's: no such object for the caller.
    response = client.post(f"{brand_url}/snapshots", headers=h,
                           json={"expected_version": 1, "persona_ids": [str(uuid.uuid4())]})  # fmt: skip
    assert assert_error(response, 404, "not_found")["details"]["field"] == "body.persona_ids"
    outsider = {"user_id": str(uuid.uuid4()), "role": "creator"}
    refused = client.post(f"{brand_url}/members", headers=h, json=outsider)
    assert assert_error(refused, 404, "not_found")["details"]["field"] == "body.user_id"
    owners = client.post("/v1/brands", headers=h, json={**brand_body(), "owner_user_ids": [str(uuid.uuid4())]})
    assert assert_error(owners, 404, "not_found")["details"]["field"] == "body.owner_user_ids"
    fragment = {"raw_text": "A note.", "persona_id": str(uuid.uuid4())}
    memory = client.post(f"{brand_url}/memory", headers=h, json=fragment)
    assert assert_error(memory, 404, "not_found")["details"]["field"] == "body.persona_id"


# -- 404 --------------------------------------------------------------------------------------


def test_404_for_unknown_ids(client, tenant_a, brand_url):
    h = tenant_a.headers
    unknown = str(uuid.uuid4())
    for path in (
        f"/v1/brands/{unknown}", f"/v1/brands/{unknown}/runtime-context", f"{brand_url}/personas/{unknown}",
        f"{brand_url}/pillars/{unknown}", f"{brand_url}/snapshots/99", f"{brand_url}/runs/{unknown}",
        f"/v1/users/{unknown}", f"/v1/orgs/{unknown}", "/v1/no-such-route",
    ):  # fmt: skip
        assert_error(client.get(path, headers=h), 404, "not_found")
    assert_error(client.patch(f"{brand_url}/personas/{unknown}", headers=h, json={"name": "x"}), 404)
    assert_error(client.delete(f"/v1/api-keys/{unknown}", headers=h), 404)
    assert_error(client.post(f"/v1/brands/{unknown}/snapshots", headers=h, json={"expected_version": 1}), 404)
    assert_error(client.put("/v1/brands", headers=h, json={}), 405, "method_not_allowed")


# -- 409 --------------------------------------------------------------------------------------


def test_409_for_duplicates_and_stale_versions(client, tenant_a, brand_url, operator_token):
    h = tenant_a.headers
    duplicate = client.post("/v1/brands", headers=h, json=brand_body(slug=tenant_a.brand["slug"]))
    error = assert_error(duplicate, 409, "conflict")
    assert error["details"] == {"field": "body.slug"}  # in Kairo's words: no constraint or table names
    org = {"name": "Dup", "slug": tenant_a.org["slug"], "admin_email": "x@dup.io"}
    assert_error(client.post("/v1/orgs", headers=bearer(operator_token), json=org), 409, "conflict")
    assert_error(client.post("/v1/users", headers=h, json={"email": tenant_a.admin["email"]}), 409, "conflict")
    member = {"user_id": tenant_a.admin["id"], "role": "creator"}
    assert_error(client.post(f"{brand_url}/members", headers=h, json=member), 409, "conflict")

    context = client.get(f"{brand_url}/runtime-context", headers=h).json()
    stale = {"expected_version": context["version"] + 5, "remove_channels": ["x"]}
    error = assert_error(client.patch(f"{brand_url}/runtime-context", headers=h, json=stale), 409, "conflict")
    assert error["details"] == {"field": "expected_version", "expected_version": context["version"] + 5, "current_version": context["version"]}
    latest = client.get(f"{brand_url}/snapshots", headers=h, params={"limit": 1}).json()["items"][0]["version"]
    assert_error(client.post(f"{brand_url}/snapshots", headers=h, json={"expected_version": latest + 1}), 409)
    status = client.get(f"{brand_url}/agent", headers=h).json()["status"]
    assert_error(client.patch(f"{brand_url}/agent", headers=h, json={"expected_version": status["version"] + 1}), 409)


# -- 403 --------------------------------------------------------------------------------------


def test_403_when_the_role_is_too_low(client, tenant_a, brand_url):
    _, creator = tenant_a.user("creator", brand_role="creator")
    context = client.get(f"{brand_url}/runtime-context", headers=creator).json()  # reading is fine
    patch = {"expected_version": context["version"], "channel_overrides": {"x": {"risk_mode": "safe"}}}
    error = assert_error(client.patch(f"{brand_url}/runtime-context", headers=creator, json=patch), 403, "forbidden")
    assert error["details"] == {"required_role": "strategist", "role": "creator"}
    assert client.get(f"{brand_url}/runtime-context", headers=creator).json() == context  # unchanged
    persona = {"name": "P", "description": "D.", "pain_points": ["p"], "goals": ["g"]}
    assert_error(client.post(f"{brand_url}/personas", headers=creator, json=persona), 403)
    assert_error(client.post(f"{brand_url}/runs", headers=creator), 403)
    assert_error(client.post(f"{brand_url}/members", headers=creator,
                             json={"user_id": tenant_a.admin["id"], "role": "creator"}), 403)  # fmt: skip

    _, strategist = tenant_a.user("strategist", brand_role="strategist")
    assert_error(client.post(f"{brand_url}/members", headers=strategist,
                             json={"user_id": tenant_a.admin["id"], "role": "creator"}), 403)  # fmt: skip
    # Org-level: only org admins create users or mint keys for others; creators cannot onboard.
    assert_error(client.post("/v1/users", headers=creator, json={"email": "x@example.com"}), 403)
    assert_error(client.post(f"/v1/users/{tenant_a.admin['id']}/api-keys", headers=creator, json={"name": "x"}), 403)
    assert_error(client.post("/v1/brands", headers=creator, json=brand_body()), 403)
    org = {"name": "X", "slug": f"x-{uuid.uuid4().hex[:6]}", "admin_email": "a@x.io"}
    assert_error(client.post("/v1/orgs", headers=tenant_a.headers, json=org), 403)
