"""The demo's publishing step: approved variants scheduled to the outbox and to a fake Mastodon
started in-process, published once each, and shown on the calendar; twice in a row too."""

from __future__ import annotations

import pytest

from agents.publisher.tokens import TokenCipher, new_key, parse_keys
from runtime.fakes.world import DEMO_POSTS, add_variants, make_world, publish_demo

pytestmark = pytest.mark.integration


async def test_the_demo_publishes_each_post_once_where_it_was_scheduled(embedded_postgres_dsn, tmp_path, fresh_schema):
    async with fresh_schema(embedded_postgres_dsn, tmp_path, prefix="demo") as handle:
        async with handle.db.transaction() as conn:
            world = await make_world(conn)
        cipher = TokenCipher(parse_keys(f"k1:{new_key()}"), "k1")
        first = await publish_demo(handle.db, cipher, world.brand_id, tmp_path / "outbox")
        assert (first.scheduled, first.published) == (2, 2)
        assert len(first.fake_posts) == 1 and first.fake_posts[0]["text"].startswith(DEMO_POSTS["mastodon"])
        assert first.fake_posts[0]["channel"] == "mastodon" and first.refused == []
        assert len(first.outbox_lines) == 1 and first.outbox_lines[0]["text"].startswith(DEMO_POSTS["linkedin"])
        assert sorted((r.channel, r.status) for r in first.rows) == [("linkedin", "success"), ("mastodon", "success")]
        mastodon_row = next(r for r in first.rows if r.channel == "mastodon")
        assert mastodon_row.attempts == 1 and mastodon_row.outcome

        second = await publish_demo(handle.db, cipher, world.brand_id, tmp_path / "outbox")
        assert (second.scheduled, second.published) == (2, 2)
        assert len(second.outbox_lines) == 2 and len({line["key"] for line in second.outbox_lines}) == 2
        assert len(second.rows) == 4


async def test_the_demo_publishes_a_packages_approved_variants_each_to_its_channel(embedded_postgres_dsn, tmp_path,
                                                                                   fresh_schema):  # fmt: skip
    async with fresh_schema(embedded_postgres_dsn, tmp_path, prefix="demo2") as handle:
        async with handle.db.transaction() as conn:
            world = await make_world(conn)
            package = [*await add_variants(conn, world, "x", ["Boards read pipeline by stage, not clicks."]),
                       *await add_variants(conn, world, "bluesky", ["One honest chart beats twelve pretty ones."]),
                       *await add_variants(conn, world, "linkedin", ["We cut our board report to three numbers."]),
                       *await add_variants(conn, world, "x", ["Too long for X. " * 30])]  # fmt: skip
        cipher = TokenCipher(parse_keys(f"k1:{new_key()}"), "k1")
        done = await publish_demo(handle.db, cipher, world.brand_id, tmp_path / "outbox", variants=package)
        assert (done.scheduled, done.published) == (3, 3)
        assert [r.split(":")[0] for r in done.refused] == ["x"] and "over_length" in done.refused[0]
        assert sorted((p["channel"], p["text"]) for p in done.fake_posts) == [
            ("bluesky", package[1].body), ("x", package[0].body)]
        assert [line["text"] for line in done.outbox_lines] == [package[2].body]
