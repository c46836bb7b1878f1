"""Pattern mining through the real Serve proxy: a brand imports its posts and mines them in the
miner pool, reads its templates with their evidence; global swipe files belong to the operator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from api_support import assert_error, bearer

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
