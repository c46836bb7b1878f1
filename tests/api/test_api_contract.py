"""The API contract every route inherits (docs/api.md), through the real Serve proxy: methods
and Allow, one answer for each kind of bad body, strict JSON types, no control characters,
PostgreSQL's words never shown, a size limit, cursor pagination, readable operation ids and
response schemas that mark what the server always sends."""

from __future__ import annotations

import gzip
import json
import uuid

import pytest

from api_support import assert_error, brand_body

pytestmark = pytest.mark.cluster

JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def brand_url(tenant_a) -> str:
    return f"/v1/brands/{tenant_a.brand['id']}"


def field_of(response, status=422) -> str:
    return assert_error(response, status)["details"].get("field", "")


# -- methods ----------------------------------------------------------------------------------


def test_allow_lists_every_method_of_the_path(client, tenant_a, brand_url):
    for path, methods in (
        ("/v1/brands", {"GET", "POST"}),
        (f"{brand_url}/personas", {"GET", "POST"}),
        (f"{brand_url}/runtime-context", {"GET", "PATCH"}),
        ("/healthz", {"GET"}),
    ):
        refused = client.put(path, headers=tenant_a.headers, json={})
        assert_error(refused, 405, "method_not_allowed")
        listed = {m.strip() for m in refused.headers["allow"].split(",")}
        assert listed == methods | {"HEAD", "OPTIONS"}, path
        options = client.options(path)
        assert options.status_code == 204
        assert {m.strip() for m in options.headers["allow"].split(",")} == listed


def test_head_answers_like_get_without_a_body(client, tenant_a, brand_url):
    head = client.head("/healthz")
    assert head.status_code == 200 and head.content == b""
    get = client.get("/healthz")
    assert int(head.headers["content-length"]) == len(get.content)
    assert client.head(brand_url, headers=tenant_a.headers).status_code == 200
    assert client.head(brand_url).status_code == 401  # the same rules as GET


# -- bodies that cannot be read ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "nested deeper"),
        (b'{"slug": ' + b"9" * 5000 + b"}", "not valid JSON"),
        (b'{"slug": "a",', "not valid JSON"),
        (b'{"priority": NaN}', "not valid JSON"),
        (b'{"priority": 1e999}', "not valid JSON"),
    ],
)
def test_an_unreadable_body_is_a_422_naming_the_body(client, tenant_a, content, reason):
    response = client.post("/v1/brands", headers={**tenant_a.headers, **JSON}, content=content)
    error = assert_error(response, 422, "invalid")
    assert error["details"]["field"] == "body"
    assert reason in error["message"]


def test_compressed_or_non_json_bodies_are_a_415(client, tenant_a):
    body = gzip.compress(json.dumps(brand_body()).encode())
    gz = client.post("/v1/brands", headers={**tenant_a.headers, **JSON, "Content-Encoding": "gzip"}, content=body)
    assert field_of(gz, 415) == "header.content-encoding"
    form = client.post("/v1/brands", headers={**tenant_a.headers, "Content-Type": "text/plain"}, content=b"{}")
    assert field_of(form, 415) == "header.content-type"


def test_a_body_over_the_limit_is_a_413(client, tenant_a, brand_url):
    huge = {"raw_text": "x" * (3 * 1024 * 1024)}  # the test app keeps the default 2 MiB limit
    error = assert_error(client.post(f"{brand_url}/memory", headers=tenant_a.headers, json=huge), 413, "too_large")
    assert error["details"]["max_bytes"] == 2 * 1024 * 1024


def test_an_operation_without_a_body_refuses_one(client, tenant_a, brand_url):
    runs_before = client.get(f"{brand_url}/runs", headers=tenant_a.headers).json()["items"]
    refused = client.post(f"{brand_url}/runs", headers=tenant_a.headers, json={"trigger": "schedule"})
    assert field_of(refused) == "body"
    assert client.get(f"{brand_url}/runs", headers=tenant_a.headers).json()["items"] == runs_before
    assert field_of(client.request("DELETE", f"/v1/api-keys/{uuid.uuid4()}", headers=tenant_a.headers,
                                   json={"x": 1})) == "body"  # fmt: skip


def test_body_problems_come_after_authentication_and_access(client, tenant_b, brand_url):
    assert_error(client.post("/v1/brands", headers=JSON, content=b"\xff"), 401)
    # Another tenant learns nothing from a bad body: the brand is not theirs, so 404.
    assert_error(client.post(f"{brand_url}/runs", headers=tenant_b.headers, json={"x": 1}), 404)
    assert_error(client.post(f"{brand_url}/personas", headers={**tenant_b.headers, **JSON}, content=b"{"), 404)


