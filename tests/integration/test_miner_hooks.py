"""The hook library on real Chroma and MiniLM: best performers' hooks, global and brand spaces."""

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


async def test_hooks_from_the_database_are_searched_and_read_back(tmp_path, minilm, embedded_postgres_dsn,
                                                                 fresh_schema):
    from agents.engines.miner import PatternMiner
    from agents.miner.service import import_file, mine_scope, refresh_hooks, search_hooks

    miner = PatternMiner()
    labeller = miner.labeller
    async with fresh_schema(embedded_postgres_dsn, tmp_path, prefix="hooks") as handle:
        await import_file(handle.db, miner, (DATA / "swipe_posts.jsonl").read_text(), "jsonl")
        report = await mine_scope(handle.db, miner)
        async with await VectorIndex.open(path=tmp_path / "chroma", embedder=minilm) as index:
            library = HookLibrary(index, minilm)
            added = await refresh_hooks(handle.db, library, labeller, top_fraction=0.5)
            assert added >= 10
            found = await search_hooks(handle.db, library, labeller, "hiring and managing engineers", k=3)
            on_x = await search_hooks(handle.db, library, labeller, "hiring and managing engineers",
                                      channel=Channel.X, k=3)
    template_ids = {t.id for t in report.templates}
    assert len(found) == 3 and all(hook.template_id in template_ids for hook, _ in found)
    assert [d for _, d in found] == sorted(d for _, d in found)
    assert on_x and all(hook.channel == Channel.X for hook, _ in on_x)
