"""Pattern mining through the real Serve proxy: a brand imports its posts and mines them in the
miner pool, reads its templates with their evidence; global swipe files belong to the operator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_support import Tenant, assert_error, bearer

pytestmark = pytest.mark.cluster

SWIPE = Path(__file__).resolve().parents[1] / "data" / "miner" / "swipe_posts.jsonl"


def posts_file() -> str:
    """The labelled swipe file as a brand would export it: text, channel and metrics only."""
    keep = ("raw_text", "channel", "impressions", "engagements", "created_at")
    rows = [json.loads(line) for line in SWIPE.read_text().splitlines() if line.strip()]
    return "\n".join(json.dumps({k: row[k] for k in keep if k in row}) for row in rows)


@pytest.fixture(scope="module")
def mined(client, tenant_a) -> dict:
    base = f"/v1/brands/{tenant_a.brand['id']}/patterns"
    imported = client.post(f"{base}/posts", headers=tenant_a.headers, json={"format": "jsonl", "content": posts_file()})
    assert imported.status_code == 201, imported.text
    run = client.post(f"{base}/runs", headers=tenant_a.headers)
    assert run.status_code == 201, run.text
    return {"base": base, "imported": imported.json(), "run": run.json()}


def test_import_then_mine_gives_templates_with_evidence(client, tenant_a, mined):
    assert mined["imported"]["rows"] == 50 and mined["imported"]["inserted"] == 50
    run = mined["run"]
    assert run["posts"] == 50 and run["created"] >= 5 and run["templates"] == run["created"]
    page = client.get(f"{mined['base']}/templates", headers=tenant_a.headers, params={"scope": "brand"}).json()
    templates = page["items"]
    assert len(templates) == run["templates"]
    assert all(t["brand_id"] == tenant_a.brand["id"] and t["status"] == "experimental" for t in templates)
    assert all("→" in t["name"] or len(t["structure"]) == 1 for t in templates)
    detail = client.get(f"{mined['base']}/templates/{templates[0]['id']}", headers=tenant_a.headers).json()
    assert {p["id"] for p in detail["examples"]} == set(templates[0]["example_source_post_ids"])
    usages = client.get(f"{mined['base']}/templates/{templates[0]['id']}/usages", headers=tenant_a.headers).json()
    assert usages == {"items": [], "next_cursor": None}


def test_importing_and_mining_again_changes_nothing(client, tenant_a, mined):
    again = client.post(f"{mined['base']}/posts", headers=tenant_a.headers, json={"format": "jsonl", "content": posts_file()})
    assert again.json()["inserted"] == 0 and again.json()["updated"] == 50
    rerun = client.post(f"{mined['base']}/runs", headers=tenant_a.headers).json()
    assert rerun["created"] == 0 and rerun["templates"] == mined["run"]["templates"]


def test_templates_page_by_cursor_in_rank_order(client, tenant_a, mined):
    everything = client.get(f"{mined['base']}/templates", headers=tenant_a.headers).json()["items"]
    first = client.get(f"{mined['base']}/templates", headers=tenant_a.headers, params={"limit": 2}).json()
    rest = client.get(f"{mined['base']}/templates", headers=tenant_a.headers,
                      params={"limit": 200, "cursor": first["next_cursor"]}).json()  # fmt: skip
    assert [t["id"] for t in first["items"] + rest["items"]] == [t["id"] for t in everything]
    assert rest["next_cursor"] is None


def test_a_bad_file_names_the_row_and_nothing_is_stored(client, tenant_b):
    base = f"/v1/brands/{tenant_b.brand['id']}/patterns"
    csv = "channel,impressions,engagements\nlinkedin,100,5\n"
    error = assert_error(client.post(f"{base}/posts", headers=tenant_b.headers,
                                     json={"format": "csv", "content": csv}), 422, "invalid")  # fmt: skip
    assert error["details"]["field"] == "body.content" and error["details"]["column"] == "text"
    bad_metrics = json.dumps({"raw_text": "A post.", "channel": "x", "impressions": 10, "engagements": 50})
    error = assert_error(client.post(f"{base}/posts", headers=tenant_b.headers,
                                     json={"format": "jsonl", "content": bad_metrics}), 422)  # fmt: skip
    assert error["details"]["field"] == "body.content" and error["details"]["row"] == 1
    run = client.post(f"{base}/runs", headers=tenant_b.headers).json()
    assert run["posts"] == 0 and run["templates"] == 0


def test_global_swipe_files_are_the_operators(client, tenant_a, operator_token, mined):
    body = {"format": "jsonl", "content": posts_file()}
    assert_error(client.post("/v1/patterns/posts", headers=tenant_a.headers, json=body), 403, "forbidden")
    assert client.post("/v1/patterns/posts", headers=bearer(operator_token), json=body).status_code == 201
    run = client.post("/v1/patterns/runs", headers=bearer(operator_token)).json()
    assert run["templates"] >= 5
    shared = client.get(f"{mined['base']}/templates", headers=tenant_a.headers, params={"scope": "global"}).json()
    assert shared["items"] and all(t["brand_id"] is None for t in shared["items"])


def test_another_brands_template_is_not_found(client, tenant_b, mined, tenant_a):
    own = client.get(f"{mined['base']}/templates", headers=tenant_a.headers, params={"scope": "brand"}).json()
    template_id = own["items"][0]["id"]
    other = f"/v1/brands/{tenant_b.brand['id']}/patterns/templates/{template_id}"
    assert_error(client.get(other, headers=tenant_b.headers), 404, "not_found")


# -- runs as AgentRuns, and the hook library ---------------------------------------------------

BAKERY = [
    "We sold out of sourdough by 9am three Saturdays in a row.\n\nHere is what changed at the counter.",
    "I almost closed the bakery in 2020.\n\nThen we started teaching bread classes on Sunday mornings.",
    "Our croissants used to sit unsold until closing.\n\nOne change to the display case fixed it.",
    "Nobody bought our rye loaf for a year.\n\nA handwritten sign next to it did what no discount could.",
]
BREAD = "selling more bread at a small neighbourhood bakery"
HOOK_FIELDS = {"source_post_id", "text", "channel", "template_id", "engagement_rate", "impressions", "engagements",
               "is_global", "distance"}


@pytest.fixture(scope="module")
def baker(client, operator_token) -> Tenant:
    tenant = Tenant(client, operator_token)
    tenant.onboard()
    return tenant


@pytest.fixture(scope="module")
def bakery(client, baker) -> dict:
    """A bakery's own posts, mined: its hooks are its own (the first post did best)."""
    base = f"/v1/brands/{baker.brand['id']}/patterns"
    content = "\n".join(json.dumps({"text": t, "channel": "linkedin", "impressions": 4000,
                                    "engagements": 600 if i == 0 else 150}) for i, t in enumerate(BAKERY))
    assert client.post(f"{base}/posts", headers=baker.headers,
                       json={"format": "jsonl", "content": content}).status_code == 201  # fmt: skip
    run = client.post(f"{base}/runs", headers=baker.headers)
    assert run.status_code == 201, run.text
    return {"base": base, "run": run.json()}


