"""VectorIndex against real Chroma 1.5.9 and the real bundled MiniLM model.

Every behavioural test runs on both backends: the embedded PersistentClient (in ``tmp_path``) and
an AsyncHttpClient talking to a real ``chroma run`` server started on 127.0.0.1 for this module.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from uuid import UUID, uuid4

import chromadb
import pytest

from storage.errors import Conflict, Invalid, UpstreamFailure
from storage.memory import Embedder, HashingEmbedder, VectorIndex, collection_name

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
CHROMA_CLI = Path(sys.executable).parent / "chroma"

FRAGMENTS = [
    "Our new espresso roast has deep notes of dark chocolate and cherry.",
    "Five trail tips for hiking in the Alps this summer.",
    "How to file your quarterly tax return on time.",
    "The best running shoes for marathon training.",
    "Join our volunteer beach clean-up this Saturday morning.",
]


# -- fixtures -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """The real MiniLM model, loaded once for the module."""
    e = Embedder(num_threads=1)
    e.load()
    return e


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (`chroma run`) on a free loopback port, stopped after the module."""
    # chromadb installs its CLI beside the interpreter: its absence is a broken install, not a skip.
    assert CHROMA_CLI.exists(), f"chroma CLI not found at {CHROMA_CLI}"
    data = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(CHROMA_CLI), "run", "--path", str(data / "db"), "--host", "127.0.0.1",
         "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (data / "server.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"chroma server did not come up (exit={proc.poll()}):\n{tail}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture(params=["embedded", "http"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, object]:
    if request.param == "embedded":
        return {"path": tmp_path / "chroma"}
    return {"url": request.getfixturevalue("chroma_server")}


@pytest.fixture
async def index(location: dict[str, object], embedder: Embedder) -> AsyncIterator[VectorIndex]:
    idx = await VectorIndex.open(embedder=embedder, **location)  # type: ignore[arg-type]
    yield idx
    await idx.close()


async def _add_texts(
    idx: VectorIndex, embedder: Embedder, brand: UUID, texts: list[str]
) -> list[UUID]:
    ids = [uuid4() for _ in texts]
    vectors = await embedder.aembed(texts)
    metadatas = [{"n": i, "kind": "fragment"} for i in range(len(ids))]
    await idx.add(brand, ids, vectors, texts, metadatas)
    return ids


# -- behaviour, on both backends ---------------------------------------------------------------


async def test_semantically_close_text_ranks_first(index: VectorIndex, embedder: Embedder) -> None:
    brand = uuid4()
    ids = await _add_texts(index, embedder, brand, FRAGMENTS)
    # No word in common with the espresso fragment: only meaning can rank it first.
    [query] = await embedder.aembed(["a dark coffee with cocoa flavour"])
    hits = await index.query(brand, query, k=3)
    assert [h[0] for h in hits][0] == ids[0]
    assert len(hits) == 3
    distances = [d for _, d in hits]
    assert distances == sorted(distances)
    assert all(0.0 <= d <= 2.0 for d in distances)
    [hiking] = await embedder.aembed(["mountain walking advice"])
    assert (await index.query(brand, hiking, k=1))[0][0] == ids[1]


async def test_brands_are_isolated(index: VectorIndex, embedder: Embedder) -> None:
    brand_a, brand_b = uuid4(), uuid4()
    a_ids = await _add_texts(index, embedder, brand_a, FRAGMENTS[:3])
    # B holds the very same texts: if isolation leaked, B's vectors would match just as well.
    b_ids = await _add_texts(index, embedder, brand_b, FRAGMENTS[:3] + FRAGMENTS[3:])
    for text in FRAGMENTS:
        [vec] = await embedder.aembed([text])
        a_hits = {i for i, _ in await index.query(brand_a, vec, k=50)}
        b_hits = {i for i, _ in await index.query(brand_b, vec, k=50)}
        assert a_hits == set(a_ids)
        assert b_hits == set(b_ids)
    assert await index.ids(brand_a) == set(a_ids)
    assert await index.ids(brand_b) == set(b_ids)
    assert collection_name(brand_a) != collection_name(brand_b)


async def test_k_larger_than_count_returns_what_exists(
    index: VectorIndex, embedder: Embedder
) -> None:
    brand = uuid4()
    ids = await _add_texts(index, embedder, brand, FRAGMENTS[:2])
    hits = await index.query(brand, (await embedder.aembed(["x"]))[0], k=100)
    assert {i for i, _ in hits} == set(ids)


