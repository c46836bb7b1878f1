"""CO-07 memory: rows and vectors written together, searched per brand, never across brands."""

from __future__ import annotations

import uuid

import pytest

from storage.errors import Invalid, UpstreamFailure
from storage.memory import VectorIndex
from storage.memory.store import MemoryDraft, MemoryStore
from storage.objects import Brand, Persona
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(db, minilm, tmp_path):
    index = await VectorIndex.open(path=tmp_path / "chroma", embedder=minilm)
    yield MemoryStore(db, index, minilm)
    await index.close()


@pytest.fixture
async def two_brands(db, seeded):
    """The seed's brand plus a second brand of the same org."""
    other = Brand(org_id=seeded.org.id, name="Birch Bakery", slug="birch-bakery",
                  owner_user_ids=[seeded.user.id], primary_channels=["mastodon"])
    persona = Persona(brand_id=other.id, name="Home baker", description="Bakes on weekends.",
                      pain_points=["Flat sourdough"], goals=["An open crumb"])
    async with db.transaction() as conn:
        await repo.brands.insert(conn, other)
        await repo.personas.insert(conn, persona)
    return seeded.brand, other, persona


ACME_TEXTS = [
    "If your board only hears about clicks and not pipeline, your marketing data is failing you.",
    "Attribution dashboards should tell a revenue story, not show pretty charts.",
    "We rebuilt our CAC report around pipeline stages and the board finally listened.",
]
BIRCH_TEXTS = [
    "Our sourdough rests for 36 hours before it meets the oven.",
    "Rye flour, salt, water and patience: that is the whole recipe.",
]


def drafts(brand_id, texts, **extra):
    return [MemoryDraft(brand_id=brand_id, source_type="manual", raw_text=t, **extra) for t in texts]


async def test_search_finds_the_closest_fragment_of_the_brand(store, two_brands):
    acme, birch, _ = two_brands
    await store.add(drafts(acme.id, ACME_TEXTS) + drafts(birch.id, BIRCH_TEXTS))
    hits = await store.search(acme.id, "our board ignores click metrics and wants pipeline", k=3)
    assert hits[0].fragment.raw_text == ACME_TEXTS[0]
    assert hits[0].similarity > hits[-1].similarity
    assert hits[0].fragment.embedding_model == store.embedder.model_name
    assert hits[0].fragment.embedding_dim == 384


async def test_search_never_returns_another_brands_fragments(store, two_brands):
    acme, birch, _ = two_brands
    added = await store.add(drafts(acme.id, ACME_TEXTS) + drafts(birch.id, BIRCH_TEXTS))
    birch_ids = {f.id for f in added if f.brand_id == birch.id}
    # A query that is *about* bread, asked for Acme, with k larger than everything stored.
    hits = await store.search(acme.id, "sourdough rye bread recipe oven", k=50)
    assert {h.fragment.brand_id for h in hits} == {acme.id}
    assert not birch_ids & {h.fragment.id for h in hits}
    assert len(hits) == len(ACME_TEXTS)


async def test_brand_with_no_memory_searches_empty(store, two_brands):
    _, birch, _ = two_brands
    assert await store.search(birch.id, "anything", k=5) == []


async def test_row_refused_after_vector_write_leaves_neither(store, two_brands):
    acme, _, birch_persona = two_brands
    # Valid for pydantic, refused by PostgreSQL: the persona belongs to the other brand. The
    # vector is written first, so this is a failure between the vector and the row write.
    bad = drafts(acme.id, ACME_TEXTS[:1], persona_id=birch_persona.id)
    with pytest.raises(Invalid) as caught:
        await store.add(bad)
    assert caught.value.details["constraint"] == "memory_fragments_persona_same_brand"
    assert await store.index.ids(acme.id) == set()
    assert await store.list(acme.id) == []


async def test_failure_injected_between_vector_and_row_leaves_neither(store, two_brands, monkeypatch):
    acme, birch, _ = two_brands

    async def crash(*args, **kwargs):
        raise ConnectionResetError("connection lost before the rows were written")

    monkeypatch.setattr(repo.memory_fragments, "insert_many", crash)
    with pytest.raises(ConnectionResetError):
        await store.add(drafts(acme.id, ACME_TEXTS) + drafts(birch.id, BIRCH_TEXTS))
    assert await store.index.ids(acme.id) == set()
    assert await store.index.ids(birch.id) == set()
    monkeypatch.undo()
    assert await store.list(acme.id) == [] and await store.list(birch.id) == []


