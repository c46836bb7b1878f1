"""Every adapter against its fake over real HTTP on 127.0.0.1: success shapes, each error path
of platform-apis.md, and each fault mode mapped to the outcome that keeps publishing exactly-once."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from agents.publisher.adapters import Credentials, PostRequest
from agents.publisher.adapters.bluesky import BlueskyAdapter, facets, record_key
from agents.publisher.adapters.linkedin import LinkedInAdapter, escape_little_text
from agents.publisher.adapters.mastodon import MastodonAdapter
from agents.publisher.adapters.outbox import OutboxAdapter
from agents.publisher.adapters.webhook import WebhookAdapter
from agents.publisher.adapters.x import XAdapter
from agents.publisher.outcomes import Outcome, RefreshFailed
from runtime.fakes import FakeBluesky, FakeLinkedIn, FakeMastodon, FakeWebhookReceiver, FakeX

TIMEOUT = 0.5  # the client's timeout; the fakes' delay fault holds the answer longer


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


async def started(fake):
    await fake.start()
    fake.faults.delay_seconds = TIMEOUT * 3
    return fake


def request(text: str, job: str = "job-1") -> PostRequest:
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    return PostRequest(job_id=job, text=text, channel="x", scheduled_at=now, created_at=now)


# -- X ------------------------------------------------------------------------------------------


@pytest.fixture
async def x():
    fake = await started(FakeX(create_limit=3))
    yield fake
    await fake.stop()


def x_creds(fake, grant, **kw) -> Credentials:
    return Credentials(endpoint=fake.url, account_id="42", access_token=grant["access_token"],
                       refresh_token=grant["refresh_token"], client_id="client", **kw)


async def test_x_create_success_validates_data_id_and_reads_rate_headers(x, session):
    adapter = XAdapter(session, timeout=TIMEOUT)
    result = await adapter.publish(x_creds(x, x.connect("42")), request("Hello from Kairo https://example.com"))
    assert result.outcome is Outcome.PUBLISHED
    assert result.external_id == x.posts[0]["id"] and result.external_id.isdigit()
    assert result.url.endswith(result.external_id)
    assert result.rate.limit == 3 and result.rate.remaining == 2 and result.rate.reset_at > datetime.now(UTC)


async def test_x_error_paths(x, session):
    adapter = XAdapter(session, timeout=TIMEOUT)
    creds = x_creds(x, x.connect("42"))
    bad = await adapter.publish(creds.model_copy(update={"access_token": "nope"}), request("a"))
    assert (bad.outcome, bad.error_code) == (Outcome.AUTH_EXPIRED, "unauthorized")
    assert (await adapter.publish(creds, request("first"))).outcome is Outcome.PUBLISHED
    dup = await adapter.publish(creds, request("first"))
    assert dup.outcome is Outcome.DUPLICATE and dup.external_id is None
    assert (await adapter.publish(creds, request("second"))).outcome is Outcome.PUBLISHED
    limited = await adapter.publish(creds, request("third"))  # window of 3: the duplicate counted too
    assert limited.outcome is Outcome.RATE_LIMITED and limited.error_code == "rate_limited"
    assert limited.retry_at == limited.rate.reset_at
    x.usage_capped_until = x.clock() + 86400
    capped = await adapter.publish(creds, request("fourth"))
    assert capped.error_code == "usage_capped" and capped.retry_at > datetime.now(UTC) + timedelta(hours=23)
    too_long = await adapter.publish(x_creds(x, x.connect("43")), request("界" * 160))
    assert too_long.outcome is Outcome.PERMANENT and too_long.error_code == "http_400"
    assert len(x.posts) == 2


async def test_x_missing_rate_headers_fall_back_to_a_default_reset(session):
    fake = await started(FakeX(create_limit=1, send_rate_headers=False))
    try:
        adapter = XAdapter(session, timeout=TIMEOUT)
        creds = x_creds(fake, fake.connect("42"))
        assert (await adapter.publish(creds, request("one"))).rate is None
        limited = await adapter.publish(creds, request("two"))
        assert limited.outcome is Outcome.RATE_LIMITED
        assert timedelta(minutes=14) < limited.retry_at - datetime.now(UTC) <= timedelta(minutes=15)
    finally:
        await fake.stop()


@pytest.mark.parametrize(("mode", "written", "outcome_after"), [
    ("delay", True, Outcome.PUBLISHED), ("drop", True, Outcome.PUBLISHED),
    ("error_5xx", False, Outcome.NOT_FOUND), ("reset", False, Outcome.NOT_FOUND),
])  # fmt: skip
async def test_x_faults_are_unconfirmed_and_reconcile_tells_the_truth(x, session, mode, written, outcome_after):
    adapter = XAdapter(session, timeout=TIMEOUT)
    creds = x_creds(x, x.connect("42"))
    x.faults.push(mode)
    result = await adapter.publish(creds, request(f"post under {mode}"))
    assert result.outcome is Outcome.UNCONFIRMED
    assert len(x.posts) == int(written)
    reconciled = await adapter.reconcile(creds, request(f"post under {mode}"))
    assert reconciled.outcome is outcome_after
    if written:
        assert reconciled.external_id == x.posts[0]["id"]


async def test_x_connection_refused_is_not_sent(session):
    fake = FakeX()
    url = await fake.start()
    await fake.stop()  # nothing listens there any more
    result = await XAdapter(session, timeout=TIMEOUT).publish(
        Credentials(endpoint=url, account_id="1", access_token="t"), request("x"))
    assert (result.outcome, result.error_code) == (Outcome.NOT_SENT, "connect_failed")


async def test_x_refresh_rotates_and_a_spent_refresh_token_is_refused(x, session):
    adapter = XAdapter(session, timeout=TIMEOUT)
    grant = x.connect("42")
    creds = x_creds(x, grant)
    x.tokens.expire_all()
    assert (await adapter.publish(creds, request("expired"))).outcome is Outcome.AUTH_EXPIRED
    fresh = await adapter.refresh(creds)
    assert fresh.refresh_token and fresh.refresh_token != grant["refresh_token"]
    assert fresh.expires_at - datetime.now(UTC) > timedelta(hours=1)
    assert (await adapter.publish(creds.model_copy(update={"access_token": fresh.access_token}), request("ok"))).outcome \
        is Outcome.PUBLISHED
    with pytest.raises(RefreshFailed) as spent:
        await adapter.refresh(creds)  # the old refresh token was single-use
    assert spent.value.code == "invalid_request"


async def test_x_refuses_unknown_body_keys(x, session):
    grant = x.connect("42")
    async with session.post(f"{x.url}/2/tweets", json={"text": "hi", "colour": "red"},
                            headers={"Authorization": f"Bearer {grant['access_token']}"}) as resp:
        body = await resp.json()
    assert resp.status == 400 and "colour" in body["detail"] and body["type"] == "about:blank"


# -- LinkedIn -----------------------------------------------------------------------------------

AUTHOR = "urn:li:person:abc123"


@pytest.fixture
async def linkedin():
    fake = await started(FakeLinkedIn(posts_per_day=3))
    yield fake
    await fake.stop()


def li_creds(fake, grant) -> Credentials:
    return Credentials(endpoint=fake.url, account_id=AUTHOR, access_token=grant["access_token"],
                       refresh_token=grant["refresh_token"], client_id="c", client_secret="s")


def test_little_text_escapes_backslash_first():
    assert escape_little_text(r"a\b (c) #d @e_f") == r"a\\b \(c\) \#d \@e\_f"
    assert escape_little_text("plain text") == "plain text"


async def test_linkedin_success_reads_the_urn_from_x_restli_id_and_is_not_truncated(linkedin, session):
    adapter = LinkedInAdapter(session, timeout=TIMEOUT)
    text = "Ship it (today) #launch @team [v2] {x} <b> *bold* _it_ ~s~ a|b back\\slash"
    result = await adapter.publish(li_creds(linkedin, linkedin.connect(AUTHOR)), request(text))
    assert result.outcome is Outcome.PUBLISHED and result.external_id.startswith("urn:li:share:")
    assert result.external_id == linkedin.posts[0]["id"]
    assert linkedin.posts[0]["text"] == text  # shown in full: every reserved character was escaped


async def test_linkedin_unescaped_text_is_silently_truncated_by_the_fake(linkedin, session):
    grant = linkedin.connect(AUTHOR)
    adapter = LinkedInAdapter(session, timeout=TIMEOUT)
    body = adapter.body(li_creds(linkedin, grant), request("x"))
    body["commentary"] = "Before the (parenthesis) after"
    async with session.post(f"{linkedin.url}/rest/posts", json=body, headers={
            "Authorization": f"Bearer {grant['access_token']}", "LinkedIn-Version": "202510",
            "X-Restli-Protocol-Version": "2.0.0"}) as resp:
        assert resp.status == 201 and await resp.text() == ""
    assert linkedin.posts[0]["text"] == "Before the "


async def test_linkedin_error_paths(linkedin, session):
    grant = linkedin.connect(AUTHOR)
    creds = li_creds(linkedin, grant)
    adapter = LinkedInAdapter(session, timeout=TIMEOUT)
    first = await adapter.publish(creds, request("only once"))
    dup = await adapter.publish(creds, request("only once"))
    assert dup.outcome is Outcome.DUPLICATE and dup.external_id == first.external_id  # the URN from the message
    revoked = await adapter.publish(creds.model_copy(update={"access_token": "bad"}), request("z"))
    assert revoked.outcome is Outcome.AUTH_EXPIRED and revoked.error_code == "unauthorized_65600"

    class OldVersion(LinkedInAdapter):
        version = "202301"

    retired = await OldVersion(session, timeout=TIMEOUT).publish(creds, request("v"))
    assert (retired.outcome, retired.error_code) == (Outcome.PERMANENT, "nonexistent_version")
    async with session.post(f"{linkedin.url}/rest/posts", json=adapter.body(creds, request("v")),
                            headers={"Authorization": f"Bearer {grant['access_token']}"}) as resp:
        assert resp.status == 400 and (await resp.json())["code"] == "VERSION_MISSING"
    long = await adapter.publish(creds, request("a" * 3001))
    assert long.outcome is Outcome.PERMANENT
    assert (await adapter.publish(creds, request("two"))).outcome is Outcome.PUBLISHED
    assert (await adapter.publish(creds, request("three"))).outcome is Outcome.PUBLISHED
    throttled = await adapter.publish(creds, request("four"))
    assert throttled.outcome is Outcome.RATE_LIMITED and throttled.retry_at.time().hour == 0
    assert throttled.retry_at > datetime.now(UTC) and throttled.rate is None


@pytest.mark.parametrize(("mode", "written"), [("delay", True), ("drop", True), ("error_5xx", False), ("reset", False)])
async def test_linkedin_faults_and_reconcile(linkedin, session, mode, written):
    creds = li_creds(linkedin, linkedin.connect(AUTHOR))
    adapter = LinkedInAdapter(session, timeout=TIMEOUT)
    linkedin.faults.push(mode)
    text = f"Under {mode} (with parens)"
    assert (await adapter.publish(creds, request(text))).outcome is Outcome.UNCONFIRMED
    found = await adapter.reconcile(creds, request(text))
    assert found.outcome is (Outcome.PUBLISHED if written else Outcome.NOT_FOUND)
    if written:  # and a duplicate answer after the unconfirmed attempt names the same post
        again = await adapter.publish(creds, request(text))
        assert again.outcome is Outcome.DUPLICATE and again.external_id == found.external_id
    assert len(linkedin.posts) == int(written)


async def test_linkedin_refresh_keeps_the_refresh_token(linkedin, session):
    grant = linkedin.connect(AUTHOR)
    fresh = await LinkedInAdapter(session, timeout=TIMEOUT).refresh(li_creds(linkedin, grant))
    assert fresh.access_token != grant["access_token"]
    assert fresh.refresh_token == grant["refresh_token"]
    assert fresh.expires_at - datetime.now(UTC) > timedelta(days=59)


# -- Mastodon ------------------------------------------------------------------------------------


@pytest.fixture
async def mastodon():
    fake = await started(FakeMastodon(limit=4))
    yield fake
    await fake.stop()


def m_creds(fake, grant) -> Credentials:
    return Credentials(endpoint=fake.url, account_id="alice", access_token=grant["access_token"])


async def test_mastodon_idempotency_key_is_stable_per_post_and_new_per_text():
    a, b = request("same text"), request("same text")
    assert a.post_key == b.post_key
    assert request("changed text").post_key != a.post_key
    assert request("same text", job="job-2").post_key != a.post_key


@pytest.mark.parametrize("mode", ["delay", "drop", "error_5xx", "reset"])
async def test_mastodon_faults_reconcile_by_resending_the_same_key(mastodon, session, mode):
    creds = m_creds(mastodon, mastodon.connect("alice"))
    adapter = MastodonAdapter(session, timeout=TIMEOUT)
    mastodon.faults.push(mode)
    assert (await adapter.publish(creds, request("toot"))).outcome is Outcome.UNCONFIRMED
    found = await adapter.reconcile(creds, request("toot"))
    assert found.outcome is Outcome.PUBLISHED
    assert [p["id"] for p in mastodon.posts] == [found.external_id]  # exactly one status


async def test_mastodon_repeat_key_returns_the_original_even_with_other_text(mastodon, session):
    grant = mastodon.connect("alice")
    headers = {"Authorization": f"Bearer {grant['access_token']}", "Idempotency-Key": "k1"}
    async with session.post(f"{mastodon.url}/api/v1/statuses", json={"status": "one"}, headers=headers) as r1:
        first = await r1.json()
    async with session.post(f"{mastodon.url}/api/v1/statuses", json={"status": "two"}, headers=headers) as r2:
        second = await r2.json()
    assert first["id"] == second["id"] and len(mastodon.posts) == 1
    mastodon.clock = lambda: 10**10  # the window is an hour
    mastodon.window.clock = mastodon.clock
    async with session.post(f"{mastodon.url}/api/v1/statuses", json={"status": "two"}, headers=headers) as r3:
        assert (await r3.json())["id"] != first["id"]


async def test_mastodon_error_paths(mastodon, session):
    creds = m_creds(mastodon, mastodon.connect("alice"))
    adapter = MastodonAdapter(session, timeout=TIMEOUT)
    ok = await adapter.publish(creds, request("hello " + "x" * 470 + " https://example.com/" + "y" * 100))
    assert ok.outcome is Outcome.PUBLISHED and ok.rate.remaining == 3  # the URL counted as 23
    too_long = await adapter.publish(creds, request("z" * 501))
    assert too_long.outcome is Outcome.PERMANENT and "500" in too_long.message
    revoked = await adapter.publish(creds.model_copy(update={"access_token": "nope"}), request("r"))
    assert revoked.outcome is Outcome.PERMANENT and revoked.revoked
    await adapter.publish(creds, request("three"))
    await adapter.publish(creds, request("four"))
    limited = await adapter.publish(creds, request("five"))
    assert limited.outcome is Outcome.RATE_LIMITED and limited.retry_at > datetime.now(UTC)


# -- Bluesky ------------------------------------------------------------------------------------


@pytest.fixture
async def bluesky():
    fake = await started(FakeBluesky(points_per_hour=6))
    yield fake
    await fake.stop()


async def bsky_creds(fake, session) -> Credentials:
    async with session.post(f"{fake.url}/xrpc/com.atproto.server.createSession",
                            json={"identifier": "kairo.bsky.social", "password": "pw"}) as resp:
        body = await resp.json()
    return Credentials(endpoint=fake.url, account_id=body["did"], access_token=body["accessJwt"],
                       refresh_token=body["refreshJwt"])


def test_facets_use_utf8_byte_offsets():
    text = "Café ☕ see https://example.com/ü and more"
    (link,) = facets(text)
    start, end = link["index"]["byteStart"], link["index"]["byteEnd"]
    assert text.encode()[start:end].decode() == "https://example.com/ü"
    assert start != text.index("https")  # the characters before are multi-byte
    mention = facets("hi @alice.bsky.social!", {"alice.bsky.social": "did:plc:alice"})
    assert mention[0]["features"][0]["did"] == "did:plc:alice"


def test_record_key_is_a_stable_tid():
    at = datetime(2026, 1, 2, tzinfo=UTC)
    assert record_key("job-1", at) == record_key("job-1", at)
    assert record_key("job-1", at) != record_key("job-2", at)
    assert len(record_key("job-1", at)) == 13


async def test_bluesky_put_record_with_facets_is_idempotent(bluesky, session):
    creds = await bsky_creds(bluesky, session)
    adapter = BlueskyAdapter(session, timeout=TIMEOUT)
    post = request("Naïve résumé ✨ https://kairo.example/ünïcode ok")
    first = await adapter.publish(creds, post)
    second = await adapter.publish(creds, post)
    assert first.outcome is second.outcome is Outcome.PUBLISHED
    assert first.external_id == second.external_id and len(bluesky.posts) == 1
    assert bluesky.posts[0]["record"]["facets"][0]["features"][0]["uri"] == "https://kairo.example/ünïcode"


async def test_bluesky_error_paths(bluesky, session):
    creds = await bsky_creds(bluesky, session)
    adapter = BlueskyAdapter(session, timeout=TIMEOUT)
    long = await adapter.publish(creds, request("é" * 301))
    assert (long.outcome, long.error_code) == (Outcome.PERMANENT, "invalidrecord")
    bluesky.tokens.expire_all()
    expired = await adapter.publish(creds, request("later"))
    assert (expired.outcome, expired.error_code) == (Outcome.AUTH_EXPIRED, "expiredtoken")
    grant = await adapter.refresh(creds)
    assert grant.refresh_token != creds.refresh_token
    with pytest.raises(RefreshFailed):
        await adapter.refresh(creds)  # the old refresh JWT was rotated away
    fresh = creds.model_copy(update={"access_token": grant.access_token})
    for i in range(3):  # 6 points per hour, a put costs 2
        assert (await adapter.publish(fresh, request(f"p{i}", job=f"j{i}"))).outcome is Outcome.PUBLISHED
    limited = await adapter.publish(fresh, request("p4", job="j4"))
    assert limited.outcome is Outcome.RATE_LIMITED and limited.rate.remaining == 0


@pytest.mark.parametrize(("mode", "written"), [("delay", True), ("drop", True), ("error_5xx", False), ("reset", False)])
async def test_bluesky_faults_and_reconcile_by_get_record(bluesky, session, mode, written):
    creds = await bsky_creds(bluesky, session)
    adapter = BlueskyAdapter(session, timeout=TIMEOUT)
    bluesky.faults.push(mode)
    assert (await adapter.publish(creds, request("skeet"))).outcome is Outcome.UNCONFIRMED
    found = await adapter.reconcile(creds, request("skeet"))
    assert found.outcome is (Outcome.PUBLISHED if written else Outcome.NOT_FOUND)
    assert len(bluesky.posts) == int(written)


# -- webhook and outbox ---------------------------------------------------------------------------


@pytest.fixture
async def hook():
    fake = await started(FakeWebhookReceiver(secret="s3cret"))
    yield fake
    await fake.stop()


async def test_webhook_is_signed_and_repeats_are_dropped(hook, session):
    adapter = WebhookAdapter(session, timeout=TIMEOUT)
    creds = Credentials(endpoint=f"{hook.url}/hook", secret="s3cret")
    first = await adapter.publish(creds, request("to the hook"))
    again = await adapter.publish(creds, request("to the hook"))
    assert first.outcome is Outcome.PUBLISHED and first.external_id == again.external_id
    assert len(hook.deliveries) == 1 and hook.received == 2
    wrong = await adapter.publish(creds.model_copy(update={"secret": "wrong"}), request("forged"))
    assert wrong.outcome is Outcome.PERMANENT and wrong.error_code == "http_401"


@pytest.mark.parametrize("mode", ["delay", "drop", "error_5xx", "reset"])
async def test_webhook_faults_reconcile_by_redelivery(hook, session, mode):
    adapter = WebhookAdapter(session, timeout=TIMEOUT)
    creds = Credentials(endpoint=f"{hook.url}/hook", secret="s3cret")
    hook.faults.push(mode)
    assert (await adapter.publish(creds, request("hooked"))).outcome is Outcome.UNCONFIRMED
    assert (await adapter.reconcile(creds, request("hooked"))).outcome is Outcome.PUBLISHED
    assert len(hook.deliveries) == 1


async def test_outbox_appends_one_line_per_post(tmp_path, session):
    path = tmp_path / "outbox" / "posts.jsonl"
    adapter = OutboxAdapter(session)
    creds = Credentials(endpoint=str(path))
    assert (await adapter.reconcile(creds, request("line"))).outcome is Outcome.NOT_FOUND
    first = await adapter.publish(creds, request("line"))
    second = await adapter.publish(creds, request("line"))
    await adapter.publish(creds, request("another", job="job-2"))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [entry["text"] for entry in lines] == ["line", "another"]
    assert first.external_id == second.external_id
    assert (await adapter.reconcile(creds, request("line"))).outcome is Outcome.PUBLISHED


async def test_outbox_survives_a_torn_last_line(tmp_path, session):
    path = tmp_path / "torn.jsonl"
    path.write_text('{"key": "half-writ')  # a crash mid-line
    adapter = OutboxAdapter(session)
    creds = Credentials(endpoint=str(path))
    assert (await adapter.publish(creds, request("after the crash"))).outcome is Outcome.PUBLISHED
    assert (await adapter.publish(creds, request("after the crash"))).outcome is Outcome.PUBLISHED
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["text"] == "after the crash"


async def test_outbox_writes_posts_that_arrive_together_once_each(tmp_path, session, monkeypatch):
    """Group commit: concurrent posts share fsyncs, a post sent twice at once is one line, and a
    second writer on the same file (another publisher) finds what the first wrote."""
    import os

    from agents.publisher.adapters import outbox

    fsyncs = []
    real_fsync = os.fsync
    monkeypatch.setattr(outbox.os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd)))
    path = tmp_path / "group.jsonl"
    adapter = OutboxAdapter(session)
    creds = Credentials(endpoint=str(path))
    posts = [request(f"post {i}", job=f"job-{i}") for i in range(40)]
    results = await asyncio.gather(*(adapter.publish(creds, p) for p in posts + posts[:10]))
    assert all(r.outcome is Outcome.PUBLISHED for r in results)
    assert [r.external_id for r in results[40:]] == [r.external_id for r in results[:10]]
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert sorted(e["text"] for e in lines) == sorted(p.text for p in posts)
    assert 1 <= len(fsyncs) < 40
    outbox._WRITERS.clear()  # a fresh writer, as another process would have, reads the file
    again = await adapter.publish(creds, posts[3])
    assert again.outcome is Outcome.PUBLISHED and len(path.read_text().splitlines()) == 40
