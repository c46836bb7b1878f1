"""Integration fixtures: real PostgreSQL (embedded and external), one fresh schema per test."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest

from storage.examples import SeedExamples, load_seed_examples
from storage.objects import GlobalSourceDoc, OpportunityCard, OpportunityType, SourceDocType, SourceRef
from storage.postgres import Database
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration


@pytest.fixture(params=["embedded", "external"])
def postgres_dsn(request: pytest.FixtureRequest) -> str:
    """Storage tests run against both the embedded default and a server reached by DSN."""
    return request.getfixturevalue(f"{request.param}_postgres_dsn")


@pytest.fixture
async def db(postgres_dsn: str, tmp_path, fresh_schema):
    """A migrated, empty schema of its own for each test, dropped afterwards."""
    async with fresh_schema(postgres_dsn, tmp_path) as handle:
        assert handle.embedded is None  # a DSN was given: no server may be started
        yield handle.db


@pytest.fixture
async def raw(db: Database):
    """A bare asyncpg connection on the test's schema, for writing rows with raw SQL."""
    conn = await asyncpg.connect(
        dsn=db.pool._connect_args[0], server_settings={"search_path": db.schema}  # noqa: SLF001
    )
    yield conn
    await conn.close()


ARTICLE = (Path(__file__).parents[1] / "data" / "writer" / "attribution_article.txt").read_text()


async def insert_article_card(db: Database, examples: SeedExamples) -> OpportunityCard:
    """A card of the seed brand (its first card's persona and pillar) on a real article of its
    subject, stored with the article: something to write a package about."""
    doc = GlobalSourceDoc(source_type=SourceDocType.ARTICLE, title="Why attribution reports lose the board",
                          language="en", text=ARTICLE)  # fmt: skip
    persona, pillar = examples.opportunity_cards[0].persona_id, examples.opportunity_cards[0].pillar_id
    card = OpportunityCard(brand_id=examples.brand.id, persona_id=persona, pillar_id=pillar,
                           source_refs=[SourceRef(global_source_doc_id=doc.id, relevance_note="attribution article")],
                           angle_summary="Attribution reports lose the board when they ignore offline touchpoints.",
                           opportunity_type=OpportunityType.TREND, score=80)  # fmt: skip
    async with db.transaction() as conn:
        await repo.source_docs.insert(conn, doc)
        await repo.opportunity_cards.insert(conn, card)
    return card


async def insert_examples(db: Database, examples: SeedExamples) -> None:
    """Every seed-000 example object (except the memory fragment, which needs the vector
    store) written through the repositories, in dependency order, in one transaction."""
    e = examples
    async with db.transaction() as conn:
        await repo.orgs.insert(conn, e.org)
        await repo.users.insert(conn, e.user)
        await repo.brands.insert(conn, e.brand)
        await repo.memberships.insert(conn, e.membership)
        await repo.personas.insert(conn, e.persona)
        await repo.pillars.insert_many(conn, e.pillars)
        for snapshot in e.snapshots:
            await repo.snapshots.insert(conn, snapshot)
        await repo.runtime_contexts.insert(conn, e.runtime_context)
        await repo.source_docs.insert(conn, e.source_doc)
        await repo.pattern_source_posts.insert(conn, e.pattern_source_post)
        await repo.pattern_templates.insert_many(conn, e.pattern_templates)
        await repo.opportunity_cards.insert_many(conn, e.opportunity_cards)
        await repo.opportunity_batches.insert(conn, e.opportunity_batch)
        await repo.packages.create(conn, e.package, e.core_argument, e.channel_plans)
        await repo.variants.insert(conn, e.variant)
        await repo.pattern_usages.insert(conn, e.pattern_usage)
        await repo.feedback_events.insert(conn, e.feedback_event)
        await repo.brand_preferences.insert(conn, e.preferences)
        await repo.global_priors.insert(conn, e.global_priors)
        await repo.channel_configs.insert(conn, e.channel_config)
        await repo.publishing_jobs.insert(conn, e.publishing_job)


@pytest.fixture
def examples() -> SeedExamples:
    return load_seed_examples()


@pytest.fixture
async def seeded(db: Database, examples: SeedExamples) -> SeedExamples:
    """The database holding every seed example."""
    await insert_examples(db, examples)
    return examples


@pytest.fixture
def kairo(db: Database, monkeypatch, minilm):
    """``await kairo(*argv)`` runs the ``kairo`` command line on the test's schema (a configured
    database: no cluster is joined) with the session's MiniLM as its embedder, in a worker thread
    (the CLI runs its own event loop)."""
    import asyncio

    import storage.memory
    from runtime import cli, settings as settings_module
    from runtime.cli import common

    monkeypatch.setenv("KAIRO_DATABASE_URL", db.pool._connect_args[0])  # noqa: SLF001 - the test's DSN
    monkeypatch.setenv("KAIRO_DATABASE_SCHEMA", db.schema)
    monkeypatch.setattr(storage.memory, "Embedder", lambda **_: minilm)
    monkeypatch.setattr(common, "join", lambda settings: pytest.fail("a configured database needs no cluster"))
    monkeypatch.setattr(common.console, "width", 300)
    settings_module.get_settings.cache_clear()
    yield lambda *argv: asyncio.to_thread(cli.main, list(argv))
    settings_module.get_settings.cache_clear()
