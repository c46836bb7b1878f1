"""The hook library on real Chroma and MiniLM: best performers' hooks, global and brand spaces,
indexed by mining runs and searched by topic through the miner engine's hook operations."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import uuid4

import pytest

from agents.miner.hooks import HookLibrary, hook_space, select_hooks
from agents.miner.labelling import BeatLabeller
from storage.memory import VectorIndex
from storage.objects import Channel, PatternSourcePost
from storage.postgres import patterns as store

pytestmark = pytest.mark.integration
DATA = Path(__file__).resolve().parents[1] / "data" / "miner"


def _posts() -> list[PatternSourcePost]:
    rows = [json.loads(line) for line in (DATA / "swipe_posts.jsonl").read_text().splitlines()]
    return [PatternSourcePost(id=r["id"], is_global=True, channel=r["channel"], raw_text=r["raw_text"],
                              impressions=r["impressions"], engagements=r["engagements"],
                              created_at=r["created_at"]) for r in rows]


def _brand_post(brand_id, text, impressions=3000, engagements=240):
    return PatternSourcePost(brand_id=brand_id, channel=Channel.LINKEDIN, raw_text=text, impressions=impressions,
                             engagements=engagements, created_at=datetime(2025, 5, 1, tzinfo=UTC))


def test_hooks_are_the_first_beats_of_each_channels_best_performers():
    posts = _posts()
    labeller = BeatLabeller()
    hooks = select_hooks(posts, labeller, top_fraction=0.25)
    by_id = {p.id: p for p in posts}
    for channel in {p.channel for p in posts}:
        channel_posts = [p for p in posts if p.channel == channel]
        chosen = [h for h in hooks if h.channel == channel]
        assert 1 <= len(chosen) <= max(1, round(len(channel_posts) * 0.25))
        median = sorted(p.engagements / p.impressions for p in channel_posts)[len(channel_posts) // 2]
        assert all(h.engagement_rate >= median for h in chosen)
    for hook in hooks:
        assert by_id[hook.id].raw_text.startswith(hook.text) and hook.brand_id is None
    # A post seen by 40 people with a freak rate does not outrank the well-measured best.
    fluke = posts[0].model_copy(update={"id": uuid4(), "impressions": 40, "engagements": 12})
    assert fluke.id not in {h.id for h in select_hooks([*posts, fluke], labeller, top_fraction=0.1)}


async def test_search_by_topic_keeps_brand_hooks_in_their_brand(tmp_path, minilm):
    labeller = BeatLabeller()
    brand_a, brand_b = uuid4(), uuid4()
    own = [_brand_post(brand_a, "Our bakery doubled its Sunday orders after one change to the menu board.\n\nHere's how."),
           _brand_post(brand_a, "I almost closed the bakery in 2020.\n\nThen we started selling sourdough classes.")]
    async with await VectorIndex.open(path=tmp_path / "chroma", embedder=minilm) as index:
        library = HookLibrary(index, minilm)
        global_hooks = select_hooks(_posts(), labeller, top_fraction=0.5)
        await library.add(global_hooks)
        await library.add(select_hooks(own, labeller, top_fraction=1.0))
        await library.add(global_hooks)  # again: harmless
        assert await index.count(hook_space(None)) == len(global_hooks)
        assert await index.count(hook_space(brand_a)) == 2

        pricing = await library.search("how freelancers should set their rates", k=3)
        texts = {h.id: h.text for h in global_hooks}
        assert pricing and all(hit.is_global for hit in pricing)
        assert any("$25 an hour" in texts[hit.hook_id] for hit in pricing)

        for_a = await library.search("growing a small bakery", brand_id=brand_a, k=3)
        assert {hit.hook_id for hit in for_a if not hit.is_global} == {p.id for p in own}
        for_b = await library.search("growing a small bakery", brand_id=brand_b, k=10)
        assert all(hit.is_global for hit in for_b) and not ({h.hook_id for h in for_b} & {p.id for p in own})


def _library(path, minilm):
    """How the miner pool opens its library, here on a temp dir with the session's model."""

    async def open_library() -> HookLibrary:
        return HookLibrary(await VectorIndex.open(path=path, embedder=minilm), minilm)

    return open_library


BAKERY = [
    "We sold out of sourdough by 9am three Saturdays in a row.\n\nHere is what changed at the counter.",
    "I almost closed the bakery in 2020.\n\nThen we started teaching bread classes on Sunday mornings.",
    "Our croissants used to sit unsold until closing.\n\nOne change to the display case fixed it.",
]
BIKES = [
    "Our bike shop doubled its repair bookings in one spring.\n\nThe trick was a text message.",
    "I was wrong about e-bikes.\n\nThey are now half of what our workshop fixes.",
    "Three commuters a day used to walk past our workshop.\n\nNow they stop for a free tyre check.",
]