# -- strict types and text --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/pillars", {"name": "P", "description": "D.", "priority": True}, "body.priority"),
        ("/pillars", {"name": "P", "description": "D.", "priority": 2.5}, "body.priority"),
        ("/pillars", {"name": "P", "description": "D.", "priority": "2"}, "body.priority"),
        ("/pillars", {"name": "P", "description": "D.", "status": 1}, "body.status"),
        ("/pillars", {"name": 12, "description": "D."}, "body.name"),
        ("/snapshots", {"expected_version": True}, "body.expected_version"),
        ("/agent", {"expected_version": "1"}, "body.expected_version"),
    ],
)
def test_json_types_are_not_coerced(client, tenant_a, brand_url, path, body, field):
    method = "PATCH" if path == "/agent" else "POST"
    response = client.request(method, brand_url + path, headers=tenant_a.headers, json=body)
    assert field_of(response) == field


def test_a_whole_number_is_an_integer_as_json_schema_says(client, tenant_a, brand_url):
    body = {"name": "Whole", "description": "D.", "priority": 7.0}
    created = client.post(f"{brand_url}/pillars", headers=tenant_a.headers, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["priority"] == 7 and isinstance(created.json()["priority"], int)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/memory", {"raw_text": "before\u0000after"}, "body.raw_text"),
        ("/personas", {"name": "Ops\u001b[31m lead", "description": "D.", "pain_points": ["p"], "goals": ["g"]},
         "body.name"),
        ("/personas", {"name": "Ops", "description": "D.", "pain_points": ["p\u0007"], "goals": ["g"]},
         "body.pain_points.0"),
        ("/personas", {"name": "Ops\nlead", "description": "D.", "pain_points": ["p"], "goals": ["g"]}, "body.name"),
        ("/pillars", {"name": "P", "description": "lone \ud800 surrogate"}, "body.description"),
    ],
)
def test_control_characters_are_refused_with_the_field(client, tenant_a, brand_url, path, body, field):
    before = client.get(f"{brand_url}/memory", headers=tenant_a.headers).json()["items"]
    response = client.post(brand_url + path, headers={**tenant_a.headers, **JSON},
                           content=json.dumps(body).encode())  # fmt: skip
    assert field_of(response) == field
    assert client.get(f"{brand_url}/memory", headers=tenant_a.headers).json()["items"] == before


