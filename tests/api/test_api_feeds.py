"""Feed subscriptions through the real Serve proxy: add a feed (polled at once), one per feed
after URL normalization, list and read them with their health, remove one."""

from __future__ import annotations

import pytest

from api_support import assert_error

pytestmark = pytest.mark.cluster

FEED = "https://news.example.org/marketing/feed.xml"


def test_a_feed_is_added_with_its_health_listed_and_removed(client, tenant_a):
    base, h = f"/v1/brands/{tenant_a.brand['id']}", tenant_a.headers
    added = client.post(f"{base}/feeds", headers=h, json={"url": FEED, "poll_interval_seconds": 900})
    assert added.status_code == 201, added.text
    view = added.json()
    feed, health = view["feed"], view["health"]
    assert feed["url"] == FEED and feed["poll_interval_seconds"] == 900 and feed["brand_id"] == tenant_a.brand["id"]
    assert health["status"] == "never_polled" and health["consecutive_failures"] == 0
    assert health["next_poll_at"] == feed["created_at"]  # due at once
    assert health["conditional_get"] is False and health["last_polled_at"] is None

    # The same feed spelled differently (www., trailing slash, a tracking parameter) is a 409.
    same = client.post(f"{base}/feeds", headers=h,
                       json={"url": "http://www.news.example.org/marketing/feed.xml/?utm_source=newsletter"})  # fmt: skip
    assert_error(same, 409, "conflict")

    listed = client.get(f"{base}/feeds", headers=h, params={"limit": 200}).json()
    assert feed["id"] in [item["feed"]["id"] for item in listed["items"]]
    assert client.get(f"{base}/feeds/{feed['id']}", headers=h).json() == view

    removed = client.delete(f"{base}/feeds/{feed['id']}", headers=h)
    assert removed.status_code == 200 and removed.json()["feed"]["id"] == feed["id"]
    assert_error(client.get(f"{base}/feeds/{feed['id']}", headers=h), 404, "not_found")
    assert_error(client.delete(f"{base}/feeds/{feed['id']}", headers=h), 404, "not_found")


def test_a_bad_feed_body_names_its_field(client, tenant_a):
    base, h = f"/v1/brands/{tenant_a.brand['id']}", tenant_a.headers
    for body, field in (({"url": "ftp://files.example/feed"}, "url"),
                        ({"url": FEED, "poll_interval_seconds": 5}, "poll_interval_seconds"),
                        ({"url": FEED, "tags": ["x"]}, "tags")):  # fmt: skip
        error = assert_error(client.post(f"{base}/feeds", headers=h, json=body), 422)
        assert field in str(error["details"]), error


def test_another_tenants_feed_is_not_found(client, tenant_a, tenant_b):
    base_a = f"/v1/brands/{tenant_a.brand['id']}"
    feed = client.post(f"{base_a}/feeds", headers=tenant_a.headers, json={"url": "https://a.example/only-mine.rss"})
    assert feed.status_code == 201, feed.text
    feed_id = feed.json()["feed"]["id"]
    base_b = f"/v1/brands/{tenant_b.brand['id']}"
    assert_error(client.get(f"{base_b}/feeds/{feed_id}", headers=tenant_b.headers), 404, "not_found")
    assert_error(client.delete(f"{base_b}/feeds/{feed_id}", headers=tenant_b.headers), 404, "not_found")
    assert client.get(f"{base_a}/feeds/{feed_id}", headers=tenant_a.headers).status_code == 200
