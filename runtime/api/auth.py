"""Who is calling: ``Authorization: Bearer kairo_<lookup>_<secret>`` → a Principal (user, org).

The key is found by its public ``lookup`` and checked in constant time against the stored hash;
it must be neither revoked nor expired, and its user and org must be active. Every failure is a
401 that does not say which check failed before the secret was proven.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Depends, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from runtime.logs import bind_context
from storage.errors import Unauthenticated
from storage.objects import ApiKey, OrgStatus, User, UserRole, UserStatus, parse_api_key
from storage.objects.base import utcnow
from storage.objects.tenancy import Org, hash_secret
from storage.postgres import Database
from storage.postgres import repositories as repo

from .services import database

LAST_USED_RESOLUTION = timedelta(minutes=1)
# A verified key is trusted for this long per replica before it is read again: a revoked key,
# a deactivated user or a suspended org stop working within this window on other replicas
# (immediately on the replica that revoked the key).
PRINCIPAL_TTL_SECONDS = 5.0
PRINCIPAL_CACHE_MAX = 10_000
_BAD_KEY = "invalid API key"
# Compared against when the lookup matches no key, so a miss costs the same as a wrong secret.
_DUMMY_HASH = hash_secret("kairo-no-such-key")

bearer = HTTPBearer(auto_error=False, description="an API key: kairo_<lookup>_<secret>")


@dataclass(frozen=True)
class Principal:
    user: User
    org: Org
    key: ApiKey

    @property
    def is_org_admin(self) -> bool:
        return self.user.role is UserRole.ADMIN

    @property
    def is_operator_admin(self) -> bool:
        return self.org.operator and self.is_org_admin


class _PrincipalCache:
    """Principals of recently verified tokens, keyed by the token's digest (never the token)."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Principal]] = {}

    @staticmethod
    def _digest(token: str) -> str:
        return hash_secret(token)

    def get(self, token: str) -> Principal | None:
        entry = self._entries.get(self._digest(token))
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token: str, principal: Principal) -> None:
        if len(self._entries) >= PRINCIPAL_CACHE_MAX:
            now = time.monotonic()
            self._entries = {k: v for k, v in self._entries.items() if v[0] >= now}
            if len(self._entries) >= PRINCIPAL_CACHE_MAX:
                self._entries.clear()
        self._entries[self._digest(token)] = (time.monotonic() + PRINCIPAL_TTL_SECONDS, principal)

    def forget(self, *, key_id: object = None, user_id: object = None, org_id: object = None) -> None:
        """Drop the principals of a revoked key, a changed user or a changed org."""

        def stale(p: Principal) -> bool:
            return p.key.id == key_id or p.user.id == user_id or p.org.id == org_id

        self._entries = {k: v for k, v in self._entries.items() if not stale(v[1])}


principals = _PrincipalCache()


async def authenticate(
    credentials: HTTPAuthorizationCredentials | None = Security(bearer),
    db: Database = Depends(database),
) -> Principal:
    """The caller, or Unauthenticated. Records ``last_used_at`` at most once a minute."""
    if credentials is None:
        raise Unauthenticated("missing API key: send 'Authorization: Bearer kairo_…'",
                              details={"header": "Authorization"})  # fmt: skip
    token = credentials.credentials
    cached = principals.get(token)
    if cached is not None:
        bind_context(user_id=str(cached.user.id), org_id=str(cached.org.id))
        return cached
    parsed = parse_api_key(token)
    if parsed is None:
        raise Unauthenticated(_BAD_KEY, details={"header": "Authorization"})
    async with db.connection() as conn:
        found = await repo.api_keys.list(conn, "lookup = $1", parsed[0], limit=1)
        key = found[0] if found else None
        if key is None:
            hmac.compare_digest(hash_secret(parsed[1]), _DUMMY_HASH)  # same cost as a wrong secret
            raise Unauthenticated(_BAD_KEY, details={"header": "Authorization"})
        if not key.matches(token):
            raise Unauthenticated(_BAD_KEY, details={"header": "Authorization"})
        now = utcnow()
        if key.revoked_at is not None:
            raise Unauthenticated("API key revoked", details={"api_key_id": str(key.id)})
        if key.expires_at is not None and key.expires_at <= now:
            raise Unauthenticated("API key expired", details={"api_key_id": str(key.id)})
        user = await repo.users.find(conn, key.user_id)
        org = await repo.orgs.find(conn, user.org_id) if user else None
        if user is None or org is None or user.status is not UserStatus.ACTIVE:
            raise Unauthenticated("the key's user is inactive", details={"api_key_id": str(key.id)})
        if org.status is not OrgStatus.ACTIVE:
            raise Unauthenticated("the key's organization is suspended", details={"api_key_id": str(key.id)})
        if key.last_used_at is None or now - key.last_used_at >= LAST_USED_RESOLUTION:
            # Conditional, so concurrent requests of one key write at most once a minute.
            await conn.execute(
                "UPDATE api_keys SET last_used_at = $2 WHERE id = $1"
                " AND (last_used_at IS NULL OR last_used_at <= $2::timestamptz - interval '1 minute')",
                key.id, now,
            )  # fmt: skip
    bind_context(user_id=str(user.id), org_id=str(org.id))
    principal = Principal(user=user, org=org, key=key)
    principals.put(token, principal)
    return principal