def test_prose_keeps_newlines_and_tabs(client, tenant_a, brand_url):
    body = {"name": "Tabs", "description": "Line one.\nLine\ttwo.\r\nThree."}
    created = client.post(f"{brand_url}/pillars", headers=tenant_a.headers, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["description"] == body["description"]


def test_control_characters_in_the_query_are_refused(client, tenant_a, brand_url):
    response = client.get(f"{brand_url}/memory/search", headers=tenant_a.headers, params={"q": "a\u0000b"})
    assert field_of(response) == "query.q"


# -- the database's words ---------------------------------------------------------------------


def test_database_refusals_are_in_kairos_words(client, tenant_a):
    duplicate = client.post("/v1/brands", headers=tenant_a.headers, json=brand_body(slug=tenant_a.brand["slug"]))
    error = assert_error(duplicate, 409, "conflict")
    assert error["details"] == {"field": "body.slug"}
    assert "slug" in error["message"]
    for leaked in ("brands_slug_unique", "Key (", "violates", "constraint", "brands"):
        assert leaked not in json.dumps(error), leaked


# -- pagination -------------------------------------------------------------------------------


def test_lists_read_on_by_cursor_without_skips_or_repeats_while_items_are_added(client, tenant_a, brand_url):
    h = tenant_a.headers
    for n in range(5):
        body = {"name": f"Page {n}", "description": "D.", "pain_points": ["p"], "goals": ["g"]}
        assert client.post(f"{brand_url}/personas", headers=h, json=body).status_code == 201
    everything = client.get(f"{brand_url}/personas", headers=h, params={"limit": 200}).json()
    assert everything["next_cursor"] is None
    expected = [p["id"] for p in everything["items"]]

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{brand_url}/personas", headers=h, params=params).json()
        assert len(page["items"]) <= 2
        seen += [p["id"] for p in page["items"]]
        pages += 1
        if pages == 2:  # a persona added mid-read lands after the pages already read
            late = {"name": "Late", "description": "D.", "pain_points": ["p"], "goals": ["g"]}
            expected.append(client.post(f"{brand_url}/personas", headers=h, json=late).json()["id"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


def test_newest_first_lists_page_too(client, tenant_a, brand_url):
    h = tenant_a.headers
    for _ in range(2):  # each run writes events
        assert client.post(f"{brand_url}/runs", headers=h).status_code == 201
    events = client.get(f"{brand_url}/events", headers=h, params={"limit": 200}).json()["items"]
    first = client.get(f"{brand_url}/events", headers=h, params={"limit": 1}).json()
    second = client.get(f"{brand_url}/events", headers=h, params={"limit": 1, "cursor": first["next_cursor"]}).json()
    assert [e["id"] for e in first["items"] + second["items"]] == [e["id"] for e in events[:2]]


def test_a_foreign_or_forged_cursor_names_no_page(client, tenant_a, brand_url):
    h = tenant_a.headers
    assert client.post(f"{brand_url}/runs", headers=h).status_code == 201
    events_cursor = client.get(f"{brand_url}/events", headers=h, params={"limit": 1}).json()["next_cursor"]
    assert events_cursor
    for forged in (events_cursor, "bm90LWEtY3Vyc29y"):
        response = client.get(f"{brand_url}/personas", headers=h, params={"cursor": forged})
        assert field_of(response, 404) == "query.cursor"


def test_the_current_snapshot(client, tenant_a, brand_url):
    h = tenant_a.headers
    newest = client.get(f"{brand_url}/snapshots", headers=h, params={"limit": 1}).json()["items"][0]
    assert client.get(f"{brand_url}/snapshots/current", headers=h).json() == newest


# -- the OpenAPI document ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def spec(client) -> dict:
    return client.get("/openapi.json").json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_operation_ids_are_readable_and_unique(spec):
    ids = [op["operationId"] for _, _, op in operations(spec)]
    assert len(ids) == len(set(ids))
    for path, method, op in operations(spec):
        assert op["operationId"].isidentifier() and "_v1_" not in op["operationId"], (method, path)
    assert {"create_brand", "list_personas", "get_current_snapshot", "add_memory", "start_run"} <= set(ids)


def test_every_list_is_a_page(spec):
    for path, method, op in operations(spec):
        if method != "get" or not op["operationId"].startswith("list_"):
            continue
        names = {p["name"] for p in op.get("parameters", [])}
        assert {"limit", "cursor"} <= names, path
        ref = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]
        assert set(page["required"]) == {"items", "next_cursor"}, path


def test_server_assigned_fields_are_required_in_responses(spec):
    schemas = spec["components"]["schemas"]
    for name in ("BrandView", "Persona", "AgentRun", "EventLog", "BrandBrainSnapshot"):
        required = set(schemas[name]["required"])
        assert {"id", "created_at"} <= required or {"id", "started_at"} <= required, name
        assert set(schemas[name]["properties"]) == required, name


def test_patch_bodies_do_not_advertise_null(spec):
    for name in ("PersonaPatch", "PillarPatch", "UserPatch", "OrgPatch"):
        for field, prop in spec["components"]["schemas"][name]["properties"].items():
            assert "null" not in json.dumps(prop), (name, field)


def test_maps_are_expressible(spec):
    schemas = spec["components"]["schemas"]
    overrides = schemas["BrandRuntimeContext"]["properties"]["channel_overrides"]
    assert overrides["additionalProperties"] is False
    assert {"linkedin", "x", "mastodon", "bluesky"} <= set(overrides["properties"])
    tone = schemas["BrandBrainSnapshot"]["properties"]["tone_profile"]
    assert "patternProperties" not in tone and tone["propertyNames"]["pattern"]
    assert tone["additionalProperties"]["maximum"] == 100


def test_each_expected_version_says_what_it_guards(spec):
    schemas = spec["components"]["schemas"]
    described = {name: schemas[name]["properties"]["expected_version"]["description"]
                 for name in ("SnapshotCreate", "RuntimeContextPatch", "AgentPatch")}  # fmt: skip
    assert "snapshot" in described["SnapshotCreate"]
    assert "runtime context" in described["RuntimeContextPatch"]
    assert "agent" in described["AgentPatch"]


def test_emails_carry_their_format(spec):
    assert spec["components"]["schemas"]["UserCreate"]["properties"]["email"]["format"] == "email"


def test_every_request_string_states_its_rule(spec):
    """The server refuses control characters in every text of a request (body.py): each string
    a client may send says so with a pattern, a format or an enum, so the document is never
    looser than the server."""
    schemas = spec["components"]["schemas"]
    loose, seen = [], set()

    def walk(node, where):
        if isinstance(node, dict):
            if "$ref" in node:
                name = node["$ref"].rsplit("/", 1)[-1]
                if name not in seen:
                    seen.add(name)
                    walk(schemas[name], name)
                return
            if node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & set(node):
                loose.append(where)
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]")

    for path, method, op in operations(spec):
        walk(op.get("requestBody"), f"{method} {path} body")
        for parameter in op.get("parameters", []):
            walk(parameter.get("schema"), f"{method} {path} {parameter['in']}.{parameter['name']}")
    assert loose == []
