"""The gate check and the brand's rubric through the real Serve proxy; the gates run in the
content writer's Ray pool (MiniLM loaded there), never in the API replica."""

from __future__ import annotations

import pytest
import ray

from runtime import names

from api_support import assert_error

pytestmark = pytest.mark.cluster

RAY_NAMESPACE = "kairo-api-test"  # tests/api/conftest.py


@pytest.fixture(scope="module", autouse=True)
def writer_pool_cleanup(api_url):
    """The replica creates the writer pool member on the first check; kill it afterwards."""
    yield
    try:
        ray.kill(ray.get_actor(names.engine("writer", 0), namespace=RAY_NAMESPACE), no_restart=True)
    except ValueError:
        pass


@pytest.fixture(scope="module")
def brand(client, tenant_a):
    """Tenant A's brand with banned words and a taboo in its latest snapshot."""
    brand_id = tenant_a.brand["id"]
    response = client.post(f"/v1/brands/{brand_id}/snapshots", headers=tenant_a.headers, json={
        "expected_version": 1,
        "banned_words": [{"word": "leverage", "severity": "hard"}, {"word": "synergy", "severity": "soft"}],
        "taboos": ["Trashing competitors"],
    })  # fmt: skip
    assert response.status_code == 201, response.text
    return brand_id


def check(client, tenant, brand_id, **body):
    return client.post(f"/v1/brands/{brand_id}/gates/check", headers=tenant.headers, json=body)


def test_check_reports_verdict_scores_length_and_escaped_text(client, tenant_a, brand):
    text = "Attribution (done right) is a definitions problem. #revops"
    ok = check(client, tenant_a, brand, channel="linkedin", text=text)
    assert ok.status_code == 200, ok.text
    report = ok.json()
    assert report["verdict"] == "flag" and report["passed"] is True
    assert report["flags"] == ["linkedin_reserved_chars_escaped"]
    assert report["text_to_send"] == r"Attribution \(done right\) is a definitions problem. \#revops"
    assert report["length"] == len(text) and report["limit"] == 3000  # ASCII: one unit each, raw text
    assert {r["rule"] for r in report["results"]} == {"platform", "banned_words", "taboo", "hook", "similarity", "engagement"}
    assert not next(r for r in report["results"] if r["rule"] == "taboo")["skipped"]  # MiniLM ran in the pool

    banned = check(client, tenant_a, brand, channel="x", text="Finance teams leverage cohorts to see churn early.")
    assert banned.json()["reasons"] == ["banned_word_hard"] and banned.json()["passed"] is False
    soft = check(client, tenant_a, brand, channel="x", text="Synergy is not a metric. Churn is.")
    assert soft.json()["passed"] is True and soft.json()["flags"] == ["banned_word_soft_flag"]
    x = check(client, tenant_a, brand, channel="x", text="字" * 141)
    assert (x.json()["length"], x.json()["reasons"]) == (282, ["over_length"])


def test_compare_with_names_the_draft_it_duplicates(client, tenant_a, brand):
    draft = "Most churn dashboards show you who left. Almost none show you why."
    response = check(client, tenant_a, brand, channel="x", text="Most churn dashboards show who left. Almost none show why.",
                     compare_with=[{"id": "draft-7", "text": draft}])  # fmt: skip
    assert response.json()["reasons"] == ["near_duplicate_of:draft-7"]


def test_rubric_overrides_round_trip_and_change_the_verdict(client, tenant_a, brand):
    url = f"/v1/brands/{brand}/gates/rubric"
    assert client.get(url, headers=tenant_a.headers).json() == {}
    text = "Churn again.\nWe measured it."
    assert check(client, tenant_a, brand, channel="x", text=text).json()["passed"] is True
    put = client.put(url, headers=tenant_a.headers, json={
        "hook": {"threshold": 90, "reason": "we want strong openers"},
        "banned_words": {"severity": "flag"},
    })  # fmt: skip
    assert put.status_code == 200, put.text
    assert client.get(url, headers=tenant_a.headers).json() == {
        "hook": {"threshold": 90, "reason": "we want strong openers"}, "banned_words": {"severity": "flag"}}
    strict = check(client, tenant_a, brand, channel="x", text=text).json()
    assert strict["reasons"] == ["weak_hook"] and strict["thresholds"]["hook"] == 90
    downgraded = check(client, tenant_a, brand, channel="x", text="Why do 3 finance teams leverage cohorts for churn?").json()
    assert downgraded["reasons"] == [] and downgraded["flags"] == ["banned_word_hard"], downgraded
    assert client.put(url, headers=tenant_a.headers, json={}).json() == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "fax", "text": "hello"}, "channel"),
        ({"channel": "x"}, "text"),
        ({"channel": "x", "text": "a" * 40_001}, "text"),
        ({"channel": "x", "text": "hi", "extra": 1}, "extra"),
        ({"channel": "x", "text": "hi", "compare_with": [{"text": ""}]}, "compare_with"),
    ],
)
def test_bad_check_bodies_name_the_field(client, tenant_a, brand, body, field):
    error = assert_error(client.post(f"/v1/brands/{brand}/gates/check", headers=tenant_a.headers, json=body), 422)
    assert field in str(error["details"])


