"""Sources, the scout and the board through the real Serve proxy (the scout pool in Ray, MiniLM
offline): add articles, scout them into cards, read the day's board, act on a card."""

from __future__ import annotations

import pytest

from api_support import assert_error
from storage.objects.base import utcnow

pytestmark = pytest.mark.cluster

ARTICLE = (
    "Marketing teams are rebuilding multi-touch attribution as third-party cookies disappear. In a survey of "
    "300 B2B marketers, 58 percent said last-click reports now credit paid search for deals that started in "
    "webinars and partner referrals. Teams that moved to data-driven attribution fed by first-party CRM events "
    "saw budget shift toward channels that had looked unprofitable for years, and boards began asking for "
    "pipeline by stage instead of clicks."
)
RECIPE = (
    "A good sourdough starts with a lively starter. Feed it twice a day for a week, keep it somewhere warm, and "
    "bake when it has doubled and smells pleasantly sour; rest the dough before adding salt for an open crumb."
)


@pytest.fixture(scope="module")
def scouted(client, tenant_a) -> dict:
    base = f"/v1/brands/{tenant_a.brand['id']}"
    added = client.post(f"{base}/sources", headers=tenant_a.headers, json={"items": [
        {"text": ARTICLE, "title": "Attribution after cookies", "published_at": utcnow().isoformat()},
        {"text": RECIPE, "title": "Sourdough"},
    ]})  # fmt: skip
    assert added.status_code == 201, added.text
    run = client.post(f"{base}/scout", headers=tenant_a.headers)
    assert run.status_code == 201, run.text
    return {"base": base, "added": added.json(), "run": run.json()}


def test_sources_become_a_card_on_the_board(client, tenant_a, scouted):
    article_id, recipe_id = scouted["added"]["stored"]
    run = scouted["run"]
    assert run["docs"] == 2 and run["created"] >= 1
    board = client.get(f"{scouted['base']}/board", headers=tenant_a.headers).json()
    cited = [c["source_refs"][0]["global_source_doc_id"] for c in board["cards"]]
    assert cited[0] == article_id and recipe_id not in cited
    assert board["cards"][0]["pillar_id"] == tenant_a.onboarded["pillars"][0]["id"]
    assert board["date"] == run["date"]


def test_the_same_article_again_is_the_same_document_and_card(client, tenant_a, scouted):
    again = client.post(f"{scouted['base']}/sources", headers=tenant_a.headers, json={"items": [{"text": ARTICLE}]})
    assert again.json()["stored"] == [] and again.json()["merged"][0]["doc_id"] == scouted["added"]["stored"][0]
    rerun = client.post(f"{scouted['base']}/scout", headers=tenant_a.headers).json()
    assert rerun["created"] == 0 and rerun["batch_id"] == scouted["run"]["batch_id"]


def test_card_actions_move_it_on_and_off_the_board(client, tenant_a, scouted):
    h, base = tenant_a.headers, scouted["base"]
    card = client.get(f"{base}/board", headers=h).json()["cards"][0]
    act = f"{base}/opportunities/{card['id']}/actions"
    assert client.post(act, headers=h, json={"action": "pin"}).json()["pinned"] is True
    snoozed = client.post(act, headers=h, json={"action": "snooze", "for_seconds": 2 * 86400}).json()
    assert snoozed["lifecycle_state"] == "snoozed"
    assert card["id"] not in [c["id"] for c in client.get(f"{base}/board", headers=h).json()["cards"]]
    assert client.post(act, headers=h, json={"action": "restore"}).json()["lifecycle_state"] == "new"
    assert client.post(act, headers=h, json={"action": "dismiss"}).json()["lifecycle_state"] == "dismissed"
    assert card["id"] not in [c["id"] for c in client.get(f"{base}/board", headers=h).json()["cards"]]
    assert_error(client.post(act, headers=h, json={"action": "pin"}), 409, "conflict")  # a dismissed card stays so
    listed = client.get(f"{base}/opportunities", headers=h, params={"state": "dismissed"}).json()["items"]
    assert [c["id"] for c in listed] == [card["id"]]


def test_bad_input_and_another_tenant(client, tenant_a, tenant_b, scouted):
    h, base = tenant_a.headers, scouted["base"]
    assert assert_error(client.post(f"{base}/sources", headers=h, json={"items": []}), 422)["details"]["field"] == "body.items"
    card_id = scouted["added"]["stored"][0]  # a document id is no card id
    assert_error(client.post(f"{base}/opportunities/{card_id}/actions", headers=h, json={"action": "pin"}), 404)
    assert_error(client.get(f"{base}/board", headers=tenant_b.headers), 404)
    assert assert_error(client.get(f"{base}/board", headers=h, params={"date": "2026-02-30"}), 422)["details"]["field"] == "query.date"
    refused = client.post(f"{base}/opportunities/{card_id}/actions", headers=h, json={"action": "pin", "for_seconds": 60})
    assert assert_error(refused, 422)["details"]["field"].startswith("body")
    assert_error(client.post(f"{base}/scout", headers=tenant_b.headers), 404)
