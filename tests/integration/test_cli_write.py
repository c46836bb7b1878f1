"""``kairo write BRAND`` on a real PostgreSQL schema, its brand agent hosted in process (the
running Kairo's gateway stands replaced by ``runtime.local``'s): a card's package is written and
printed with its variants, and bad options are refused before anything is written."""

from __future__ import annotations

import pytest

from runtime.cli import common
from runtime.database import open_database
from runtime.local import LocalAgentGateway, LocalEngines
from storage.objects import OpportunityState
from storage.postgres import repositories as repo
from tests.integration.conftest import insert_article_card

pytestmark = pytest.mark.integration


class _InProcessAgents:
    """Brand agents in the CLI's own event loop, on the database its settings name."""

    def __init__(self, settings, embedder) -> None:
        self.settings, self.embedder = settings, embedder

    async def send(self, brand_id, command):
        pg = await open_database(self.settings, pool_min=0, pool_max=2)
        try:
            return await LocalAgentGateway(pg.db, LocalEngines(self.embedder)).send(brand_id, command)
        finally:
            await pg.close()


@pytest.fixture
async def card(db, seeded, kairo, monkeypatch, minilm):
    monkeypatch.setattr(common, "join", lambda settings: None)
    monkeypatch.setattr(common, "agent_gateway", lambda settings: _InProcessAgents(settings, minilm))
    return await insert_article_card(db, seeded)


async def test_write_a_cards_package_and_print_it(db, seeded, card, kairo, capsys):
    assert await kairo("write", seeded.brand.slug, "--card", str(card.id), "--channel", "linkedin",
                       "--channel", "x", "--variants", "1") == 0  # fmt: skip
    out = capsys.readouterr().out
    async with db.connection() as conn:
        [package] = await repo.packages.list(conn, "brand_id = $1 AND id <> $2", seeded.brand.id, seeded.package.id)
        variants = await repo.variants.list(conn, "content_package_id = $1", package.id)
        written = await repo.opportunity_cards.get(conn, card.id)
    assert sorted(str(v.channel) for v in variants) == ["linkedin", "x"]
    assert f"Package {package.id}" in out
    assert all(v.body.splitlines()[0][:40] in out for v in variants)  # each variant is printed
    assert written.lifecycle_state is OpportunityState.IN_PROGRESS


async def test_bad_options_are_refused_before_anything_is_written(db, seeded, card, kairo, capsys):
    assert await kairo("write", seeded.brand.slug, "--topic", "Offline touchpoints") == 1
    assert "--topic needs --persona and --pillar" in capsys.readouterr().out
    assert await kairo("write", seeded.brand.slug, "--url", "not a url") == 1
    assert "--url" in capsys.readouterr().out
    assert await kairo("write", seeded.brand.slug, "--card", str(card.id), "--variants", "9") == 1
    assert "--variants" in capsys.readouterr().out
    assert await kairo("write", "no-such-brand", "--card", str(card.id)) == 1
    assert "no brand 'no-such-brand'" in capsys.readouterr().out
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM content_packages WHERE id <> $1", seeded.package.id) == 0
