"""Content packages through the real Serve proxy: a card on the board becomes a package of
variants that passed the gates (written by the brand's agent, the writing in its writer
engine), read back with scores, edited (a broken channel limit refused with the gate's
reason), approved, regenerated, killed; stale versions, unknown variants and actions on a
killed package get the JSON error envelope."""

from __future__ import annotations

import pytest
from api_support import assert_error, written_package

pytestmark = pytest.mark.cluster


@pytest.fixture(scope="module")
def written(client, tenant_a) -> dict:
    ids = written_package(client, tenant_a)
    base = f"/v1/brands/{tenant_a.brand['id']}"
    view = client.get(f"{base}/packages/{ids['package_id']}", headers=tenant_a.headers).json()
    return {**ids, "base": base, "view": view}


def variant_of(view: dict, variant_id: str) -> dict:
    return next(v for v in view["variants"] if v["variant"]["id"] == variant_id)


def test_a_card_becomes_a_package_of_gated_variants(client, tenant_a, written):
    view, base = written["view"], written["base"]
    assert view["package"]["opportunity_id"] == written["card_id"] and view["package"]["status"] == "in_review"
    assert {p["channel"] for p in view["plans"]} == {"linkedin", "x"}
    assert len(view["variants"]) == 4 and len(view["core_argument"]["supporting_points"]) >= 3
    for v in view["variants"]:
        assert v["version"] == 1 and v["current"] and v["attempts"] >= 1
        quality = v["quality"]
        assert quality["content_variant_id"] == v["variant"]["id"] and 0 <= quality["g2_hook_strength"] <= 100
        if v["variant"]["status"] == "draft":  # a variant that passed: its last gated attempt passed
            assert quality["overall_pass"] and quality["g5_platform_compliance"]
    assert sum(v["variant"]["status"] == "draft" for v in view["variants"]) >= 3
    in_progress = client.get(f"{base}/opportunities", headers=tenant_a.headers, params={"state": "in_progress"}).json()
    assert written["card_id"] in [c["id"] for c in in_progress["items"]]
    listed = client.get(f"{base}/packages", headers=tenant_a.headers).json()
    assert written["package_id"] in [p["id"] for p in listed["items"]] and "next_cursor" in listed


def test_review_edit_approve_regenerate_and_kill(client, tenant_a, written):
    h, base, pid = tenant_a.headers, written["base"], written["package_id"]
    url = f"{base}/packages/{pid}"
    view = client.get(url, headers=h).json()
    x = next(v for v in view["variants"] if v["variant"]["channel"] == "x" and v["variant"]["status"] == "draft")
    lk = [v for v in view["variants"] if v["variant"]["channel"] == "linkedin"]

    too_long = x["variant"]["body"] + " " + "One more detail that does not fit. " * 12
    refused = client.patch(f"{url}/variants/{x['variant']['id']}", headers=h, json={"expected_version": 1, "text": too_long})
    assert "over_length" in assert_error(refused, 422, "invalid")["details"]["reasons"]

    edited = client.patch(f"{url}/variants/{x['variant']['id']}", headers=h,
                          json={"expected_version": 1, "text": x["variant"]["body"] + " Agreed?"})  # fmt: skip
    assert edited.status_code == 200, edited.text
    after = variant_of(edited.json(), x["variant"]["id"])
    assert after["variant"]["status"] == "edited" and after["version"] == 2
    stale = client.post(f"{url}/variants/{x['variant']['id']}/review", headers=h, json={"action": "approve", "expected_version": 1})
    assert_error(stale, 409, "conflict")

    approved = client.post(f"{url}/variants/{lk[0]['variant']['id']}/review", headers=h,
                           json={"action": "approve", "expected_version": lk[0]["version"]})  # fmt: skip
    assert variant_of(approved.json(), lk[0]["variant"]["id"])["variant"]["status"] == "approved"
    assert approved.json()["package"]["status"] == "approved"

    regenerated = client.post(f"{url}/regeneration", headers=h, json={
        "what": {"target": "variant", "variant_id": lk[1]["variant"]["id"]},
        "expected_version": approved.json()["version"], "seed": 5})  # fmt: skip
    assert regenerated.status_code == 200, regenerated.text
    fresh = [v for v in regenerated.json()["variants"] if v["variant"]["origin"]["source_variant_id"] == lk[1]["variant"]["id"]]
    assert len(fresh) == 1 and fresh[0]["current"]
    assert variant_of(regenerated.json(), lk[1]["variant"]["id"])["variant"]["status"] == "rejected"

    unknown = client.post(f"{url}/variants/{pid}/review", headers=h, json={"action": "reject", "expected_version": 1})
    assert_error(unknown, 404, "not_found")

    killed = client.post(f"{url}/kill", headers=h, json={"expected_version": regenerated.json()["version"],
                                                         "reason": "Off-message this week."})  # fmt: skip
    assert killed.status_code == 200, killed.text
    final = killed.json()
    assert final["package"]["status"] == "archived"
    survivor = variant_of(final, x["variant"]["id"])["variant"]
    assert survivor["status"] == "edited" and survivor["origin"]["generated_by"] == "manual"
    assert all(v["variant"]["status"] == "rejected" for v in final["variants"] if v["variant"]["id"] != x["variant"]["id"])

    again = client.post(f"{url}/variants/{survivor['id']}/review", headers=h,
                        json={"action": "approve", "expected_version": variant_of(final, survivor["id"])["version"]})  # fmt: skip
    assert_error(again, 409, "conflict")
    archived = client.get(f"{base}/packages", headers=h, params={"status": "archived"}).json()["items"]
    assert pid in [p["id"] for p in archived]


def test_a_manual_topic_package(client, tenant_a, written):
    h, base = tenant_a.headers, written["base"]
    made = client.post(f"{base}/packages", headers=h, json={
        "source": {"kind": "topic", "topic": "Boards trust pipeline by stage more than channel credit.",
                   "notes": ("Our board stopped reading the channel report last spring. We now show pipeline created "
                             "and pipeline won by stage. The quarterly review got shorter because every chart ties "
                             "back to revenue."),
                   "persona_id": tenant_a.onboarded["personas"][0]["id"],
                   "pillar_id": tenant_a.onboarded["pillars"][0]["id"]},
        "channels": {"linkedin": {"variants": 1}}})  # fmt: skip
    assert made.status_code == 201, made.text
    package = made.json()["package"]
    assert package["origin_type"] == "manual" and package["channel_scope"] == "single" and package["channel"] == "linkedin"
    foreign = client.post(f"{base}/packages", headers=h, json={
        "source": {"kind": "topic", "topic": "Anything at all here.", "persona_id": written["package_id"],
                   "pillar_id": tenant_a.onboarded["pillars"][0]["id"]}, "channels": {"x": {}}})  # fmt: skip
    assert_error(foreign, 404, "not_found")
