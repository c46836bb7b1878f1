"""Brands (onboarding, listing, reading) and their members."""

from __future__ import annotations

from uuid import UUID

from fastapi import Depends

from agents.brand_brain import OnboardingRequest, onboard_brand
from storage.errors import Forbidden, Invalid, NotFound
from storage.objects import Brand, BrandMembership, EventLog, EventType, UserRole
from storage.postgres import Database
from storage.postgres import repositories as repo

from ..access import MEMBERS, READ, BrandAccess, at_least, higher, require_org_role
from ..auth import Principal, authenticate
from ..schemas import BrandCreate, BrandCreated, BrandView, MemberCreate
from ..routing import kairo_router
from ..services import database
from .queries import Cursor, Limit, by_created, page_of, read_page

router = kairo_router("/v1/brands", "brands")

BRANDS = by_created("brands")
MEMBERS_ORDER = by_created("brand_memberships")
BrandPage = page_of(BrandView, "BrandPage")
MemberPage = page_of(BrandMembership, "MemberPage")


def view(brand: Brand, role: UserRole) -> BrandView:
    return BrandView.model_validate({**brand.model_dump(), "role": role})


@router.post("", response_model=BrandCreated, status_code=201)
async def create_brand(
    body: BrandCreate, principal: Principal = Depends(authenticate), db: Database = Depends(database)
) -> BrandCreated:
    """Onboard a brand: personas, pillars, snapshot v1, runtime context, preferences, memberships
    (owners become admins) and its agent's schedule. Needs the manager role in the org."""
    require_org_role(principal, UserRole.MANAGER)
    owners = body.owner_user_ids or [principal.user.id]
    if principal.user.id not in owners and not principal.is_org_admin:
        # Otherwise a manager could create a brand they cannot reach.
        raise Forbidden("owner_user_ids must include you unless you are an org admin",
                        details={"field": "body.owner_user_ids"})  # fmt: skip
    if len(set(owners)) != len(owners):
        raise Invalid("owner_user_ids must not repeat a user", details={"field": "body.owner_user_ids"})
    async with db.connection() as conn:
        known = await conn.fetchval(
            "SELECT count(*) FROM users WHERE org_id = $1 AND id = ANY($2::uuid[])", principal.org.id, owners
        )
    if known != len(owners):
        raise NotFound("owner_user_ids names a user who is not in your organization",
                       details={"field": "body.owner_user_ids"})  # fmt: skip
    request = OnboardingRequest.model_validate(
        {**body.model_dump(exclude={"owner_user_ids"}), "org_id": principal.org.id, "owner_user_ids": owners,
         "created_by": principal.user.id}
    )  # fmt: skip
    onboarded = await onboard_brand(db, request)
    brand = onboarded.brand
    return BrandCreated(
        brand=view(brand, UserRole.ADMIN), personas=onboarded.personas, pillars=onboarded.pillars,
        snapshot=onboarded.snapshot, runtime_context=onboarded.runtime_context, agent=onboarded.agent,
    )  # fmt: skip


@router.get("", response_model=BrandPage)
async def list_brands(
    limit: Limit = 50, cursor: Cursor = None, principal: Principal = Depends(authenticate),
    db: Database = Depends(database),
) -> BrandPage:
    """The brands the caller can reach (all of the org's for an org admin), oldest first."""
    org_role = UserRole.ADMIN if principal.is_org_admin else None
    async with db.connection() as conn:
        memberships = await repo.memberships.list(conn, "user_id = $1", principal.user.id)
        roles = {m.brand_id: m.role for m in memberships}
        if principal.is_org_admin:
            brands, next_cursor = await read_page(
                conn, repo.brands, "org_id = $1", principal.org.id, order=BRANDS, cursor=cursor, limit=limit
            )
        else:
            brands, next_cursor = await read_page(
                conn, repo.brands, "org_id = $1 AND id = ANY($2::uuid[])", principal.org.id, list(roles),
                order=BRANDS, cursor=cursor, limit=limit,
            )  # fmt: skip
    return BrandPage(items=[view(b, higher(roles.get(b.id), org_role)) for b in brands], next_cursor=next_cursor)


@router.get("/{brand_id}", response_model=BrandView)
async def get_brand(access: BrandAccess = READ) -> BrandView:
    return view(access.brand, access.role)


@router.get("/{brand_id}/members", response_model=MemberPage)
async def list_members(
    limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ, db: Database = Depends(database)
) -> MemberPage:
    """Oldest first."""
    async with db.connection() as conn:
        items, next_cursor = await read_page(
            conn, repo.memberships, "brand_id = $1", access.brand.id, order=MEMBERS_ORDER, cursor=cursor, limit=limit
        )
    return MemberPage(items=items, next_cursor=next_cursor)


@router.post("/{brand_id}/members", response_model=BrandMembership, status_code=201)
async def add_member(
    body: MemberCreate, access: BrandAccess = MEMBERS, db: Database = Depends(database)
) -> BrandMembership:
    """Give a user of the org a role on the brand (manager+, never above the caller's own)."""
    if not at_least(access.role, body.role):
        raise Forbidden(
            f"you cannot grant {body.role.value}: it is above your own role ({access.role.value})",
            details={"role": access.role.value, "granted_role": body.role.value},
        )
    membership = BrandMembership(brand_id=access.brand.id, user_id=body.user_id, role=body.role)
    async with db.transaction() as conn:
        user = await repo.users.find(conn, body.user_id)
        if user is None or user.org_id != access.brand.org_id:
            raise NotFound("no such user in your organization", details={"field": "body.user_id"})
        await repo.memberships.insert(conn, membership)
    return membership


@router.delete("/{brand_id}/members/{user_id}", response_model=BrandMembership)
async def remove_member(
    user_id: UUID, access: BrandAccess = MEMBERS, db: Database = Depends(database)
) -> BrandMembership:
    """Take a user's role on the brand away (manager+, never from someone ranked above you).
    Org admins keep reaching every brand of their org through their org role."""
    async with db.transaction() as conn:
        # Deleted first and put back by the rollback when refused: one statement, no race.
        row = await conn.fetchrow(
            "DELETE FROM brand_memberships WHERE brand_id = $1 AND user_id = $2 RETURNING *", access.brand.id, user_id
        )
        if row is None:
            raise NotFound(f"no membership of user {user_id} on this brand", details={"user_id": str(user_id)})
        membership = repo.memberships.table.from_row(row)
        if not at_least(access.role, membership.role):
            raise Forbidden(
                f"you cannot remove a {membership.role.value}: it is above your own role ({access.role.value})",
                details={"role": access.role.value, "member_role": membership.role.value},
            )
        await repo.event_log.insert(conn, EventLog(
            org_id=access.brand.org_id, brand_id=access.brand.id, user_id=access.principal.user.id,
            event_type=EventType.MEMBERSHIP_REMOVED, subject_type="brand_membership", subject_id=str(membership.id),
            message="brand membership removed", meta={"user_id": str(user_id), "role": membership.role.value},
        ))  # fmt: skip
    return membership