@pytest.fixture(scope="module")
def global_hooks(client, operator_token) -> dict:
    body = {"format": "jsonl", "content": posts_file()}
    assert client.post("/v1/patterns/posts", headers=bearer(operator_token), json=body).status_code == 201
    run = client.post("/v1/patterns/runs", headers=bearer(operator_token))
    assert run.status_code == 201, run.text
    return run.json()


def test_a_mining_run_is_an_agent_run_of_the_brand_with_its_counts(client, tenant_a, mined):
    run = mined["run"]
    assert run["result"] == "success" and run["failures"] == 0 and run["notes"] == []
    assert run["beats"] >= 3 * run["posts"] and run["clusters"] >= run["created"] and run["hooks_indexed"] >= 5
    brand = f"/v1/brands/{tenant_a.brand['id']}"
    agent_run = client.get(f"{brand}/runs/{run['run_id']}", headers=tenant_a.headers).json()
    assert agent_run["result"] == "success" and agent_run["trigger_type"] == "manual"
    assert f"{run['created']} templates created" in agent_run["summary"]
    events = client.get(f"{brand}/events", headers=tenant_a.headers, params={"limit": 200}).json()["items"]
    lines = [e for e in events if e["subject_id"] == run["run_id"]]
    assert sorted(e["event_type"] for e in lines) == ["run_finished", "run_started"]
    finished = next(e for e in lines if e["event_type"] == "run_finished")
    assert finished["run_id"] == run["run_id"] and finished["user_id"] == tenant_a.admin["id"]
    assert (finished["meta"]["templates_created"], finished["meta"]["hooks_indexed"]) == (run["created"],
                                                                                         run["hooks_indexed"])
    assert any(e["event_type"] == "posts_imported" and e["meta"]["inserted"] == 50 for e in events)


