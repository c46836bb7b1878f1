"""POST /v1/brands/{id}/memory:batch through the real Serve proxy: many fragments, one embedding
batch, rows and vectors together or neither, one event, a configurable size limit, per brand.

The replica's memory is a real MemoryStore (embedded Chroma + MiniLM) whose row write can be
made to fail on demand (a fragment tagged ``inject-row-failure``): the failure then falls
between the vector write and the row write, the worst place for it.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path
from typing import Any

import chromadb
import pytest
import ray
from ray import cloudpickle

from runtime import names
from runtime.api.app import api_application
from storage.errors import UpstreamFailure
from storage.memory import collection_name
from storage.memory.store import MemoryStore

from api_support import agent_gateway, assert_error

pytestmark = pytest.mark.cluster

APP_NAME = "kairo-api-memory-batch"
BATCH_MAX = 8
FAULT_TAG = "inject-row-failure"

FRAGMENTS = [
    "We stopped reporting MQLs to the board and started reporting pipeline by stage.",
    "Attribution is a conversation about trade-offs, not a dashboard that settles arguments.",
    "Our CFO reads one slide: cost per opportunity, by channel, against last quarter.",
    "Last-touch attribution flattered paid search for two years before anyone asked why.",
    "A campaign that fills the funnel but never closes is a brand tax, not a win.",
    "Self-reported attribution on the demo form told us more than any multi-touch model.",
]


class FaultyStore(MemoryStore):
    """A MemoryStore whose row write fails for a batch holding a fragment tagged FAULT_TAG,
    after the vectors were written: as if the database went away mid-request."""

    async def _insert_rows(self, conn: Any, fragments: list) -> None:
        if any(FAULT_TAG in f.tags for f in fragments):
            raise UpstreamFailure("the database connection was lost (injected)")
        await super()._insert_rows(conn, fragments)


async def faulty_memory_client(chroma_dir: Path, db: Any) -> Any:
    from runtime.local import LocalMemory
    from storage.memory import Embedder, VectorIndex

    embedder = Embedder(num_threads=1)
    index = await VectorIndex.open(path=chroma_dir, embedder=embedder)
    return LocalMemory(FaultyStore(db, index, embedder))


cloudpickle.register_pickle_by_value(sys.modules[__name__])


@pytest.fixture(scope="module")
def api_settings(api_settings):
    return api_settings.model_copy(update={"memory_batch_max": BATCH_MAX})


@pytest.fixture(scope="module")
def chroma_dir(api_settings, data_root) -> Path:
    return data_root / f"chroma-{api_settings.database_schema}-batch"


@pytest.fixture(scope="module")
def api_url(serve_url, api_settings, chroma_dir):
    from ray import serve

    app = api_application(
        api_settings,
        gateway_factory=partial(agent_gateway, api_settings),
        memory_factory=partial(faulty_memory_client, chroma_dir),
    )
    serve.run(app, name=APP_NAME, route_prefix="/")
    yield serve_url
    serve.delete(APP_NAME)
    try:
        ray.kill(ray.get_actor(names.host(0), namespace=api_settings.ray_namespace), no_restart=True)
    except ValueError:
        pass


def items(body: Any) -> list[dict[str, Any]]:
    """A list response, whether a bare list or a cursor page."""
    return body["items"] if isinstance(body, dict) else body


def batch_url(brand: dict[str, Any]) -> str:
    return f"/v1/brands/{brand['id']}/memory:batch"


def search(client, tenant, text: str, k: int = 5) -> list[dict[str, Any]]:
    response = client.get(f"/v1/brands/{tenant.brand['id']}/memory/search", headers=tenant.headers,
                          params={"q": text, "k": k})  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()


def memory_events(client, tenant) -> list[dict[str, Any]]:
    response = client.get(f"/v1/brands/{tenant.brand['id']}/events", headers=tenant.headers, params={"limit": 200})
    assert response.status_code == 200, response.text
    return [e for e in items(response.json()) if e["event_type"] == "memory_added"]


def stored_documents(chroma_dir: Path, brand_id: str) -> list[str]:
    """What the brand's Chroma collection holds, read from its files by a client of our own."""
    from uuid import UUID

    client = chromadb.PersistentClient(path=str(chroma_dir))
    try:
        names_ = {c.name for c in client.list_collections()}
        name = collection_name(UUID(brand_id))
        if name not in names_:
            return []
        return list(client.get_collection(name).get(include=["documents"])["documents"] or [])
    finally:
        client.close()


def test_batch_remembers_every_fragment_in_order_with_one_event(client, tenant_a):
    body = {"fragments": [{"raw_text": t, "source_type": "imported_example", "tags": ["import"]} for t in FRAGMENTS]}
    before = len(memory_events(client, tenant_a))
    response = client.post(batch_url(tenant_a.brand), headers=tenant_a.headers, json=body)
    assert response.status_code == 201, response.text
    stored = response.json()["fragments"]
    assert [f["raw_text"] for f in stored] == FRAGMENTS
    assert {f["brand_id"] for f in stored} == {tenant_a.brand["id"]}
    assert len({f["id"] for f in stored}) == len(FRAGMENTS)
    for fragment in stored:
        [hit] = search(client, tenant_a, fragment["raw_text"], k=1)
        assert hit["fragment"]["id"] == fragment["id"]
        assert hit["distance"] < 1e-3
    events = memory_events(client, tenant_a)
    assert len(events) == before + 1
    assert events[0]["meta"]["count"] == len(FRAGMENTS)
    assert set(events[0]["meta"]["fragment_ids"]) == {f["id"] for f in stored}


