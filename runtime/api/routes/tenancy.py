"""The caller (``/v1/me``) and organizations (tenants)."""

from __future__ import annotations

from uuid import UUID

from fastapi import Depends

from storage.errors import Conflict, Forbidden, NotFound
from storage.objects import EventLog, EventType, Org, OrgStatus, User, UserRole, mint_api_key
from storage.postgres import Database
from storage.postgres import repositories as repo

from ..access import require_org_admin
from ..auth import Principal, authenticate, principals
from ..schemas import ApiKeyView, Me, OrgCreate, OrgCreated, OrgPatch
from ..routing import kairo_router
from ..services import database
from .queries import changed

router = kairo_router("/v1", "tenancy")


@router.get("/me", response_model=Me)
async def get_me(principal: Principal = Depends(authenticate), db: Database = Depends(database)) -> Me:
    async with db.connection() as conn:
        memberships = await repo.memberships.list(conn, "user_id = $1", principal.user.id, order_by="created_at, id")
    return Me(user=principal.user, org=principal.org, api_key=ApiKeyView.of(principal.key), memberships=memberships)


@router.post("/orgs", response_model=OrgCreated, status_code=201)
async def create_org(
    body: OrgCreate, principal: Principal = Depends(authenticate), db: Database = Depends(database)
) -> OrgCreated:
    """A new tenant with its first admin user and API key (only admins of the operator org)."""
    if not principal.is_operator_admin:
        raise Forbidden("only admins of the operator organization create organizations")
    org = Org(name=body.name, slug=body.slug)
    admin = User(org_id=org.id, email=body.admin_email, role=UserRole.ADMIN)
    token, key = mint_api_key(admin.id, "initial admin key")
    async with db.transaction() as conn:
        await repo.orgs.insert(conn, org)
        await repo.users.insert(conn, admin)
        await repo.api_keys.insert(conn, key)
        await repo.event_log.insert(conn, key_created_event(org.id, principal.user.id, key.id, admin.id))
    return OrgCreated(org=org, admin=admin, api_key=ApiKeyView.of(key), token=token)


@router.get("/orgs/{org_id}", response_model=Org)
async def get_org(org_id: UUID, principal: Principal = Depends(authenticate), db: Database = Depends(database)) -> Org:
    """The caller's own organization (operator admins may read any)."""
    if org_id != principal.org.id and not principal.is_operator_admin:
        raise NotFound(f"Org {org_id} not found", details={"org_id": str(org_id)})
    async with db.connection() as conn:
        return await repo.orgs.get(conn, org_id)


@router.patch("/orgs/{org_id}", response_model=Org)
async def update_org(
    org_id: UUID, body: OrgPatch, principal: Principal = Depends(authenticate), db: Database = Depends(database)
) -> Org:
    """Rename an organization (its admins) or suspend/reactivate it (operator admins only; the
    operator organization itself is never suspended). A suspended org's keys stop working at
    once on this replica, within seconds on others."""
    if org_id != principal.org.id and not principal.is_operator_admin:
        raise NotFound(f"Org {org_id} not found", details={"org_id": str(org_id)})
    require_org_admin(principal)
    changes = body.model_dump(exclude_unset=True)
    if "status" in changes and not principal.is_operator_admin:
        raise Forbidden("only admins of the operator organization change an organization's status",
                        details={"field": "body.status"})  # fmt: skip
    async with db.transaction() as conn:
        org = await conn.fetchrow("SELECT * FROM orgs WHERE id = $1 FOR UPDATE", org_id)
        if org is None:
            raise NotFound(f"Org {org_id} not found", details={"org_id": str(org_id)})
        current = repo.orgs.table.from_row(org)
        updated = Org.model_validate({**current.model_dump(), **changes})
        if updated == current:
            return current
        if current.operator and updated.status is not OrgStatus.ACTIVE:
            raise Conflict("the operator organization cannot be suspended", details={"org_id": str(org_id)})
        await repo.orgs.update(conn, updated)
        await repo.event_log.insert(conn, EventLog(
            org_id=org_id, user_id=principal.user.id, event_type=EventType.ORG_UPDATED, subject_type="org",
            subject_id=str(org_id), message="organization updated",
            meta=changed(current, updated, changes),
        ))  # fmt: skip
    principals.forget(org_id=org_id)
    return updated


def key_created_event(org_id: UUID, actor_id: UUID, key_id: UUID, owner_id: UUID) -> EventLog:
    return EventLog(
        org_id=org_id, user_id=actor_id, event_type=EventType.API_KEY_CREATED, subject_type="api_key",
        subject_id=str(key_id), message="API key created", meta={"owner_user_id": str(owner_id)},
    )  # fmt: skip
