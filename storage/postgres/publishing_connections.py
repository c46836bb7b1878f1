"""Publishing connections: a brand's channel configs with their credentials sealed beside them
(``channel_credentials``), token refreshes one at a time per connection, and key rotation.

A token refresh runs under the credentials row's lock (``SELECT … FOR UPDATE``), so one refresh
at a time per connection across processes; the new pair is committed before it is used, and a
refresh that brought no refresh token keeps the stored one.

Secrets are sealed with :class:`agents.publisher.tokens.TokenCipher`-like objects passed in
(anything with ``encrypt(plaintext, aad)`` / ``decrypt(envelope, aad)``), bound to their row
and field.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from storage.errors import NotFound
from storage.objects.publishing import AuthStatus, ChannelConfig

from . import repositories as repo
from .database import Database, translate_errors

SECRET_FIELDS = ("access_token", "refresh_token", "client_secret", "signing_secret")


class Sealer(Protocol):
    def encrypt(self, plaintext: str, aad: str) -> str: ...
    def decrypt(self, envelope: str, aad: str) -> str: ...


@dataclass(frozen=True)
class Secrets:
    """A connection's secrets in plaintext: only in memory, between the API and the sealer."""

    access_token: str | None = None
    refresh_token: str | None = None
    client_secret: str | None = None
    signing_secret: str | None = None
    client_id: str | None = None

    def __repr__(self) -> str:  # never print a secret
        return "Secrets(***)"


