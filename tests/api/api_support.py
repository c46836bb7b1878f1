"""What the API tests inject into the Serve replica, and small HTTP helpers.

Ray workers cannot import this test module, so its functions are pickled by value.
"""

from __future__ import annotations

import json

import sys
import uuid
from pathlib import Path
from typing import Any

import httpx
from ray import cloudpickle

from runtime.settings import Settings
from storage.postgres import Database


def hashing_engines(settings: Settings) -> Any:
    """Engines inside the brand host with a model-free embedder: fast and deterministic."""
    from runtime.local import LocalEngines
    from storage.memory import HashingEmbedder

    return LocalEngines(HashingEmbedder())


def agent_gateway(settings: Settings, db: Database) -> Any:
    """The real gateway: brand agents in BrandHost actors (in the test's own Ray namespace)."""
    from runtime.hosts import RayAgentGateway

    return RayAgentGateway(settings, engines_factory=hashing_engines)


async def memory_client(chroma_dir: Path, db: Database) -> Any:
    """A real MemoryStore inside the replica: embedded Chroma in a temp dir and MiniLM."""
    from runtime.local import LocalMemory
    from storage.memory import Embedder, VectorIndex
    from storage.memory.store import MemoryStore

    embedder = Embedder(num_threads=1)
    index = await VectorIndex.open(path=chroma_dir, embedder=embedder)
    return LocalMemory(MemoryStore(db, index, embedder))


cloudpickle.register_pickle_by_value(sys.modules[__name__])

# -- HTTP helpers -----------------------------------------------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def tag() -> str:
    return uuid.uuid4().hex[:8]


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is ``status`` in the one error envelope; returns the error object."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    if code is not None:
        assert error["code"] == code, error
    return error


def brand_body(slug: str | None = None, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "Acme Analytics",
        "slug": slug or f"acme-{tag()}",
        "primary_channels": ["linkedin", "x"],
        "positioning": "Marketing analytics that boards trust.",
        "tone_descriptors": ["plain", "confident"],
        "personas": [{"name": "Growth CMO", "description": "Runs marketing at a scale-up.",
                      "pain_points": ["Attribution noise"], "goals": ["Show pipeline impact"]}],
        "pillars": [{"name": "Attribution", "description": "Measuring what marketing moves.", "priority": 2}],
    }  # fmt: skip
    return {**body, **overrides}


class Tenant:
    """An org created through the API, with its admin's key and (once onboarded) a brand."""

    def __init__(self, client: httpx.Client, operator_token: str) -> None:
        self.client = client
        slug = f"org-{tag()}"
        org = {"name": f"Org {slug}", "slug": slug, "admin_email": f"admin@{slug}.example"}
        response = client.post("/v1/orgs", headers=bearer(operator_token), json=org)
        assert response.status_code == 201, response.text
        created = response.json()
        self.org = created["org"]
        self.admin = created["admin"]
        self.admin_key = created["api_key"]
        self.token = created["token"]
        self.headers = bearer(self.token)
        self.brand: dict[str, Any] | None = None
        self.onboarded: dict[str, Any] | None = None

    def onboard(self, **overrides: Any) -> dict[str, Any]:
        response = self.client.post("/v1/brands", headers=self.headers, json=brand_body(**overrides))
        assert response.status_code == 201, response.text
        self.onboarded = response.json()
        self.brand = self.onboarded["brand"]
        return self.onboarded

    def user(self, role: str, brand_role: str | None = None) -> tuple[dict[str, Any], dict[str, str]]:
        """A new user of the org with ``role`` (and a membership on the brand), and its key."""
        response = self.client.post("/v1/users", headers=self.headers,
                                    json={"email": f"{role}-{tag()}@example.com", "role": role})  # fmt: skip
        assert response.status_code == 201, response.text
        user = response.json()
        if brand_role is not None:
            assert self.brand is not None
            member = self.client.post(f"/v1/brands/{self.brand['id']}/members", headers=self.headers,
                                      json={"user_id": user["id"], "role": brand_role})  # fmt: skip
            assert member.status_code == 201, member.text
        key = self.client.post(f"/v1/users/{user['id']}/api-keys", headers=self.headers, json={"name": "test"})
        assert key.status_code == 201, key.text
        return user, bearer(key.json()["token"])


SWIPE = Path(__file__).resolve().parents[1] / "data" / "miner" / "swipe_posts.jsonl"


def mined_template(client, tenant) -> str:
    """A pattern template of the tenant's brand, mined from posts of one planted structure."""
    rows = [json.loads(line) for line in SWIPE.read_text().splitlines() if line.strip()]
    same = [r for r in rows if r["structure"] == rows[0]["structure"]]
    content = "\n".join(json.dumps({"raw_text": r["raw_text"], "channel": r["channel"]}) for r in same)
    base = f"/v1/brands/{tenant.brand['id']}/patterns"
    assert client.post(f"{base}/posts", headers=tenant.headers, json={"format": "jsonl", "content": content}).status_code == 201
    assert client.post(f"{base}/runs", headers=tenant.headers).json()["templates"] >= 1
    return client.get(f"{base}/templates", headers=tenant.headers, params={"scope": "brand"}).json()["items"][0]["id"]


