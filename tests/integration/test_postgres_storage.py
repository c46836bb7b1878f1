"""Repositories, versioning, transactions and migrations on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from storage.bootstrap import open_postgres
from storage.errors import Conflict, Invalid, NotFound
from storage.objects import Brand, BrandBrainSnapshot, Persona
from storage.postgres import Database, apply_migrations
from storage.postgres import repositories as repo
from storage.postgres.migrate import available_migrations

pytestmark = pytest.mark.integration


async def test_new_snapshot_gets_next_version(db, seeded):
    draft = seeded.snapshots[-1].model_copy(update={"id": uuid.uuid4(), "version": 1})
    async with db.transaction() as conn:
        created = await repo.snapshots.create_next(conn, draft, expected_version=3)
    assert created.version == 4
    async with db.connection() as conn:
        latest = await repo.snapshots.latest(conn, seeded.brand.id)
    assert latest == created


async def test_snapshot_from_stale_version_is_a_conflict(db, seeded):
    draft = seeded.snapshots[-1].model_copy(update={"id": uuid.uuid4(), "version": 1})
    with pytest.raises(Conflict) as caught:
        async with db.transaction() as conn:
            await repo.snapshots.create_next(conn, draft, expected_version=2)
    assert caught.value.details == {"field": "expected_version", "expected_version": 2, "current_version": 3}
    async with db.connection() as conn:
        assert (await repo.snapshots.latest(conn, seeded.brand.id)).version == 3


async def test_concurrent_snapshots_get_distinct_consecutive_versions(db, seeded):
    async def create() -> int:
        draft = seeded.snapshots[-1].model_copy(update={"id": uuid.uuid4(), "version": 1})
        async with db.transaction() as conn:
            return (await repo.snapshots.create_next(conn, draft)).version

    versions = await asyncio.gather(*(create() for _ in range(6)))
    assert sorted(versions) == [4, 5, 6, 7, 8, 9]


async def test_runtime_context_write_with_stale_version_conflicts(db, seeded):
    context = seeded.runtime_context
    async with db.transaction() as conn:
        saved = await repo.runtime_contexts.save(conn, context, expected_version=1)
    assert saved.version == 2
    with pytest.raises(Conflict) as caught:
        async with db.transaction() as conn:
            await repo.runtime_contexts.save(conn, context, expected_version=1)
    assert caught.value.details["current_version"] == 2
    async with db.connection() as conn:
        stored = await repo.runtime_contexts.get(conn, context.id)
    assert stored.version == 2 and stored.channel_overrides == context.channel_overrides


async def test_saving_unknown_runtime_context_is_not_found(db, seeded):
    ghost = seeded.runtime_context.model_copy(update={"id": uuid.uuid4()})
    with pytest.raises(NotFound):
        async with db.transaction() as conn:
            await repo.runtime_contexts.save(conn, ghost, expected_version=1)


async def test_failed_transaction_leaves_nothing_behind(db, seeded):
    brand = Brand(org_id=seeded.org.id, name="Half Written", slug="half-written",
                  owner_user_ids=[seeded.user.id], primary_channels=["x"])
    persona = Persona(brand_id=brand.id, name="P", description="d", pain_points=["a"], goals=["b"])
    with pytest.raises(Invalid) as caught:
        async with db.transaction() as conn:
            await repo.brands.insert(conn, brand)
            await repo.personas.insert(conn, persona)
            # A snapshot naming a persona of another brand: refused by the database.
            await repo.snapshots.insert(conn, BrandBrainSnapshot(
                brand_id=brand.id, version=1, positioning="x", persona_ids=[seeded.persona.id]))
    assert caught.value.details["constraint"] == "brand_brain_snapshots_persona_ids_resolved"
    async with db.connection() as conn:
        assert await repo.brands.find(conn, brand.id) is None
        assert await repo.personas.find(conn, persona.id) is None


async def test_cancelled_transaction_rolls_back(db, seeded):
    brand = Brand(org_id=seeded.org.id, name="Cancelled", slug="cancelled",
                  owner_user_ids=[seeded.user.id], primary_channels=["x"])
    inserted = asyncio.Event()

    async def write_then_hang() -> None:
        async with db.transaction() as conn:
            await repo.brands.insert(conn, brand)
            inserted.set()
            await asyncio.sleep(30)

    task = asyncio.create_task(write_then_hang())
    await inserted.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with db.connection() as conn:
        assert await repo.brands.find(conn, brand.id) is None


async def test_duplicate_slug_in_org_is_a_conflict_naming_the_constraint(db, seeded):
    twin = seeded.brand.model_copy(update={"id": uuid.uuid4()})
    with pytest.raises(Conflict) as caught:
        async with db.transaction() as conn:
            await repo.brands.insert(conn, twin)
    assert caught.value.details["constraint"] == "brands_slug_unique"


async def test_migrations_are_idempotent_and_recorded(db):
    assert await apply_migrations(db) == []
    async with db.connection() as conn:
        rows = await conn.fetch("SELECT version, checksum FROM schema_migrations ORDER BY version")
    assert [(r["version"], r["checksum"]) for r in rows] == [(m.version, m.checksum) for m in available_migrations()]


async def test_edited_applied_migration_is_refused(db):
    async with db.connection() as conn:
        await conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
    with pytest.raises(Conflict, match="changed after it was applied"):
        await apply_migrations(db)


async def test_concurrent_starts_apply_migrations_once(postgres_dsn, tmp_path):
    schema = f"t_{uuid.uuid4().hex[:12]}"
    handles = await asyncio.gather(*(
        open_postgres(database_url=postgres_dsn, data_dir=tmp_path, schema=schema, pool_max=1) for _ in range(3)
    ))
    try:
        async with handles[0].db.connection() as conn:
            assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == len(available_migrations())
    finally:
        async with handles[0].db.connection() as conn:
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        for handle in handles:
            await handle.close()


async def test_a_connection_comes_back_from_the_pool_outside_any_transaction(db):
    # The pool skips asyncpg's reset query; an open transaction must still be rolled back.
    single = await Database.connect(db.pool._connect_args[0], schema=db.schema, max_size=1)  # noqa: SLF001
    try:
        async with single.connection() as conn:
            await conn.execute("BEGIN")
            await conn.execute("INSERT INTO orgs (id, name, slug) VALUES ($1, 'Left open', 'left-open')", uuid.uuid4())
        async with single.connection() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT count(*) FROM orgs WHERE slug = 'left-open'") == 0
    finally:
        await single.close()


async def test_migrations_release_their_session_lock_before_the_connection_returns(db):
    single = await Database.connect(db.pool._connect_args[0], schema=db.schema, max_size=1)  # noqa: SLF001
    try:
        assert await apply_migrations(single) == []
        async with single.connection() as conn:
            held = await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            )
        assert held == 0
    finally:
        await single.close()


async def test_bad_schema_name_is_refused_before_connecting(postgres_dsn):
    with pytest.raises(Invalid) as caught:
        await Database.connect(postgres_dsn, schema="x; DROP TABLE brands")
    assert caught.value.details == {"field": "schema"}


async def test_without_database_url_the_embedded_server_starts_and_stops(data_root):
    data_dir = data_root / f"embedded-{uuid.uuid4().hex[:8]}"
    handle = await open_postgres(database_url=None, data_dir=data_dir)
    assert handle.embedded is not None
    assert (data_dir / "postgres" / "PG_VERSION").exists()
    async with handle.db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM channels") == 5
    dsn = handle.embedded.dsn
    await handle.close()
    with pytest.raises((OSError, asyncpg.PostgresError)):
        await asyncpg.connect(dsn, timeout=3)
