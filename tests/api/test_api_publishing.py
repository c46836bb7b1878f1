"""Publishing through the real Serve proxy: connect channels (secrets sealed, never returned or
logged), schedule approved variants under the scheduling rules (each refusal names its rule and
writes nothing), cancel and reschedule, publish one job to the outbox and read it back with its
attempts on the calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import aiohttp
import pytest
import ray

from agents.publisher.loop import PublisherConfig, PublishLoop
from runtime.fakes.world import brand_variants
from runtime.publisher import token_cipher
from storage.objects.base import utcnow
from storage.objects.enums import VariantStatus
from storage.postgres import publishing as store

from api_support import assert_error

pytestmark = pytest.mark.cluster

ACCESS = "xat-7f3c9d1e-access-secret"
REFRESH = "xrt-51b0aa42-refresh-secret"
HOOK_SECRET = "whsec-0c1d2e3f-signing"
X_CONNECT = {"adapter": "x", "account_ref": "1448297001", "access_token": ACCESS, "refresh_token": REFRESH,
             "client_id": "kairo-client", "token_expires_in_seconds": 7200, "account_handle": "acme",
             "rate_limits": {"min_gap_seconds": 600, "posts_per_day": 4}}  # fmt: skip


@pytest.fixture(scope="module")
def base(tenant_a) -> str:
    return f"/v1/brands/{tenant_a.brand['id']}"


@pytest.fixture(scope="module")
async def variants(api_db, tenant_a) -> dict[str, list]:
    brand_id = UUID(tenant_a.brand["id"])
    async with api_db.transaction() as conn:
        return {
            "x": await brand_variants(conn, brand_id, "x", [f"Attribution note {i}: pipeline beats clicks." for i in range(4)]),
            "draft": await brand_variants(conn, brand_id, "x", ["A draft nobody approved."], VariantStatus.DRAFT),
            "long": await brand_variants(conn, brand_id, "x", ["Boards want pipeline, not clicks. " * 12]),
            "linkedin": await brand_variants(conn, brand_id, "linkedin", ["Pipeline by stage is the report that matters."]),
            "mastodon": await brand_variants(conn, brand_id, "mastodon", ["Clicks are not revenue."]),
            "solo": await brand_variants(conn, brand_id, "x", ["A package of its own: cancelling its one job frees it."]),
        }


@pytest.fixture(scope="module")
def x_connection(client, tenant_a, base) -> dict:
    response = client.post(f"{base}/channels", headers=tenant_a.headers, json=X_CONNECT)
    assert response.status_code == 201, response.text
    return response.json()


async def job_count(api_db, brand_id) -> int:
    async with api_db.connection() as conn:
        return await conn.fetchval("SELECT count(*) FROM publishing_jobs WHERE brand_id = $1", UUID(brand_id))


def ray_logs() -> Path:
    return Path(ray._private.worker._global_node.get_logs_dir_path())  # noqa: SLF001 - where Serve's replicas log


async def test_a_connection_seals_its_secrets_and_never_shows_them(client, tenant_a, base, x_connection, api_db, api_settings):
    assert x_connection["status"] == "connected" and x_connection["adapter"] == "x" and x_connection["channel"] == "x"
    assert x_connection["endpoint"] == "https://api.x.com" and x_connection["token_expires_at"] is not None
    listed = client.get(f"{base}/channels", headers=tenant_a.headers)
    got = client.get(f"{base}/channels/{x_connection['id']}", headers=tenant_a.headers)
    for text in (str(x_connection), listed.text, got.text):
        assert ACCESS not in text and REFRESH not in text
    assert [c["id"] for c in listed.json()["items"]] == [x_connection["id"]]
    async with api_db.connection() as conn:
        row = dict(await conn.fetchrow("SELECT * FROM channel_credentials WHERE channel_config_id = $1",
                                       UUID(x_connection["id"])))  # fmt: skip
        assert ACCESS not in str(row) and REFRESH not in str(row)
        opened = await store.open_secrets(conn, token_cipher(api_settings), UUID(x_connection["id"]))
    assert opened.access_token == ACCESS and opened.refresh_token == REFRESH

    # A reconnect without a refresh token keeps the stored one (the bug that logs users out).
    again = client.post(f"{base}/channels", headers=tenant_a.headers, json={
        **{k: v for k, v in X_CONNECT.items() if k != "refresh_token"}, "access_token": ACCESS + "-2"})  # fmt: skip
    assert again.status_code == 201 and again.json()["id"] == x_connection["id"]
    async with api_db.connection() as conn:
        reopened = await store.open_secrets(conn, token_cipher(api_settings), UUID(x_connection["id"]))
    assert reopened.access_token == ACCESS + "-2" and reopened.refresh_token == REFRESH

    logged = [p for p in ray_logs().rglob("*") if p.is_file() and p.stat().st_size < 50_000_000
              and any(s.encode() in p.read_bytes() for s in (ACCESS, REFRESH))]  # fmt: skip
    assert logged == []


def test_connect_input_is_strict(client, tenant_a, base):
    h = tenant_a.headers
    # LinkedIn needs its author URN; an outbox has no endpoint a caller could point at a file.
    bad = client.post(f"{base}/channels", headers=h, json={"adapter": "linkedin", "access_token": "t", "account_ref": "me"})
    assert assert_error(bad, 422)["details"]["field"].startswith("body")
    assert_error(client.post(f"{base}/channels", headers=h, json={"adapter": "outbox", "channel": "x", "endpoint": "/etc/passwd"}), 422)
    assert_error(client.post(f"{base}/channels", headers=h, json={"adapter": "x", "account_ref": "1", "access_token": "a b"}), 422)
    creator, creator_headers = tenant_a.user("creator", brand_role="creator")
    assert_error(client.post(f"{base}/channels", headers=creator_headers, json={"adapter": "outbox", "channel": "bluesky"}),
                 403, "forbidden")  # fmt: skip


async def test_every_refusal_names_its_rule_and_writes_nothing(client, tenant_a, base, x_connection, variants, api_db):
    h, brand_id = tenant_a.headers, tenant_a.brand["id"]
    x = variants["x"]
    before = await job_count(api_db, brand_id)
    cases = [
        ({"content_variant_id": str(x[0].id), "scheduled_at": (utcnow() - timedelta(minutes=5)).isoformat()},
         422, "scheduled_in_past", "body.scheduled_at"),
        ({"content_variant_id": str(x[0].id), "scheduled_at": (utcnow() + timedelta(days=91)).isoformat()},
         422, "beyond_horizon", "body.scheduled_at"),
        ({"content_variant_id": str(variants["long"][0].id), "in_seconds": 3600}, 422, "over_length", "body.content_variant_id"),
        ({"content_variant_id": str(variants["draft"][0].id), "in_seconds": 3600}, 409, "variant_not_approved",
         "body.content_variant_id"),
        ({"content_variant_id": str(variants["mastodon"][0].id), "in_seconds": 3600}, 409, "channel_not_connected",
         "body.content_variant_id"),
    ]  # fmt: skip
    for body, status, rule, field in cases:
        error = assert_error(client.post(f"{base}/publishing-jobs", headers=h, json=body), status)
        assert (error["details"]["rule"], error["details"]["field"]) == (rule, field), error
    unknown = client.post(f"{base}/publishing-jobs", headers=h, json={"content_variant_id": str(UUID(int=7)), "in_seconds": 60})
    assert assert_error(unknown, 404, "not_found")["details"]["field"] == "body.content_variant_id"
    both = client.post(f"{base}/publishing-jobs", headers=h, json={"content_variant_id": str(x[0].id), "in_seconds": 60,
                                                                    "scheduled_at": utcnow().isoformat()})  # fmt: skip
    assert_error(both, 422)
    assert await job_count(api_db, brand_id) == before

    first = client.post(f"{base}/publishing-jobs", headers=h, json={"content_variant_id": str(x[0].id), "in_seconds": 7200})
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "pending" and first.json()["channel"] == "x"
    twice = client.post(f"{base}/publishing-jobs", headers=h, json={"content_variant_id": str(x[0].id), "in_seconds": 86400})
    assert assert_error(twice, 409)["details"]["rule"] == "already_scheduled"
    close = client.post(f"{base}/publishing-jobs", headers=h, json={"content_variant_id": str(x[1].id), "in_seconds": 7300})
    assert assert_error(close, 409)["details"]["rule"] == "min_gap"
    assert await job_count(api_db, brand_id) == before + 1


async def test_cancel_reschedule_list_and_a_disconnected_channel(client, tenant_a, base, x_connection, variants, api_db):
    h = tenant_a.headers
    variant = variants["solo"][0]
    job = client.post(f"{base}/publishing-jobs", headers=h,
                      json={"content_variant_id": str(variant.id), "in_seconds": 3 * 86400}).json()  # fmt: skip
    async with api_db.connection() as conn:
        package_status = "SELECT status FROM content_packages WHERE id = $1"
        assert await conn.fetchval(package_status, variant.content_package_id) == "scheduled"
    asked = utcnow()
    moved = client.post(f"{base}/publishing-jobs/{job['id']}/reschedule", headers=h, json={"in_seconds": 4 * 86400})
    assert moved.status_code == 200, moved.text
    assert asked + timedelta(days=4) <= datetime.fromisoformat(moved.json()["scheduled_at"]) <= utcnow() + timedelta(days=4)
    too_far = client.post(f"{base}/publishing-jobs/{job['id']}/reschedule", headers=h, json={"in_seconds": 91 * 86400})
    assert assert_error(too_far, 422)["details"]["field"] == "body.in_seconds"
    listed = client.get(f"{base}/publishing-jobs", headers=h, params={"content_variant_id": str(variant.id)}).json()
    assert [j["id"] for j in listed["items"]] == [job["id"]] and listed["next_cursor"] is None
    assert client.get(f"{base}/publishing-jobs/{job['id']}", headers=h).json()["scheduled_at"] == moved.json()["scheduled_at"]

    cancelled = client.post(f"{base}/publishing-jobs/{job['id']}/cancel", headers=h)
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "canceled"
    async with api_db.connection() as conn:
        assert await conn.fetchval(package_status, variant.content_package_id) == "approved"
    assert assert_error(client.post(f"{base}/publishing-jobs/{job['id']}/cancel", headers=h), 409)["details"]["rule"] == \
        "cancel_pending_only"
    assert_error(client.post(f"{base}/publishing-jobs/{UUID(int=9)}/cancel", headers=h), 404, "not_found")

    # The LinkedIn channel connected, then disconnected: scheduling there is refused by name.
    linkedin = client.post(f"{base}/channels", headers=h, json={
        "adapter": "linkedin", "account_ref": "urn:li:person:8fa2", "access_token": "li-token-1"}).json()  # fmt: skip
    off = client.post(f"{base}/channels/{linkedin['id']}/disconnect", headers=h)
    assert off.status_code == 200 and off.json()["status"] == "disconnected"
    refused = client.post(f"{base}/publishing-jobs", headers=h,
                          json={"content_variant_id": str(variants["linkedin"][0].id), "in_seconds": 3600})  # fmt: skip
    assert assert_error(refused, 409)["details"]["rule"] == "channel_not_connected"


async def test_a_published_job_shows_its_attempt_on_the_calendar(client, tenant_a, base, variants, api_db, api_settings,
                                                                 tmp_path):  # fmt: skip
    h = tenant_a.headers
    outbox = client.post(f"{base}/channels", headers=h, json={"adapter": "outbox", "channel": "mastodon"})
    assert outbox.status_code == 201 and outbox.json()["endpoint"] is None
    variant = variants["mastodon"][0]
    job = client.post(f"{base}/publishing-jobs", headers=h, json={"content_variant_id": str(variant.id), "in_seconds": 60}).json()
    async with api_db.connection() as conn:  # due now, instead of waiting a minute
        await conn.execute("UPDATE publishing_jobs SET scheduled_at = now() - interval '1 second' WHERE id = $1", UUID(job["id"]))
    async with aiohttp.ClientSession() as session:
        loop = PublishLoop(api_db, token_cipher(api_settings), session,
                           PublisherConfig(owner="api-test", outbox_dir=tmp_path, batch=50))  # fmt: skip
        assert await loop.run_once() >= 1
    published = client.get(f"{base}/publishing-jobs/{job['id']}", headers=h).json()
    assert published["status"] == "success"
    attempts = client.get(f"{base}/publishing-jobs/{job['id']}/attempts", headers=h).json()["items"]
    assert [a["status"] for a in attempts] == ["success"] and attempts[0]["external_post_id"].startswith("outbox:")
    lines = (tmp_path / f"{tenant_a.brand['id']}.jsonl").read_text().splitlines()
    assert len(lines) == 1 and variant.body in lines[0]

    calendar = client.get(f"{base}/calendar", headers=h, params={"days": 10}).json()
    entries = {e["job"]["id"]: e for e in calendar["items"]}
    assert entries[job["id"]]["attempts"][0]["id"] == attempts[0]["id"] and entries[job["id"]]["body"] == variant.body
    assert calendar["truncated"] is False
    only_mastodon = client.get(f"{base}/calendar", headers=h, params={"days": 10, "channel": "mastodon"}).json()["items"]
    assert [e["job"]["id"] for e in only_mastodon] == [job["id"]]
    pending = client.get(f"{base}/calendar", headers=h, params={"days": 10, "status": "pending"}).json()["items"]
    assert job["id"] not in [e["job"]["id"] for e in pending] and pending
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    later = client.get(f"{base}/calendar", headers=h, params={"start": tomorrow, "days": 1}).json()["items"]
    assert job["id"] not in [e["job"]["id"] for e in later]
    assert assert_error(client.get(f"{base}/calendar", headers=h, params={"start": "2026-02-30"}), 422)["details"]["field"] == \
        "query.start"
    assert_error(client.get(f"{base}/calendar", headers=h, params={"days": 93}), 422)


def test_another_tenant_sees_nothing(client, tenant_b, base, x_connection):
    assert_error(client.get(f"{base}/channels/{x_connection['id']}", headers=tenant_b.headers), 404)
    assert_error(client.get(f"{base}/calendar", headers=tenant_b.headers), 404)
    own = f"/v1/brands/{tenant_b.brand['id']}"
    assert_error(client.get(f"{own}/channels/{x_connection['id']}", headers=tenant_b.headers), 404)
    assert client.get(f"{own}/channels", headers=tenant_b.headers).json()["items"] == []