def test_hooks_are_found_by_topic_within_the_brands_reach(client, tenant_a, baker, mined, bakery, global_hooks):
    assert bakery["run"]["hooks_indexed"] == 1 and global_hooks["result"] == "success"  # 1: the top quarter of 4
    bakery_hooks = {t.split("\n")[0] for t in BAKERY}
    found_b = client.get(f"{bakery['base']}/hooks", headers=baker.headers, params={"q": BREAD, "k": 10})
    assert found_b.status_code == 200, found_b.text
    hooks_b = found_b.json()
    assert hooks_b and all(set(h) == HOOK_FIELDS for h in hooks_b)
    assert not hooks_b[0]["is_global"] and hooks_b[0]["text"] == BAKERY[0].split("\n")[0]  # its best performer
    assert {h["text"] for h in hooks_b if not h["is_global"]} <= bakery_hooks
    assert any(h["is_global"] for h in hooks_b)  # the shared swipe file's hooks too
    assert [h["distance"] for h in hooks_b] == sorted(h["distance"] for h in hooks_b)
    assert all(h["engagement_rate"] == pytest.approx(h["engagements"] / h["impressions"]) for h in hooks_b)

    hooks_a = client.get(f"{mined['base']}/hooks", headers=tenant_a.headers, params={"q": BREAD, "k": 50}).json()
    assert hooks_a and not {h["text"] for h in hooks_a} & bakery_hooks  # another brand's hooks never appear
    assert not {h["source_post_id"] for h in hooks_a} & {h["source_post_id"] for h in hooks_b if not h["is_global"]}
    own_a = [h for h in hooks_a if not h["is_global"]]
    assert own_a and all(h["template_id"] is not None for h in own_a)

    on_x = client.get(f"{mined['base']}/hooks", headers=tenant_a.headers,
                      params={"q": "hiring engineers", "channel": "x", "k": 3}).json()  # fmt: skip
    assert on_x and all(h["channel"] == "x" for h in on_x)


@pytest.mark.parametrize(("params", "field"), [
    ({"q": "   "}, "query.q"), ({}, "query.q"), ({"q": "pricing", "k": 0}, "query.k"),
    ({"q": "pricing", "k": 51}, "query.k"), ({"q": "pricing", "channel": "myspace"}, "query.channel"),
])  # fmt: skip
def test_a_bad_hook_search_is_refused_naming_the_parameter(client, tenant_a, params, field):
    response = client.get(f"/v1/brands/{tenant_a.brand['id']}/patterns/hooks", headers=tenant_a.headers, params=params)
    assert assert_error(response, 422, "invalid")["details"]["field"] == field


@pytest.mark.parametrize(("row", "column"), [
    ({"text": "🚀🔥 🎉 ✨", "channel": "x"}, "text"), ({"text": "   ", "channel": "x"}, "text"),
    ({"text": "A fine post.", "channel": "x", "impressions": -3, "engagements": 0}, "impressions"),
    ({"text": "A fine post.", "channel": "x", "impressions": 10, "engagements": -1}, "engagements"),
])  # fmt: skip
def test_a_bad_post_is_a_422_naming_its_row_and_column_and_nothing_is_stored(client, baker, bakery, row, column):
    content = json.dumps({"text": "A fine first post about bread.", "channel": "linkedin"}) + "\n" + json.dumps(row)
    response = client.post(f"{bakery['base']}/posts", headers=baker.headers, json={"format": "jsonl", "content": content})
    details = assert_error(response, 422, "invalid")["details"]
    assert (details["field"], details["row"], details["column"]) == ("body.content", 2, column)
    run = client.post(f"{bakery['base']}/runs", headers=baker.headers).json()
    assert run["posts"] == len(BAKERY)  # the file's good first row was not stored either
