"""Users of the caller's organization and their API keys.

Colleagues may read each other's user records; creating users and changing a user's role or
status are for org admins, and an org always keeps at least one active admin. A user may always
mint and revoke their own keys; org admins manage everyone's in their org. A key the caller may
not manage is not found, wherever it lives. Every change is an EventLog line.
"""

from __future__ import annotations

from datetime import timedelta

from uuid import UUID

from fastapi import Depends

from storage.errors import Conflict, Forbidden, NotFound
from storage.objects import ApiKey, EventLog, EventType, User, UserRole, UserStatus, mint_api_key
from storage.objects.base import utcnow
from storage.postgres import Database
from storage.postgres import repositories as repo

from ..access import require_org_admin
from ..auth import Principal, authenticate, principals
from ..schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyView, UserCreate, UserPatch
from ..routing import kairo_router
from ..services import database
from .queries import Cursor, Limit, by_created, changed, page_of, read_page
from .tenancy import key_created_event

router = kairo_router("/v1", "users")

USERS = by_created("users")
API_KEYS = by_created("api_keys")
UserPage = page_of(User, "UserPage")
ApiKeyPage = page_of(ApiKeyView, "ApiKeyPage")


@router.post("/users", response_model=User, status_code=201)
async def create_user(
    body: UserCreate, principal: Principal = Depends(authenticate), db: Database = Depends(database)
) -> User:
    require_org_admin(principal)
    user = User(org_id=principal.org.id, email=body.email, role=body.role)
    async with db.transaction() as conn:
        await repo.users.insert(conn, user)
    return user


@router.get("/users", response_model=UserPage)
async def list_users(
    limit: Limit = 50, cursor: Cursor = None, principal: Principal = Depends(authenticate),
    db: Database = Depends(database),
) -> UserPage:
    """The org's users, oldest first."""
    async with db.connection() as conn:
        items, next_cursor = await read_page(
            conn, repo.users, "org_id = $1", principal.org.id, order=USERS, cursor=cursor, limit=limit
        )
    return UserPage(items=items, next_cursor=next_cursor)


@router.get("/users/{user_id}", response_model=User)
async def get_user(
    user_id: UUID, principal: Principal = Depends(authenticate), db: Database = Depends(database)
) -> User:
    async with db.connection() as conn:
        return await _colleague(conn, principal, user_id)


@router.patch("/users/{user_id}", response_model=User)
async def update_user(
    user_id: UUID, body: UserPatch, principal: Principal = Depends(authenticate), db: Database = Depends(database)
) -> User:
    """Change a user's org role or deactivate/reactivate them (org admins). An inactive user's
    keys stop working (at once on this replica, within seconds on others)."""
    require_org_admin(principal)
    changes = body.model_dump(exclude_unset=True)
    async with db.transaction() as conn:
        # Lock the org's active admins first, so two admins demoting each other at once cannot
        # both succeed and leave the org without one.
        admins = await conn.fetch(
            "SELECT id FROM users WHERE org_id = $1 AND role = 'admin' AND status = 'active' ORDER BY id FOR UPDATE",
            principal.org.id,
        )
        user = await _colleague(conn, principal, user_id)
        updated = User.model_validate({**user.model_dump(), **changes})
        if updated == user:
            return user
        stays_admin = updated.role is UserRole.ADMIN and updated.status is UserStatus.ACTIVE
        if not stays_admin and {r["id"] for r in admins} == {user.id}:
            raise Conflict("the organization would be left without an active admin",
                           details={"user_id": str(user.id)})  # fmt: skip
        await repo.users.update(conn, updated)
        await repo.event_log.insert(conn, EventLog(
            org_id=principal.org.id, user_id=principal.user.id, event_type=EventType.USER_UPDATED,
            subject_type="user", subject_id=str(user.id), message="user updated",
            meta=changed(user, updated, changes),
        ))  # fmt: skip
    principals.forget(user_id=user.id)
    return updated


@router.post("/users/{user_id}/api-keys", response_model=ApiKeyCreated, status_code=201)
async def create_api_key(
    user_id: UUID, body: ApiKeyCreate, principal: Principal = Depends(authenticate), db: Database = Depends(database)
) -> ApiKeyCreated:
    """A new key for the user; the plaintext is in this response only."""
    async with db.transaction() as conn:
        user = await _colleague(conn, principal, user_id)
        if user.id != principal.user.id and not principal.is_org_admin:
            raise Forbidden("only org admins mint keys for other users", details={"required_role": "admin"})
        if user.status is not UserStatus.ACTIVE:
            raise Conflict("the user is inactive", details={"user_id": str(user.id)})
        token, key = mint_api_key(user.id, body.name)
        expires_at = None if body.expires_in_seconds is None else key.created_at + timedelta(seconds=body.expires_in_seconds)
        key = ApiKey.model_validate({**key.model_dump(), "expires_at": expires_at})
        await repo.api_keys.insert(conn, key)
        await repo.event_log.insert(conn, key_created_event(principal.org.id, principal.user.id, key.id, user.id))
    return ApiKeyCreated(api_key=ApiKeyView.of(key), token=token)


@router.get("/api-keys", response_model=ApiKeyPage)
async def list_api_keys(
    limit: Limit = 50, cursor: Cursor = None, principal: Principal = Depends(authenticate),
    db: Database = Depends(database),
) -> ApiKeyPage:
    """Every key of the org for an org admin; the caller's own keys otherwise."""
    async with db.connection() as conn:
        if principal.is_org_admin:
            keys, next_cursor = await read_page(
                conn, repo.api_keys, "user_id IN (SELECT id FROM users WHERE org_id = $1)", principal.org.id,
                order=API_KEYS, cursor=cursor, limit=limit,
            )  # fmt: skip
        else:
            keys, next_cursor = await read_page(
                conn, repo.api_keys, "user_id = $1", principal.user.id, order=API_KEYS, cursor=cursor, limit=limit
            )
    return ApiKeyPage(items=[ApiKeyView.of(k) for k in keys], next_cursor=next_cursor)


@router.delete("/api-keys/{key_id}", response_model=ApiKeyView)
async def revoke_api_key(
    key_id: UUID, principal: Principal = Depends(authenticate), db: Database = Depends(database)
) -> ApiKeyView:
    """Revoke a key (kept for audit). Revoking a revoked key changes nothing."""
    async with db.transaction() as conn:
        key = await repo.api_keys.find(conn, key_id)
        owner = await repo.users.find(conn, key.user_id) if key else None
        manageable = owner is not None and owner.org_id == principal.org.id and (
            owner.id == principal.user.id or principal.is_org_admin
        )
        if key is None or not manageable:
            raise NotFound(f"ApiKey {key_id} not found", details={"key_id": str(key_id)})
        if key.revoked_at is None:
            key = key.model_copy(update={"revoked_at": utcnow()})
            await repo.api_keys.update(conn, key)
            await repo.event_log.insert(conn, EventLog(
                org_id=principal.org.id, user_id=principal.user.id, event_type=EventType.API_KEY_REVOKED,
                subject_type="api_key", subject_id=str(key.id), message="API key revoked",
                meta={"owner_user_id": str(owner.id)},
            ))  # fmt: skip
    principals.forget(key_id=key.id)  # at once on this replica; other replicas within the TTL
    return ApiKeyView.of(key)


async def _colleague(conn, principal: Principal, user_id: UUID) -> User:
    user = await repo.users.find(conn, user_id)
    if user is None or user.org_id != principal.org.id:
        raise NotFound(f"User {user_id} not found", details={"user_id": str(user_id)})
    return user