@dataclass(frozen=True)
class Grant:
    """A refresh's result (what the adapter's ``TokenGrant`` carries)."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime | None


def _aad(config_id: UUID, field: str) -> str:
    return f"channel_credentials/{config_id}/{field}"

# -- connections ------------------------------------------------------------------------------


async def save_connection(conn: asyncpg.Connection, sealer: Sealer, config: ChannelConfig, secrets: Secrets) -> ChannelConfig:
    """Connect (or reconnect) a brand's channel: the config upserted on (brand, channel), the
    secrets sealed beside it. A reconnect without a refresh token keeps the stored one."""
    row = repo.channel_configs.table.to_row(config)
    cols = list(row)
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c not in ("id", "brand_id", "channel", "created_at"))
    with translate_errors():
        config_id = await conn.fetchval(
            f"INSERT INTO channel_configs ({', '.join(cols)}) VALUES ({', '.join(f'${i}' for i in range(1, len(cols) + 1))}) "
            f"ON CONFLICT ON CONSTRAINT channel_configs_one_per_channel DO UPDATE SET {updates} RETURNING id",
            *[row[c] for c in cols],
        )
        sealed = {f: sealer.encrypt(getattr(secrets, f), _aad(config_id, f)) if getattr(secrets, f) else None
                  for f in SECRET_FIELDS}
        await conn.execute(
            "INSERT INTO channel_credentials (channel_config_id, access_token, refresh_token, client_secret, signing_secret, client_id)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (channel_config_id) DO UPDATE SET"
            " access_token = coalesce(EXCLUDED.access_token, channel_credentials.access_token),"
            " refresh_token = coalesce(EXCLUDED.refresh_token, channel_credentials.refresh_token),"
            " client_secret = coalesce(EXCLUDED.client_secret, channel_credentials.client_secret),"
            " signing_secret = coalesce(EXCLUDED.signing_secret, channel_credentials.signing_secret),"
            " client_id = coalesce(EXCLUDED.client_id, channel_credentials.client_id), updated_at = now()",
            config_id, sealed["access_token"], sealed["refresh_token"], sealed["client_secret"], sealed["signing_secret"],
            secrets.client_id,
        )  # fmt: skip
    return await repo.channel_configs.get(conn, config_id)


async def disconnect(conn: asyncpg.Connection, config_id: UUID) -> ChannelConfig:
    """Disconnect: status ``disconnected`` and the secrets deleted."""
    with translate_errors():
        found = await conn.execute(
            "UPDATE channel_configs SET status = 'disconnected', auth_status = 'ok', updated_at = now() WHERE id = $1", config_id
        )
        await conn.execute("DELETE FROM channel_credentials WHERE channel_config_id = $1", config_id)
    if found.endswith(" 0"):
        raise NotFound(f"ChannelConfig {config_id} not found", details={"id": str(config_id)})
    return await repo.channel_configs.get(conn, config_id)


async def connection_for(conn: asyncpg.Connection, brand_id: UUID, channel: str) -> ChannelConfig | None:
    found = await repo.channel_configs.list(conn, "brand_id = $1 AND channel = $2", brand_id, channel, limit=1)
    return found[0] if found else None


async def open_secrets(conn: asyncpg.Connection, sealer: Sealer, config_id: UUID, *, lock: bool = False) -> Secrets:
    """The decrypted secrets of a connection (``lock``: hold its row lock in this transaction)."""
    with translate_errors():
        row = await conn.fetchrow(
            "SELECT * FROM channel_credentials WHERE channel_config_id = $1" + (" FOR UPDATE" if lock else ""), config_id
        )
    return _opened(sealer, config_id, row)


def _opened(sealer: Sealer, config_id: UUID, row: asyncpg.Record | None) -> Secrets:
    if row is None:
        return Secrets()
    return Secrets(**{f: sealer.decrypt(row[f], _aad(config_id, f)) if row[f] else None for f in SECRET_FIELDS},
                   client_id=row["client_id"])  # fmt: skip


async def connections_with_secrets(conn: asyncpg.Connection, sealer: Sealer, keys: Iterable[tuple[UUID, str]]
                                   ) -> dict[tuple[UUID, str], tuple[ChannelConfig | None, Secrets]]:
    """The connection of each (brand, channel) with its decrypted secrets, in two queries
    whatever the number of keys (a publish batch reads its connections once)."""
    keys = list(dict.fromkeys(keys))
    with translate_errors():
        configs = await repo.channel_configs.list(
            conn, "(brand_id, channel) IN (SELECT * FROM unnest($1::uuid[], $2::text[]))",
            [k[0] for k in keys], [k[1] for k in keys])  # fmt: skip
        rows = {r["channel_config_id"]: r for r in await conn.fetch(
            "SELECT * FROM channel_credentials WHERE channel_config_id = ANY($1::uuid[])", [c.id for c in configs])}
    found = {(c.brand_id, c.channel.value): c for c in configs}
    out: dict[tuple[UUID, str], tuple[ChannelConfig | None, Secrets]] = {}
    for key in keys:
        config = found.get(key)
        out[key] = (config, _opened(sealer, config.id, rows.get(config.id)) if config is not None else Secrets())
    return out


async def refresh_tokens(
    db: Database,
    sealer: Sealer,
    config_id: UUID,
    refresher: Callable[[Secrets], Awaitable[Grant]],
    *,
    still_needed: Callable[[ChannelConfig, Secrets], bool],
) -> tuple[ChannelConfig, Secrets]:
    """Refresh a connection's tokens, one refresher at a time per connection.

    Under the credentials row lock the state is read again: when ``still_needed`` says another
    publisher already refreshed, its tokens are returned and no refresh is made (a second use of
    a single-use refresh token would be refused). Otherwise ``refresher`` runs (HTTP, under the
    lock) and the new pair is committed before it is returned. An exception from ``refresher``
    rolls back and propagates; the caller marks the connection (see :func:`mark_connection`).
    """
    async with db.transaction() as conn:
        secrets = await open_secrets(conn, sealer, config_id, lock=True)
        config = await repo.channel_configs.get(conn, config_id)
        if not still_needed(config, secrets):
            return config, secrets
        grant = await refresher(secrets)
        with translate_errors():
            await conn.execute(
                "UPDATE channel_credentials SET access_token = $2, refresh_token = coalesce($3, refresh_token),"
                " refreshes = refreshes + 1, refreshed_at = now(), updated_at = now() WHERE channel_config_id = $1",
                config_id, sealer.encrypt(grant.access_token, _aad(config_id, "access_token")),
                sealer.encrypt(grant.refresh_token, _aad(config_id, "refresh_token")) if grant.refresh_token else None,
            )  # fmt: skip
            await conn.execute(
                "UPDATE channel_configs SET token_expires_at = $2, updated_at = now() WHERE id = $1", config_id, grant.expires_at
            )
        fresh = await open_secrets(conn, sealer, config_id)
        return await repo.channel_configs.get(conn, config_id), fresh


async def mark_connection(
    conn: asyncpg.Connection, config_id: UUID, *, auth_status: AuthStatus | None, error: str | None
) -> None:
    """Record a problem on a connection: an auth problem turns it to ``error`` (nothing more is
    published until someone reconnects); any other error is only noted."""
    with translate_errors():
        if auth_status is not None and auth_status is not AuthStatus.OK:
            await conn.execute(
                "UPDATE channel_configs SET status = 'error', auth_status = $2, last_error = $3, updated_at = now() WHERE id = $1",
                config_id, auth_status.value, (error or auth_status.value)[:500],
            )  # fmt: skip
        elif error:
            await conn.execute(
                "UPDATE channel_configs SET last_error = $2, updated_at = now() WHERE id = $1", config_id, error[:500]
            )


async def block_connection(conn: asyncpg.Connection, config_id: UUID, until: datetime) -> None:
    """A cap or 429: no publisher sends to this connection before ``until``."""
    with translate_errors():
        await conn.execute(
            "UPDATE channel_configs SET blocked_until = greatest(coalesce(blocked_until, $2), $2), updated_at = now()"
            " WHERE id = $1", config_id, until,
        )  # fmt: skip


async def rotate_keys(db: Database, sealer: Any) -> int:
    """Re-encrypt every sealed secret under the sealer's current key; how many were rewritten.
    Rows are locked one at a time, so publishers keep running."""
    async with db.connection() as conn:
        ids = [r["channel_config_id"] for r in await conn.fetch("SELECT channel_config_id FROM channel_credentials")]
    rewritten = 0
    for config_id in ids:
        async with db.transaction() as conn:
            row = await conn.fetchrow("SELECT * FROM channel_credentials WHERE channel_config_id = $1 FOR UPDATE", config_id)
            if row is None:
                continue
            new = {f: sealer.rotate(row[f], _aad(config_id, f)) if row[f] else None for f in SECRET_FIELDS}
            changed = {f: v for f, v in new.items() if v is not None}
            if changed:
                sets = ", ".join(f"{f} = ${i}" for i, f in enumerate(changed, start=2))
                await conn.execute(f"UPDATE channel_credentials SET {sets} WHERE channel_config_id = $1", config_id, *changed.values())
                rewritten += len(changed)
    return rewritten


__all__ = [
    "SECRET_FIELDS", "Grant", "Sealer", "Secrets", "block_connection", "connection_for", "connections_with_secrets",
    "disconnect", "mark_connection", "open_secrets", "refresh_tokens", "rotate_keys", "save_connection",
]  # fmt: skip