def _brand_file(texts, rate, first_rate=None):
    """The brand's posts on LinkedIn, each at ``rate`` except the first (``first_rate``)."""
    return "\n".join(json.dumps({"text": t, "channel": "linkedin", "impressions": 4000,
                                 "engagements": round(4000 * (first_rate if i == 0 and first_rate else rate))})
                     for i, t in enumerate(texts))


async def test_mined_hooks_are_searched_by_topic_and_another_brands_never_appear(
        tmp_path, minilm, embedded_postgres_dsn, fresh_schema, examples):
    from agents.engines.miner import PatternMiner
    from agents.miner.service import import_file, mine_scope, search_hooks
    from storage.postgres import repositories as repo
    from tests.integration.conftest import insert_examples

    miner = PatternMiner(hook_library=_library(tmp_path / "hooks", minilm), hook_top_fraction=0.5)
    async with fresh_schema(embedded_postgres_dsn, tmp_path, prefix="hooks") as handle:
        db = handle.db
        await insert_examples(db, examples)
        bakery = examples.brand
        bikes = bakery.model_copy(update={"id": uuid4(), "slug": "spokes", "name": "Spokes"})
        async with db.transaction() as conn:
            await repo.brands.insert(conn, bikes)
        await import_file(db, miner, (DATA / "swipe_posts.jsonl").read_text(), "jsonl")
        await import_file(db, miner, _brand_file(BAKERY, 0.05, first_rate=0.15), "jsonl", brand_id=bakery.id)
        await import_file(db, miner, _brand_file(BIKES, 0.09), "jsonl", brand_id=bikes.id)
        global_run = await mine_scope(db, miner)
        runs = [await mine_scope(db, miner, b.id) for b in (bakery, bikes)]
        assert global_run.counts.hooks_indexed >= 10 and all(r.counts.hooks_indexed >= 1 for r in runs)
        assert (await mine_scope(db, miner)).counts.hooks_indexed == 0  # already in the library
        # The bakery's best post falls behind the others: its hook leaves the library.
        best = next(m for m in await search_hooks(db, miner, BAKERY[0], brand_id=bakery.id, k=3) if not m.is_global)
        await import_file(db, miner, _brand_file(BAKERY, 0.15, first_rate=0.01), "jsonl", brand_id=bakery.id)
        resynced = await mine_scope(db, miner, bakery.id)
        after = {m.hook.id for m in await search_hooks(db, miner, BAKERY[0], brand_id=bakery.id, k=10)}
        assert best.hook.text == BAKERY[0].split("\n")[0] and best.hook.id not in after
        assert resynced.counts.hooks_indexed >= 1 and resynced.counts.hooks_removed >= 1

        for_bakery = await search_hooks(db, miner, "selling more bread at a small bakery", brand_id=bakery.id, k=8)
        for_bikes = await search_hooks(db, miner, "selling more bread at a small bakery", brand_id=bikes.id, k=50)
        global_only = await search_hooks(db, miner, "hiring and managing engineers", k=3)
        on_x = await search_hooks(db, miner, "hiring and managing engineers", channel=Channel.X, k=3)
        async with db.connection() as conn:
            bakery_posts = {p.id for p in await store.posts_in_scope(conn, bakery.id)}
            bike_posts = {p.id for p in await store.posts_in_scope(conn, bikes.id)}
            global_posts = {p.id for p in await store.posts_in_scope(conn, None)}
            global_templates = {t.id for t in await store.templates_in_scope(conn, None)}

    own = [m for m in for_bakery if not m.is_global]
    assert own and {m.hook.id for m in own} <= bakery_posts and not {m.hook.id for m in for_bakery} & bike_posts
    assert any("sourdough" in m.hook.text or "bakery" in m.hook.text for m in for_bakery[:3])
    assert not {m.hook.id for m in for_bikes} & bakery_posts
    assert {m.hook.id for m in for_bikes if not m.is_global} <= bike_posts
    assert [m.distance for m in for_bakery] == sorted(m.distance for m in for_bakery)
    assert len(global_only) == 3 and all(m.is_global and m.hook.id in global_posts for m in global_only)
    assert all(m.hook.template_id in global_templates for m in global_only)
    assert on_x and all(m.hook.channel == Channel.X for m in on_x)
    for match in for_bakery:  # the numbers are the source post's, read back from PostgreSQL
        assert match.hook.engagement_rate == pytest.approx(match.engagements / match.hook.impressions)


async def test_a_miner_without_a_library_indexes_and_finds_nothing():
    from agents.engines.miner import HookSearchInput, IndexHooksInput, PatternMiner

    miner = PatternMiner()
    indexed = await miner.index_hooks(IndexHooksInput(posts=_posts()))
    assert (indexed.available, indexed.added) == (False, 0)
    assert (await miner.search_hooks(HookSearchInput(topic="pricing"))).hits == []

