"""``kairo calendar BRAND`` over a real PostgreSQL: a published job shows where it went, a pending
one its time, a job outside the window is not shown."""

from __future__ import annotations

from datetime import timedelta

import aiohttp
import pytest

from agents.publisher.loop import PublisherConfig, PublishLoop
from agents.publisher.scheduling import schedule
from agents.publisher.tokens import TokenCipher, new_key, parse_keys
from runtime.cli import brands, common
from runtime.fakes.world import add_variants, make_world
from runtime.settings import Settings
from storage.objects.base import utcnow
from storage.objects.enums import Channel, ChannelStatus
from storage.objects.publishing import ChannelConfig
from storage.postgres import publishing as store
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration


class _Handle:
    def __init__(self, db) -> None:
        self.db = db

    async def close(self) -> None:  # the fixture owns the pool
        return None


async def test_the_calendar_prints_published_and_pending_posts(embedded_postgres_dsn, tmp_path, fresh_schema, monkeypatch,
                                                               capsys):  # fmt: skip
    async with fresh_schema(embedded_postgres_dsn, tmp_path, prefix="cal") as handle:
        db = handle.db
        cipher = TokenCipher(parse_keys(f"k1:{new_key()}"), "k1")
        async with db.transaction() as conn:
            world = await make_world(conn)
            await store.save_connection(conn, cipher, ChannelConfig(brand_id=world.brand_id, channel=Channel.X,
                                                                    status=ChannelStatus.CONNECTED), store.Secrets())
            soon, later, far = await add_variants(conn, world, "x", [
                "Published first: pipeline beats clicks.", "Waiting its turn tomorrow.", "Next month, outside the window."])
            brand = await repo.brands.get(conn, world.brand_id)
        now = utcnow()
        published = await schedule(db, world.brand_id, soon.id, now + timedelta(seconds=30))
        await schedule(db, world.brand_id, later.id, now + timedelta(days=1))
        await schedule(db, world.brand_id, far.id, now + timedelta(days=30))
        async with db.connection() as conn:
            await conn.execute("UPDATE publishing_jobs SET scheduled_at = now() - interval '1 second' WHERE id = $1",
                               published.id)
        async with aiohttp.ClientSession() as session:
            loop = PublishLoop(db, cipher, session, PublisherConfig(owner="cal", outbox_dir=tmp_path / "outbox"))
            assert await loop.run_once() == 1

        async def brand_database(settings):
            return settings, _Handle(db)

        monkeypatch.setattr(common, "brand_database", brand_database)
        monkeypatch.setattr(common.console, "width", 300)
        capsys.readouterr()
        assert await brands.print_calendar(Settings(), brand.slug, None, 7) == 0
        out = capsys.readouterr().out
        lines = [line for line in out.splitlines() if " x " in line or "│ x" in line]
        assert len(lines) == 2, out
        assert "success" in lines[0] and (tmp_path / "outbox").as_uri() in lines[0] and "Published first" in lines[0]
        assert "pending" in lines[1] and "Waiting its turn" in lines[1]
        assert "Next month" not in out
        assert await brands.print_calendar(Settings(), "no-such-brand", None, 7) == 1
