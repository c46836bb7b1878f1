"""The fetcher's address policy over real sockets: a public-only fetcher connects to no private,
loopback, link-local or reserved address (by name, by literal or through a redirect) unless its
network is allowed, and a deployment's default is public-only."""

from __future__ import annotations

import pytest
from aiohttp import web
from pydantic import ValidationError

from agents.ingest.fetch import AddressGuard, FetchConfig, Fetcher, FetchRequest
from runtime.settings import Settings
from storage.errors import Invalid

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("address", "permitted"),
    [
        ("127.0.0.1", False), ("10.1.2.3", False), ("192.168.0.10", False), ("172.16.5.4", False),
        ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("::1", False),
        ("fe80::1%eth0", False), ("fd12:3456::1", False), ("::ffff:127.0.0.1", False), ("::ffff:10.0.0.1", False),
        ("93.184.216.34", True), ("8.8.8.8", True), ("2606:4700:4700::1111", True), ("::ffff:8.8.8.8", True),
    ],
)  # fmt: skip
def test_only_global_addresses_are_permitted(address, permitted):
    assert AddressGuard().permits(address) is permitted


def test_an_allowed_network_is_permitted_and_a_bad_one_refused():
    guard = AddressGuard(("10.20.0.0/16", "fd00::/8"))
    assert guard.permits("10.20.3.4") and guard.permits("fd00::5")
    assert not guard.permits("10.21.0.1") and not guard.permits("127.0.0.1")
    with pytest.raises(Invalid) as bad:
        FetchConfig(public_only=True, allowed_networks=("10.20.0.0/33",))
    assert bad.value.details["field"] == "allowed_networks"


def test_a_deployment_fetches_public_addresses_only_by_default():
    fields = Settings.model_fields
    assert fields["fetch_public_only"].default is True and fields["fetch_allowed_networks"].default_factory() == []
    config = Settings(fetch_allowed_networks=["10.20.0.0/16"]).fetch_config(timeout_seconds=2.0)
    assert config.public_only and config.allowed_networks == ("10.20.0.0/16",) and config.timeout_seconds == 2.0
    with pytest.raises(ValidationError, match="not a network"):
        Settings(fetch_allowed_networks=["intranet"])


async def _serve(host: str, routes: dict) -> tuple[web.AppRunner, str, list[str]]:
    seen: list[str] = []
    app = web.Application()
    for path, make in routes.items():
        async def handler(request: web.Request, make=make) -> web.Response:
            seen.append(request.path)
            return make()

        app.router.add_get(path, handler)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    return runner, f"http://{host}:{site._server.sockets[0].getsockname()[1]}", seen  # type: ignore[union-attr]


async def test_internal_addresses_are_refused_before_any_request_even_after_a_redirect():
    inner, inner_url, inner_seen = await _serve("127.0.0.1", {"/secret": lambda: web.Response(text="internal")})
    outer, outer_url, outer_seen = await _serve("127.0.0.2", {
        "/page": lambda: web.Response(text="<p>public page</p>", content_type="text/html"),
        "/moved": lambda: web.Response(status=302, headers={"Location": f"{inner_url}/secret"}),
    })  # fmt: skip
    try:
        async with Fetcher(FetchConfig(public_only=True, timeout_seconds=2.0)) as public:
            for url in (f"{inner_url}/secret", f"http://localhost:{inner_url.rsplit(':', 1)[1]}/secret"):
                result = await public.fetch(FetchRequest(url=url))
                assert (result.outcome, result.error_code) == ("error", "blocked_address"), url
                assert "public addresses only" in result.error
        # 127.0.0.2 stands in for a public host: allowed, while 127.0.0.1 stays internal
        async with Fetcher(FetchConfig(public_only=True, allowed_networks=("127.0.0.2/32",), timeout_seconds=2.0)) as f:
            assert (await f.fetch(FetchRequest(url=f"{outer_url}/page"))).outcome == "ok"
            moved = await f.fetch(FetchRequest(url=f"{outer_url}/moved"))
            assert (moved.outcome, moved.error_code) == ("error", "blocked_address")
        assert inner_seen == [] and outer_seen == ["/page", "/moved"]
        async with Fetcher(FetchConfig(timeout_seconds=2.0)) as anywhere:  # no policy: tools, tests
            assert (await anywhere.fetch(FetchRequest(url=f"{outer_url}/moved"))).outcome == "ok"
        assert inner_seen == ["/secret"]
    finally:
        await inner.cleanup()
        await outer.cleanup()


async def test_the_feed_poller_fetches_with_the_deployments_policy():
    from runtime.scheduler import FeedPoller

    poller = FeedPoller(Settings(fetch_allowed_networks=["10.20.0.0/16"]), engines=None)
    try:
        assert poller.fetcher.config.public_only and poller.fetcher.config.allowed_networks == ("10.20.0.0/16",)
    finally:
        await poller.fetcher.close()
    assert not FeedPoller(Settings(fetch_public_only=False), engines=None).fetcher.config.public_only


async def test_a_publisher_session_posts_to_no_internal_endpoint():
    """A connection's endpoint is the tenant's: the publisher's session (runtime.publisher) keeps
    the deployment's policy, and a create to an internal address fails for good, unsent."""
    from datetime import UTC, datetime

    from agents.publisher.adapters.base import Credentials, PostRequest
    from agents.publisher.adapters.webhook import WebhookAdapter
    from agents.publisher.outcomes import Outcome
    from runtime.fakes import FakeWebhookReceiver
    from runtime.publisher import tenant_session

    hook = FakeWebhookReceiver(secret="s3cret")
    await hook.start()
    now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    post = PostRequest(job_id="job-1", text="to the hook", channel="webhook", scheduled_at=now, created_at=now)
    creds = Credentials(endpoint=f"{hook.url}/hook", secret="s3cret")
    try:
        async with tenant_session(Settings(fetch_allowed_networks=[])) as guarded:
            refused = await WebhookAdapter(guarded, timeout=2.0).publish(creds, post)
        assert (refused.outcome, refused.error_code) == (Outcome.PERMANENT, "blocked_address")
        assert hook.received == 0
        async with tenant_session(Settings(fetch_allowed_networks=["127.0.0.0/8"])) as allowed:
            assert (await WebhookAdapter(allowed, timeout=2.0).publish(creds, post)).outcome is Outcome.PUBLISHED
        assert hook.received == 1
    finally:
        await hook.stop()
