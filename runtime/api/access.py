"""What a caller may do: brand roles (CO-04) and the org-level checks.

A user reaches a brand through a BrandMembership (with its role) or by being an ``admin`` user
of the brand's org. Anything the caller cannot reach is **404**, whichever tenant it belongs to,
so ids never confirm that another tenant's objects exist; **403** is only for a brand the caller
can see with too low a role. Roles rank creator < strategist < manager < admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg
from fastapi import Depends

from runtime.logs import bind_context
from storage.errors import Forbidden, NotFound
from storage.objects import Brand, UserRole
from storage.postgres import Database
from storage.postgres import repositories as repo
from storage.postgres import tables

from .auth import Principal, authenticate
from .services import database

ROLE_RANK = {UserRole.CREATOR: 0, UserRole.STRATEGIST: 1, UserRole.MANAGER: 2, UserRole.ADMIN: 3}


def at_least(role: UserRole, minimum: UserRole) -> bool:
    return ROLE_RANK[role] >= ROLE_RANK[minimum]


def higher(a: UserRole | None, b: UserRole | None) -> UserRole | None:
    if a is None or b is None:
        return a or b
    return a if ROLE_RANK[a] >= ROLE_RANK[b] else b


@dataclass(frozen=True)
class BrandAccess:
    principal: Principal
    brand: Brand
    role: UserRole


async def brand_role(conn: asyncpg.Connection, principal: Principal, brand: Brand) -> UserRole | None:
    """The caller's effective role on ``brand``, None when it cannot reach the brand."""
    if brand.org_id != principal.org.id:
        return None
    found = await repo.memberships.list(conn, "brand_id = $1 AND user_id = $2", brand.id, principal.user.id)
    membership = found[0].role if found else None
    return higher(membership, UserRole.ADMIN if principal.is_org_admin else None)


_BRAND_WITH_MEMBERSHIP = """
SELECT b.*, m.role AS membership_role
FROM brands b LEFT JOIN brand_memberships m ON m.brand_id = b.id AND m.user_id = $2
WHERE b.id = $1 AND b.org_id = $3
"""


async def reach_brand(db: Database, principal: Principal, brand_id: UUID, minimum: UserRole) -> BrandAccess:
    # One round trip: the brand (only within the caller's org) and the caller's membership.
    async with db.connection() as conn:
        row = await conn.fetchrow(_BRAND_WITH_MEMBERSHIP, brand_id, principal.user.id, principal.org.id)
    brand = role = None
    if row is not None:
        brand = tables.BRANDS.from_row(row)
        membership = UserRole(row["membership_role"]) if row["membership_role"] else None
        role = higher(membership, UserRole.ADMIN if principal.is_org_admin else None)
    if brand is None or role is None:
        raise NotFound(f"Brand {brand_id} not found", details={"brand_id": str(brand_id)})
    bind_context(brand_id=str(brand.id))
    if not at_least(role, minimum):
        raise Forbidden(
            f"this needs the {minimum.value} role on the brand; yours is {role.value}",
            details={"required_role": minimum.value, "role": role.value},
        )
    return BrandAccess(principal=principal, brand=brand, role=role)


def brand_access(minimum: UserRole = UserRole.CREATOR) -> Any:
    """A dependency: the brand named by the ``brand_id`` path parameter, reachable by the
    caller with at least ``minimum``."""

    async def dependency(
        brand_id: UUID, principal: Principal = Depends(authenticate), db: Database = Depends(database)
    ) -> BrandAccess:
        return await reach_brand(db, principal, brand_id, minimum)

    return Depends(dependency)


def require_org_admin(principal: Principal) -> None:
    if not principal.is_org_admin:
        raise Forbidden("this needs an admin of your organization", details={"required_role": "admin"})


def require_org_role(principal: Principal, minimum: UserRole) -> None:
    if not at_least(principal.user.role, minimum):
        raise Forbidden(
            f"this needs the {minimum.value} role in your organization; yours is {principal.user.role.value}",
            details={"required_role": minimum.value, "role": principal.user.role.value},
        )


READ = brand_access(UserRole.CREATOR)
REMEMBER = brand_access(UserRole.CREATOR)
STRATEGY = brand_access(UserRole.STRATEGIST)
MEMBERS = brand_access(UserRole.MANAGER)