async def test_vector_store_failure_writes_no_row(store, two_brands, monkeypatch):
    acme, birch, _ = two_brands
    real_add = store.index.add
    calls = []

    async def fail_on_second_brand(brand_id, *args, **kwargs):
        calls.append(brand_id)
        if len(calls) == 2:
            raise UpstreamFailure("chroma is down")
        await real_add(brand_id, *args, **kwargs)

    monkeypatch.setattr(store.index, "add", fail_on_second_brand)
    with pytest.raises(UpstreamFailure):
        await store.add(drafts(acme.id, ACME_TEXTS) + drafts(birch.id, BIRCH_TEXTS))
    monkeypatch.undo()
    # The first brand's vectors were written, then removed again; no rows anywhere.
    assert await store.index.ids(acme.id) == set() and await store.index.ids(birch.id) == set()
    assert await store.list(acme.id) == [] and await store.list(birch.id) == []


async def test_reconcile_repairs_what_a_crash_leaves(store, two_brands, db):
    acme, _, _ = two_brands
    [kept] = await store.add(drafts(acme.id, ACME_TEXTS[:1]))
    orphan = uuid.uuid4()
    [vector] = await store.embedder.aembed(["a vector whose row never committed"])
    await store.index.add(acme.id, [orphan], [vector])
    await store.index.delete(acme.id, [kept.id])  # a row that lost its vector
    report = await store.reconcile(acme.id)
    assert (report.orphan_vectors_removed, report.rows_reembedded) == (1, 1)
    assert await store.index.ids(acme.id) == {kept.id}
    assert (await store.search(acme.id, ACME_TEXTS[0], k=1))[0].fragment.id == kept.id


async def test_seed_example_fragment_round_trips(store, seeded):
    draft = MemoryDraft.model_validate(seeded.memory_fragment)
    [stored] = await store.add([draft])
    [hit] = await store.search(seeded.brand.id, "board hears about clicks not pipeline", k=1)
    assert hit.fragment == stored
    assert hit.fragment.id == draft.id and hit.fragment.pattern_template_id == draft.pattern_template_id


async def test_bad_search_input_names_the_field(store, two_brands):
    acme, _, _ = two_brands
    with pytest.raises(Invalid) as blank:
        await store.search(acme.id, "   ")
    with pytest.raises(Invalid) as too_many:
        await store.search(acme.id, "x", k=1000)
    assert blank.value.details["field"] == "text" and too_many.value.details["field"] == "k"


async def test_a_repeated_search_is_not_embedded_again(db, two_brands, tmp_path, minilm):
    from storage.memory import Embedder

    class Counting(Embedder):
        calls: list[list[str]] = []

        def embed_array(self, texts):
            self.calls.append(list(texts))
            return super().embed_array(texts)

    embedder = Counting(num_threads=1)
    index = await VectorIndex.open(path=tmp_path / "chroma-counting", embedder=embedder)
    try:
        store = MemoryStore(db, index, embedder)
        _, birch, _ = two_brands  # a brand of this test only: its collection is new
        await store.add(drafts(birch.id, BIRCH_TEXTS))
        embedder.calls.clear()
        first = await store.search(birch.id, "sourdough rye recipe", k=2)
        again = await store.search(birch.id, "sourdough rye recipe", k=2)
        assert [h.fragment.id for h in first] == [h.fragment.id for h in again]
        assert embedder.calls == [["sourdough rye recipe"]]
        await store.search(birch.id, "another question", k=2)
        assert len(embedder.calls) == 2
    finally:
        await index.close()


async def test_remembering_a_known_id_again_is_a_conflict_that_keeps_its_vector(store, two_brands):
    from storage.errors import Conflict

    acme, _, _ = two_brands
    [kept] = await store.add(drafts(acme.id, ACME_TEXTS[:1]))
    retry = MemoryDraft(id=kept.id, brand_id=acme.id, source_type="manual", raw_text=ACME_TEXTS[0])
    with pytest.raises(Conflict) as caught:
        await store.add([retry] + drafts(acme.id, ACME_TEXTS[1:2]))
    assert caught.value.details["field"] == "id"
    # The stored fragment still has its vector; the new one in the refused batch has none.
    assert await store.index.ids(acme.id) == {kept.id}
    assert (await store.search(acme.id, ACME_TEXTS[0], k=1))[0].fragment.id == kept.id
