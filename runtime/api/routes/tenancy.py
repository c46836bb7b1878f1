"""The caller (``/v1/me``) and organizations (tenants)."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Depends

from storage.errors import Forbidden, NotFound
from storage.objects import EventLog, EventType, Org, User, UserRole, mint_api_key
from storage.postgres import Database
from storage.postgres import repositories as repo

from ..auth import Principal, authenticate
from ..schemas import ERROR_RESPONSES, ApiKeyView, Me, OrgCreate, OrgCreated
from ..services import database

router = APIRouter(prefix="/v1", tags=["tenancy"], responses=ERROR_RESPONSES)


@router.get("/me", response_model=Me)
async def me(principal: Principal = Depends(authenticate), db: Database = Depends(database)) -> Me:
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


def key_created_event(org_id: UUID, actor_id: UUID, key_id: UUID, owner_id: UUID) -> EventLog:
    return EventLog(
        org_id=org_id, user_id=actor_id, event_type=EventType.API_KEY_CREATED, subject_type="api_key",
        subject_id=str(key_id), message="API key created", meta={"owner_user_id": str(owner_id)},
    )  # fmt: skip
