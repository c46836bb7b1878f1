"""The memory service actor on a real local Ray: it opens its store at start, remembers a batch
across brands all or nothing, and a refused batch leaves no vector behind (reconcile finds none)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
import ray

from runtime import names
from runtime.memory_service import RayMemoryClient, get_memory_client, start_memory_service
from runtime.settings import Settings
from storage.errors import Conflict
from storage.examples import load_seed_examples
from storage.memory.store import MemoryDraft
from storage.objects import Brand
from storage.postgres import repositories as repo
from tests.integration.conftest import insert_examples

pytestmark = pytest.mark.cluster

NAMESPACE = "kairo-test"


def kill_memory_service() -> None:
    try:
        ray.kill(ray.get_actor(names.MEMORY, namespace=NAMESPACE), no_restart=True)
    except ValueError:
        pass


@pytest.fixture(scope="module")
async def env(ray_cluster, embedded_postgres_dsn, data_root, fresh_schema):
    """Seed examples plus a second brand in a schema of the module's own; a memory service of
    another module (another schema) is killed first."""
    data_dir = data_root / f"memory-service-{uuid.uuid4().hex[:12]}"
    async with fresh_schema(embedded_postgres_dsn, data_dir, pool_max=2) as handle:
        examples = load_seed_examples()
        await insert_examples(handle.db, examples)
        other = Brand(org_id=examples.org.id, name="Birch Bakery", slug="birch-bakery",
                      owner_user_ids=[examples.user.id], primary_channels=["mastodon"])  # fmt: skip
        async with handle.db.transaction() as conn:
            await repo.brands.insert(conn, other)
        settings = Settings(
            database_url=embedded_postgres_dsn, database_schema=handle.db.schema, data_dir=data_dir,
            ray_namespace=NAMESPACE, log_level="WARNING",
        )  # fmt: skip
        kill_memory_service()
        yield settings, examples.brand, other
        kill_memory_service()


async def test_the_service_opens_its_store_without_being_asked(env):
    settings, _, _ = env
    handle = start_memory_service(settings)
    for _ in range(600):  # a wait for the model to load, not a timing assertion
        if (await handle.describe.remote())["opened"]:
            break
        await asyncio.sleep(0.1)
    assert (await handle.describe.remote())["opened"] is True


async def test_a_batch_across_brands_is_stored_whole_or_not_at_all(env):
    settings, acme, birch = env
    client = get_memory_client(settings)
    acme_texts = ["Pipeline by stage is the only chart our board reads twice.",
                  "We retired the lead score nobody could explain."]  # fmt: skip
    birch_texts = ["The rye starter is fed at six every morning."]
    stored = await client.add(
        [MemoryDraft(brand_id=acme.id, source_type="imported_example", raw_text=t) for t in acme_texts]
        + [MemoryDraft(brand_id=birch.id, source_type="imported_example", raw_text=t) for t in birch_texts]
    )
    assert [f.raw_text for f in stored] == acme_texts + birch_texts

    # One draft repeats a stored id: the whole batch is refused, for both brands.
    new_acme = "Our CFO asks for cost per opportunity, never for impressions."
    new_birch = "Day-old loaves go to the shelter every Friday."
    refused = [
        MemoryDraft(id=stored[0].id, brand_id=acme.id, source_type="manual", raw_text=acme_texts[0]),
        MemoryDraft(brand_id=acme.id, source_type="manual", raw_text=new_acme),
        MemoryDraft(brand_id=birch.id, source_type="manual", raw_text=new_birch),
    ]
    with pytest.raises(Conflict):
        await client.add(refused)
    for brand_id, text in ((acme.id, new_acme), (birch.id, new_birch)):
        assert text not in {h.fragment.raw_text for h in await client.search(brand_id, text, 10)}
        # No vector was left behind without its row (reconcile would have had to remove it).
        report = await client.reconcile(brand_id)
        assert (report.orphan_vectors_removed, report.rows_reembedded) == (0, 0)
    # The stored fragments kept their vectors, and are found by their own text, in their brand only.
    for fragment in stored:
        hits = await client.search(fragment.brand_id, fragment.raw_text, 5)
        assert hits[0].fragment.id == fragment.id
        assert {h.fragment.brand_id for h in hits} == {fragment.brand_id}
    # A repeated search answers the same (from the service's query-vector cache).
    again = await client.search(acme.id, acme_texts[1], 5)
    assert [h.fragment.id for h in again] == [h.fragment.id for h in await client.search(acme.id, acme_texts[1], 5)]


async def test_searches_from_the_same_machine_take_the_socket_and_survive_a_restart(env):
    settings, acme, _ = env
    client = get_memory_client(settings)
    texts = ["Our attribution model changed twice this year and the board noticed both times.",
             "We publish the pipeline chart before the campaign chart, every Monday."]  # fmt: skip
    stored = await client.add([MemoryDraft(brand_id=acme.id, source_type="manual", raw_text=t) for t in texts])
    by_actor = RayMemoryClient(client.handle, use_socket=False)
    for fragment in stored:
        over_socket = await client.search(acme.id, fragment.raw_text, 5)
        assert client._socket is not None  # noqa: SLF001 - the fast path was taken
        through_actor = await by_actor.search(acme.id, fragment.raw_text, 5)
        assert [h.fragment for h in over_socket] == [h.fragment for h in through_actor]
        assert over_socket[0].fragment.id == fragment.id
    # The service dies and Ray restarts it (a new instance, a new token): the next search is
    # answered anyway (through the actor while the socket is gone), then by the socket again.
    ray.kill(client.handle, no_restart=False)
    hits = await client.search(acme.id, texts[0], 5)
    assert hits[0].fragment.id == stored[0].id
    address = None
    for _ in range(600):  # waits for the restarted service to open its store; not a timing assertion
        try:
            address = await client.handle.socket_address.remote()
        except ray.exceptions.ActorUnavailableError:  # still restarting: ask again
            address = None
        if address is not None:
            break
        await asyncio.sleep(0.1)
    for _ in range(50):  # the new instance may publish its address a moment before it listens
        client._socket_retry_at = 0.0  # noqa: SLF001 - do not wait out the retry pause
        hits = await client.search(acme.id, texts[1], 5)
        assert hits[0].fragment.id == stored[1].id  # answered either way
        if client._socket is not None:  # noqa: SLF001
            break
        await asyncio.sleep(0.1)
    assert client._socket is not None and client._socket.token == address["token"]  # noqa: SLF001
    await client.close()