def test_unpaired_surrogate_and_a_megabyte_are_refused(client, tenant_a, brand):
    raw = b'{"channel": "x", "text": "half \\ud83d pair"}'
    response = client.post(f"/v1/brands/{brand}/gates/check", headers={**tenant_a.headers, "Content-Type": "application/json"},
                           content=raw)  # fmt: skip
    error = assert_error(response, 422)
    assert "text" in str(error["details"])
    huge = client.post(f"/v1/brands/{brand}/gates/check", headers=tenant_a.headers,
                       json={"channel": "x", "text": "a" * 1_000_000})  # fmt: skip
    assert huge.status_code in (413, 422), huge.text
    assert_error(huge, huge.status_code)


@pytest.mark.parametrize(
    ("body", "field"),
    [({"hook": {"threshold": 120}}, "body.hook.threshold"), ({"platform": {"severity": "flag"}}, "body.platform"),
     ({"hook": {}}, "body.hook"), ({"hook": {"reason": "why"}}, "body.hook"),
     ({"banned_words": {"threshold": 5, "severity": "flag"}}, "body.banned_words.threshold"),
     ({"hook": {"threshold": 5, "reason": ""}}, "body.hook.reason"), ({"hook": None}, "body.hook")],
)
def test_rubric_out_of_range_is_refused(client, tenant_a, brand, body, field):
    response = client.put(f"/v1/brands/{brand}/gates/rubric", headers=tenant_a.headers, json=body)
    assert assert_error(response, 422)["details"]["field"] == field


def test_another_tenant_gets_404(client, tenant_b, brand):
    other = client.post(f"/v1/brands/{brand}/gates/check", headers=tenant_b.headers, json={"channel": "x", "text": "hi"})
    assert_error(other, 404)


def test_a_mastodon_content_warning_counts_and_is_refused_elsewhere(client, tenant_a, brand):
    text = "Sourcing notes. " * 30  # 480 graphemes
    plain = check(client, tenant_a, brand, channel="mastodon", text=text).json()
    assert plain["passed"] is True and plain["length"] == 480
    warned = check(client, tenant_a, brand, channel="mastodon", text=text, spoiler_text="Long read about mining")
    assert warned.status_code == 200, warned.text
    assert warned.json()["length"] == 480 + len("Long read about mining") and warned.json()["reasons"] == ["over_length"]
    # The stored check keeps the warning it counted, so it can be read back and run again.
    stored = client.get(f"/v1/brands/{brand}/quality-reports/{warned.json()['report_id']}", headers=tenant_a.headers).json()
    assert stored["spoiler_text"] == "Long read about mining" and stored["thread"] is False
    assert stored["length"] == 480 + len("Long read about mining") and stored["char_limit"] == 500
    error = assert_error(check(client, tenant_a, brand, channel="x", text="Hello there", spoiler_text="CW"), 422)
    assert "spoiler_text" in str(error["details"])


def test_every_check_is_kept_as_a_quality_report(client, tenant_a, tenant_b, brand):
    text = "Good morning, friends!\n\nWe leverage cohorts now."
    checked = check(client, tenant_a, brand, channel="linkedin", text=text).json()
    url = f"/v1/brands/{brand}/quality-reports"
    stored = client.get(f"{url}/{checked['report_id']}", headers=tenant_a.headers)
    assert stored.status_code == 200, stored.text
    report = stored.json()
    assert report["subject"] == "draft" and report["text"] == text and report["content_variant_id"] is None
    assert report["length"] == len(text) and report["char_limit"] == 3000 and report["spoiler_text"] is None
    assert report["verdict"] == "reject" and report["overall_pass"] is False
    assert {c["reason"].split(":")[0] for c in report["critic_reasons"]} == {"weak_hook", "banned_word_hard"}
    hook = next(r for r in report["gate_results"] if r["rule"] == "hook")
    assert hook["threshold"] == report["thresholds"]["hook"] and not hook["passed"]
    assert report["brand_brain_snapshot_id"] is not None  # the snapshot whose rules applied

    page = client.get(url, headers=tenant_a.headers, params={"subject": "draft", "limit": 1}).json()
    assert [r["id"] for r in page["items"]] == [checked["report_id"]] and page["next_cursor"]  # newest first
    more = client.get(url, headers=tenant_a.headers, params={"subject": "draft", "cursor": page["next_cursor"]}).json()
    assert checked["report_id"] not in [r["id"] for r in more["items"]] and more["items"]

    assert_error(client.get(f"{url}/{checked['report_id']}", headers=tenant_b.headers), 404)
    assert_error(client.get(f"{url}/00000000-0000-4000-8000-000000000000", headers=tenant_a.headers), 404)
    unknown = client.get(url, headers=tenant_a.headers, params={"content_variant_id": "00000000-0000-4000-8000-000000000000"})
    assert_error(unknown, 404)
    assert_error(client.get(url, headers=tenant_a.headers, params={"subject": "vibes"}), 422)
