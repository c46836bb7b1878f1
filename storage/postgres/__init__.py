"""PostgreSQL, the system of record: connection pools, migrations, repositories."""

from .database import Database
from .embedded import EmbeddedPostgres
from .migrate import apply_migrations

__all__ = ["Database", "EmbeddedPostgres", "apply_migrations"]