SCOUTED_ARTICLE = (
    "Finance teams now ask marketing for pipeline by stage, not clicks. Analysts who rebuilt multi-touch "
    "attribution on first-party CRM events found that webinars and partner referrals started most of the "
    "deals that last-click reports had credited to paid search."
)


def scouted_card(client: httpx.Client, tenant: Tenant) -> str:
    """An opportunity card of the tenant's brand, scouted from an article on its pillar."""
    base = f"/v1/brands/{tenant.brand['id']}"
    added = client.post(f"{base}/sources", headers=tenant.headers, json={"items": [{"text": SCOUTED_ARTICLE}]})
    assert added.status_code == 201, added.text
    assert client.post(f"{base}/scout", headers=tenant.headers).status_code == 201
    cards = client.get(f"{base}/opportunities", headers=tenant.headers).json()["items"]
    assert cards, "the article on the brand's pillar made no card"
    return cards[0]["id"]


def subscribed_feed(client: httpx.Client, tenant: Tenant) -> str:
    """A feed subscription of the tenant's brand (a local URL nothing answers: it only fails)."""
    added = client.post(f"/v1/brands/{tenant.brand['id']}/feeds", headers=tenant.headers,
                        json={"url": "http://127.0.0.1:9/kairo-test-feed.rss"})  # fmt: skip
    assert added.status_code == 201, added.text
    return added.json()["feed"]["id"]


def checked_report(client: httpx.Client, tenant: Tenant) -> str:
    """A stored quality report of the tenant's brand: the check of a draft through the gates."""
    checked = client.post(f"/v1/brands/{tenant.brand['id']}/gates/check", headers=tenant.headers,
                          json={"channel": "x", "text": "Pipeline by stage beats clicks, every quarter."})  # fmt: skip
    assert checked.status_code == 200, checked.text
    return checked.json()["report_id"]


async def scheduled_job(client: httpx.Client, tenant: Tenant, db: Database) -> dict[str, str]:
    """A channel connection (the outbox, for X) and a pending publishing job of the tenant's brand,
    its approved variant inserted directly until packages are made through the API."""
    from uuid import UUID

    from runtime.fakes.world import brand_variants

    base = f"/v1/brands/{tenant.brand['id']}"
    connected = client.post(f"{base}/channels", headers=tenant.headers, json={"adapter": "outbox", "channel": "x"})
    assert connected.status_code == 201, connected.text
    async with db.transaction() as conn:
        variant = (await brand_variants(conn, UUID(tenant.brand["id"]), "x", ["Pipeline by stage beats clicks."]))[0]
    job = client.post(f"{base}/publishing-jobs", headers=tenant.headers,
                      json={"content_variant_id": str(variant.id), "in_seconds": 30 * 86400})  # fmt: skip
    assert job.status_code == 201, job.text
    return {"channel_config_id": connected.json()["id"], "job_id": job.json()["id"]}


PACKAGE_ARTICLE = (Path(__file__).parents[1] / "data" / "writer" / "attribution_article.txt").read_text()


def written_package(client: httpx.Client, tenant: Tenant) -> dict[str, str]:
    """A package of the tenant's brand written through the API (LinkedIn and X, two variants
    each) from the card scouted on an article of the brand's pillar: its id, a variant, a plan."""
    base = f"/v1/brands/{tenant.brand['id']}"
    mined_template(client, tenant)
    added = client.post(f"{base}/sources", headers=tenant.headers,
                        json={"items": [{"text": PACKAGE_ARTICLE, "title": "Why attribution reports lose the board"}]})  # fmt: skip
    assert added.status_code == 201, added.text
    doc_id = (added.json()["stored"] or [m["doc_id"] for m in added.json()["merged"]])[0]
    assert client.post(f"{base}/scout", headers=tenant.headers).status_code == 201
    cards = client.get(f"{base}/opportunities", headers=tenant.headers, params={"limit": 200}).json()["items"]
    card = next(c for c in cards if any(r["global_source_doc_id"] == doc_id for r in c["source_refs"]))
    made = client.post(f"{base}/packages", headers=tenant.headers, json={
        "source": {"kind": "card", "card_id": card["id"]}, "channels": {"linkedin": {}, "x": {}}})  # fmt: skip
    assert made.status_code == 201, made.text
    view = made.json()
    return {"package_id": view["package"]["id"], "variant_id": view["variants"][0]["variant"]["id"],
            "plan_id": view["plans"][0]["id"], "card_id": card["id"]}  # fmt: skip


def generation_session(client: httpx.Client, tenant: Tenant) -> str:
    """The id of the tenant's brand's newest generation round (write a package first)."""
    listed = client.get(f"/v1/brands/{tenant.brand['id']}/generation-sessions", headers=tenant.headers)
    assert listed.status_code == 200 and listed.json()["items"], listed.text
    return listed.json()["items"][0]["id"]