async def test_delete_removes(index: VectorIndex, embedder: Embedder) -> None:
    brand = uuid4()
    ids = await _add_texts(index, embedder, brand, FRAGMENTS)
    await index.delete(brand, [ids[0], uuid4()])  # an unknown id alongside is fine
    assert await index.ids(brand) == set(ids[1:])
    assert await index.count(brand) == len(ids) - 1
    [vec] = await embedder.aembed([FRAGMENTS[0]])
    assert ids[0] not in {i for i, _ in await index.query(brand, vec, k=10)}
    await index.delete(uuid4(), [uuid4()])  # unknown brand: no-op


async def test_unknown_brand_is_empty_and_not_created(
    index: VectorIndex, embedder: Embedder
) -> None:
    brand = uuid4()
    [vec] = await embedder.aembed(["anything"])
    assert await index.query(brand, vec, k=5) == []
    assert await index.ids(brand) == set()
    assert await index.count(brand) == 0
    # Reads never create collections; an emptied brand queries as [] too.
    await index.add(brand, [uuid4()], [vec])
    await index.delete(brand, list(await index.ids(brand)))
    assert await index.query(brand, vec, k=5) == []
    await index.drop_brand(brand)
    await index.drop_brand(brand)  # idempotent
    assert await index.query(brand, vec, k=5) == []


async def test_add_keeps_a_stored_id_and_replace_changes_it(index: VectorIndex, embedder: Embedder) -> None:
    brand = uuid4()
    fid = uuid4()
    v1, v2 = await embedder.aembed([FRAGMENTS[0], FRAGMENTS[2]])
    await index.add(brand, [fid], [v1], [FRAGMENTS[0]])
    await index.add(brand, [fid], [v2], [FRAGMENTS[2]])  # a retry after a crash: harmless
    assert await index.count(brand) == 1
    [(hit, distance)] = await index.query(brand, v1, k=1)
    assert hit == fid and distance < 1e-4
    await index.replace(brand, [fid], [v2], [FRAGMENTS[2]])  # an edit
    assert await index.count(brand) == 1
    [(hit, distance)] = await index.query(brand, v2, k=1)
    assert hit == fid and distance < 1e-4


async def test_numpy_vectors_are_accepted(index: VectorIndex, embedder: Embedder) -> None:
    brand = uuid4()
    ids = [uuid4(), uuid4()]
    matrix = embedder.embed_array(FRAGMENTS[:2])
    await index.add(brand, ids, matrix, FRAGMENTS[:2])
    assert [i for i, _ in await index.query(brand, matrix[1], k=1)] == [ids[1]]


async def test_drop_brand_seen_by_another_client(
    location: dict[str, object], embedder: Embedder
) -> None:
    """A handle cached by one index survives another process dropping/recreating the brand."""
    brand = uuid4()
    one = await VectorIndex.open(embedder=embedder, **location)  # type: ignore[arg-type]
    two = await VectorIndex.open(embedder=embedder, **location)  # type: ignore[arg-type]
    try:
        await _add_texts(one, embedder, brand, FRAGMENTS[:2])
        [vec] = await embedder.aembed([FRAGMENTS[0]])
        assert len(await one.query(brand, vec, k=5)) == 2  # handle now cached in `one`
        await two.drop_brand(brand)
        assert await one.query(brand, vec, k=5) == []
        new_ids = await _add_texts(one, embedder, brand, FRAGMENTS[2:3])
        assert await two.ids(brand) == set(new_ids)
    finally:
        await one.close()
        await two.close()


async def test_bad_arguments_are_invalid(index: VectorIndex, embedder: Embedder) -> None:
    brand = uuid4()
    [vec] = await embedder.aembed(["x"])
    with pytest.raises(Invalid):
        await index.add(brand, [uuid4()], [vec[:10]])
    with pytest.raises(Invalid):
        await index.add(brand, [uuid4(), uuid4()], [vec])
    with pytest.raises(Invalid):
        await index.add(brand, [uuid4()], [vec], metadatas=[{"when": object()}])
    with pytest.raises(Invalid):
        await index.query(brand, vec, k=0)
    with pytest.raises(Invalid):
        await index.query(brand, vec[:3], k=1)


async def test_metadata_none_and_empty_are_accepted(index: VectorIndex, embedder: Embedder) -> None:
    """Chroma refuses None values and empty dicts; the index cleans them instead."""
    brand = uuid4()
    ids = [uuid4(), uuid4(), uuid4()]
    vecs = await embedder.aembed(FRAGMENTS[:3])
    await index.add(brand, ids, vecs, FRAGMENTS[:3], [{}, None, {"a": None, "ref": uuid4()}])
    assert await index.ids(brand) == set(ids)