def test_batches_stay_in_their_brand(client, tenant_a, tenant_b):
    bread = ["Our rye starter is fed at six every morning, weekends included.",
             "A loaf that rests overnight in the fridge bakes with a darker, blistered crust."]  # fmt: skip
    response = client.post(batch_url(tenant_b.brand), headers=tenant_b.headers,
                           json={"fragments": [{"raw_text": t} for t in bread]})  # fmt: skip
    assert response.status_code == 201, response.text
    b_ids = {f["id"] for f in response.json()["fragments"]}
    for text in bread:
        assert b_ids & {h["fragment"]["id"] for h in search(client, tenant_b, text)}
        # Asked of A with the very same text: only A's own fragments can come back.
        hits = search(client, tenant_a, text, k=100)
        assert {h["fragment"]["brand_id"] for h in hits} <= {tenant_a.brand["id"]}
        assert not b_ids & {h["fragment"]["id"] for h in hits}
    # A's key cannot write into B's brand, not even by naming it.
    refused = client.post(batch_url(tenant_b.brand), headers=tenant_a.headers,
                          json={"fragments": [{"raw_text": "planted by another tenant"}]})  # fmt: skip
    assert_error(refused, 404)
    assert not [h for h in search(client, tenant_b, "planted by another tenant", k=100)
                if h["fragment"]["raw_text"] == "planted by another tenant"]  # fmt: skip


def test_failure_between_vectors_and_rows_stores_neither(client, tenant_b, chroma_dir):
    texts = ["Proofing baskets dusted with rice flour never stick, wheat flour always does.",
             "We bake the seeded batard last, when the oven has dropped to 220 degrees.",
             "Every Friday the day-old loaves go to the shelter on Mill Street."]  # fmt: skip
    body = {"fragments": [{"raw_text": texts[0]}, {"raw_text": texts[1], "tags": [FAULT_TAG]}, {"raw_text": texts[2]}]}
    events_before = len(memory_events(client, tenant_b))
    response = client.post(batch_url(tenant_b.brand), headers=tenant_b.headers, json=body)
    assert_error(response, 503, "upstream_failure")
    # No row: nothing comes back for the batch's own texts, nothing is listed.
    for text in texts:
        assert text not in {h["fragment"]["raw_text"] for h in search(client, tenant_b, text, k=100)}
    listed = client.get(f"/v1/brands/{tenant_b.brand['id']}/memory", headers=tenant_b.headers, params={"limit": 200})
    assert listed.status_code == 200, listed.text
    assert not set(texts) & {f["raw_text"] for f in items(listed.json())}
    # No vector either: the collection's own files hold none of the batch's texts.
    documents = stored_documents(chroma_dir, tenant_b.brand["id"])
    assert documents, "the brand's earlier batch is stored"
    assert not set(texts) & set(documents)
    # And no event.
    assert len(memory_events(client, tenant_b)) == events_before
    # The same batch without the fault is stored whole.
    body["fragments"][1]["tags"] = []
    retried = client.post(batch_url(tenant_b.brand), headers=tenant_b.headers, json=body)
    assert retried.status_code == 201, retried.text
    assert set(texts) <= set(stored_documents(chroma_dir, tenant_b.brand["id"]))


def test_oversized_batch_is_422_naming_the_field(client, tenant_a):
    body = {"fragments": [{"raw_text": f"Fragment number {i} of an import that is too large."} for i in range(BATCH_MAX + 1)]}
    error = assert_error(client.post(batch_url(tenant_a.brand), headers=tenant_a.headers, json=body), 422, "invalid")
    assert error["details"]["field"] == "body.fragments"
    assert error["details"]["max_items"] == BATCH_MAX
    hits = search(client, tenant_a, body["fragments"][0]["raw_text"], k=100)
    assert not [h for h in hits if h["fragment"]["raw_text"].startswith("Fragment number")]
    # Exactly the limit is accepted.
    body["fragments"] = body["fragments"][:BATCH_MAX]
    assert client.post(batch_url(tenant_a.brand), headers=tenant_a.headers, json=body).status_code == 201


def test_one_invalid_fragment_refuses_the_whole_batch(client, tenant_a):
    body = {"fragments": [{"raw_text": "A perfectly good fragment about pipeline reviews."}, {"raw_text": ""}]}
    error = assert_error(client.post(batch_url(tenant_a.brand), headers=tenant_a.headers, json=body), 422, "invalid")
    assert error["details"]["field"].startswith("body.fragments.1")
    hits = search(client, tenant_a, body["fragments"][0]["raw_text"], k=100)
    assert body["fragments"][0]["raw_text"] not in {h["fragment"]["raw_text"] for h in hits}
    empty = assert_error(client.post(batch_url(tenant_a.brand), headers=tenant_a.headers, json={"fragments": []}), 422)
    assert empty["details"]["field"] == "body.fragments"
