"""First start: the operator organization, its admin and an API key.

The operator org is the installation's own tenant; its admins create the other orgs through
``POST /v1/orgs``. The plaintext key is returned once for the CLI to print and never stored.
"""

from __future__ import annotations

from storage.objects import EventLog, EventType, Org, User, UserRole, mint_api_key
from storage.postgres import Database
from storage.postgres import repositories as repo

OPERATOR_SLUG = "operator"
# The spec's "admin@localhost" has no dot in its domain, which the email rule (model and
# database) refuses; ".localhost" is reserved for exactly this (RFC 6761).
OPERATOR_ADMIN_EMAIL = "admin@kairo.localhost"
_LOCK_KEY = "kairo:bootstrap_operator"


async def bootstrap_operator(db: Database) -> str | None:
    """Create the operator org, its admin and a key when there is no operator org yet; the key's
    plaintext, or None when it already existed. Other orgs (the demo's example org, say) do not
    count. Safe when several processes start at once."""
    async with db.transaction() as conn:
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", _LOCK_KEY)
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM orgs WHERE operator)"):
            return None
        org = Org(name="Operator", slug=OPERATOR_SLUG, operator=True)
        admin = User(org_id=org.id, email=OPERATOR_ADMIN_EMAIL, role=UserRole.ADMIN)
        token, key = mint_api_key(admin.id, "operator bootstrap key")
        await repo.orgs.insert(conn, org)
        await repo.users.insert(conn, admin)
        await repo.api_keys.insert(conn, key)
        await repo.event_log.insert(conn, EventLog(
            org_id=org.id, user_id=admin.id, event_type=EventType.API_KEY_CREATED, subject_type="api_key",
            subject_id=str(key.id), message="operator organization bootstrapped",
        ))  # fmt: skip
    return token