async def test_closed_index_refuses(location: dict[str, object], embedder: Embedder) -> None:
    idx = await VectorIndex.open(embedder=embedder, **location)  # type: ignore[arg-type]
    await idx.close()
    await idx.close()  # idempotent
    with pytest.raises(UpstreamFailure):
        await idx.query(uuid4(), [0.0] * 384, k=1)


# -- embedded-only and HTTP-only ----------------------------------------------------------------


async def test_embedded_persists_and_refuses_other_models(
    tmp_path: Path, embedder: Embedder
) -> None:
    path = tmp_path / "chroma"
    brand = uuid4()
    async with await VectorIndex.open(path=path, embedder=embedder) as idx:
        ids = await _add_texts(idx, embedder, brand, FRAGMENTS)
    async with await VectorIndex.open(path=path, embedder=embedder) as idx:
        assert await idx.ids(brand) == set(ids)
    # A different vector space must not be mixed into the brand's collection.
    async with await VectorIndex.open(path=path, embedder=HashingEmbedder()) as idx:
        with pytest.raises(Conflict):
            await idx.query(brand, HashingEmbedder().embed(["x"])[0], k=1)
    client = chromadb.PersistentClient(path=str(path))
    try:
        [col] = client.list_collections()
        assert col.name == f"brand_{brand.hex}"
        assert col.configuration_json["hnsw"]["space"] == "cosine"
        assert col.configuration_json["embedding_function"]["name"] == "kairo"
    finally:
        client.close()


async def test_unreachable_server_is_upstream_failure(embedder: Embedder) -> None:
    with pytest.raises(UpstreamFailure) as info:
        await VectorIndex.open(url=f"http://127.0.0.1:{_free_port()}", embedder=embedder)
    assert info.value.details["operation"] == "open"


async def test_exactly_one_location(tmp_path: Path) -> None:
    with pytest.raises(Invalid):
        await VectorIndex.open()
    with pytest.raises(Invalid):
        await VectorIndex.open(path=tmp_path, url="http://127.0.0.1:8000")
    with pytest.raises(Invalid):
        await VectorIndex.open(url="ftp://host/x")


# -- the embedder next to an event loop, and offline ---------------------------------------------


async def test_aembed_does_not_block_the_event_loop(embedder: Embedder) -> None:
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        started = time.perf_counter()
        vectors = await embedder.aembed([f"post {i} about latte art" for i in range(128)])
        elapsed = time.perf_counter() - started
    finally:
        task.cancel()
    assert len(vectors) == 128 and len(vectors[0]) == 384
    # The loop kept ticking while the model ran in a worker thread.
    assert ticks >= max(3, int(elapsed / 0.005 * 0.3))


_OFFLINE_SCRIPT = textwrap.dedent(
    """
    import asyncio, json, os, socket, sys, tempfile, uuid
    attempts = []
    def refuse(self, address, *args):
        attempts.append(repr(address))
        raise OSError("network disabled by test")
    socket.socket.connect = refuse
    socket.socket.connect_ex = refuse
    assert "HF_HUB_OFFLINE" not in os.environ
    from storage.memory import Embedder, VectorIndex
    import huggingface_hub.constants as hf
    e = Embedder()
    [a, b, c] = e.embed(["espresso with chocolate notes", "dark coffee, cocoa flavour",
                         "quarterly tax filing"])
    async def main():
        with tempfile.TemporaryDirectory() as d:
            async with await VectorIndex.open(path=d, embedder=e) as idx:
                brand, ids = uuid.uuid4(), [uuid.uuid4(), uuid.uuid4()]
                await idx.add(brand, ids, [a, c], ["espresso", "tax"])
                hits = await idx.query(brand, b, k=2)
                return hits[0][0] == ids[0]
    print(json.dumps({
        "dim": len(a), "offline_env": os.environ.get("HF_HUB_OFFLINE"),
        "hf_offline": hf.HF_HUB_OFFLINE, "ranked": asyncio.run(main()), "attempts": attempts,
    }))
    """
)


def test_model_and_store_work_with_network_blocked() -> None:
    """Fresh interpreter, sockets refusing to connect, no HF_* variables: load, embed, store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env["PYTHONPATH"] = str(REPO)
    proc = subprocess.run(
        [sys.executable, "-c", _OFFLINE_SCRIPT], env=env, cwd=REPO, capture_output=True,
        text=True, timeout=180,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {
        "dim": 384, "offline_env": "1", "hf_offline": True, "ranked": True, "attempts": [],
    }
