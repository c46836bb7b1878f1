"""Memory searches over the store's Unix socket: the same answers as the store, errors with
their class, only the instance's token admitted, an owner-only socket, concurrent searches on
one connection, and a lost server reported so the caller can take another path."""

from __future__ import annotations

import asyncio
import shutil
import stat
import tempfile
import uuid
from pathlib import Path

import pytest

from storage.errors import Invalid
from storage.memory import VectorIndex
from storage.memory.local_socket import MemorySocketClient, MemorySocketServer, SocketUnavailable, new_token
from storage.memory.store import MemoryDraft, MemoryStore

pytestmark = pytest.mark.integration

TEXTS = [
    "If your board only hears about clicks and not pipeline, your marketing data is failing you.",
    "Attribution dashboards should tell a revenue story, not show pretty charts.",
    "We rebuilt our CAC report around pipeline stages and the board finally listened.",
    "Self-reported attribution on the demo form beat our multi-touch model.",
    "Our weekly dashboard had eleven charts and nobody could say which one mattered.",
]


@pytest.fixture
def short_dir():
    """Socket paths must fit in 108 bytes: pytest's tmp_path can be longer."""
    path = Path(tempfile.mkdtemp(prefix="km-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def store(db, minilm, short_dir):
    index = await VectorIndex.open(path=short_dir / "chroma", embedder=minilm)
    yield MemoryStore(db, index, minilm)
    await index.close()


@pytest.fixture
async def served(store, short_dir):
    token = new_token()
    server = MemorySocketServer(short_dir / "run" / "memory.sock", token, store.search)
    await server.start()
    client = MemorySocketClient(server.path, token)
    yield server, client
    await client.close()
    await server.close()


async def test_a_search_over_the_socket_answers_what_the_store_answers(store, served, seeded):
    _, client = served
    brand = seeded.brand
    await store.add([MemoryDraft(brand_id=brand.id, source_type="manual", raw_text=t) for t in TEXTS])
    query = "the board wants pipeline, not click metrics"
    direct = await store.search(brand.id, query, 3)
    over_socket = await client.search(brand.id, query, 3)
    assert [f.id for f, _ in over_socket] == [h.fragment.id for h in direct]
    assert [f for f, _ in over_socket] == [h.fragment for h in direct]  # every field, validated again
    assert [d for _, d in over_socket] == pytest.approx([h.distance for h in direct], abs=1e-6)


async def test_concurrent_searches_on_one_connection_get_their_own_answers(store, served, seeded):
    _, client = served
    brand = seeded.brand
    stored = await store.add([MemoryDraft(brand_id=brand.id, source_type="manual", raw_text=t) for t in TEXTS])
    answers = await asyncio.gather(*(client.search(brand.id, t, 1) for t in TEXTS))
    assert [a[0][0].id for a in answers] == [f.id for f in stored]  # each text finds itself


async def test_a_store_error_arrives_with_its_class_and_field(served, seeded):
    _, client = served
    with pytest.raises(Invalid) as refused:
        await client.search(seeded.brand.id, "   ", 5)
    assert refused.value.details["field"] == "text"


async def test_a_brand_without_memory_searches_empty(served, seeded):
    _, client = served
    assert await client.search(seeded.brand.id, "anything at all", 5) == []


async def test_a_wrong_token_is_refused(served):
    server, _ = served
    intruder = MemorySocketClient(server.path, new_token())
    with pytest.raises(SocketUnavailable):
        await intruder.search(uuid.uuid4(), "anything", 5)


async def test_the_socket_is_owner_only(served):
    server, _ = served
    assert stat.S_IMODE(server.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(server.path.parent.stat().st_mode) == 0o700


async def test_a_search_in_flight_when_the_server_goes_is_reported_unavailable(short_dir, seeded):
    release = asyncio.Event()
    started = asyncio.Event()

    async def slow_search(brand_id, text, k):
        started.set()
        await release.wait()
        return []

    token = new_token()
    server = MemorySocketServer(short_dir / "run" / "slow.sock", token, slow_search)
    await server.start()
    client = MemorySocketClient(server.path, token)
    pending = asyncio.ensure_future(client.search(seeded.brand.id, "anything", 5))
    await started.wait()
    await server.close()
    with pytest.raises(SocketUnavailable):
        await pending
    with pytest.raises(SocketUnavailable):  # and no server to reconnect to
        await client.search(seeded.brand.id, "anything", 5)
    await client.close()
