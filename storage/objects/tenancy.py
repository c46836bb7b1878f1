"""Tenancy and access: CO-23 Org, CO-24 BrandMembership, CO-25 ApiKey (see EXTENSIONS.md)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Self
from uuid import UUID

from pydantic import AwareDatetime, Field, StringConstraints, model_validator
from typing import Annotated

from .base import KairoObject, Label, Slug, new_id, utcnow
from .enums import OrgStatus, UserRole

API_KEY_PREFIX = "kairo"
_PREFIX_BYTES = 6
_SECRET_BYTES = 32


class Org(KairoObject):
    """CO-23: the tenant above brands (an agency or a company). Nothing crosses orgs.

    The one ``operator`` org (created at first start) is the installation's own: its admins may
    create other orgs.
    """

    id: UUID = Field(default_factory=new_id)
    name: Label
    slug: Slug
    status: OrgStatus = OrgStatus.ACTIVE
    operator: bool = False
    created_at: AwareDatetime = Field(default_factory=utcnow)


class BrandMembership(KairoObject):
    """CO-24: the user ↔ brand mapping table CO-04 asks for, with the user's role on the brand."""

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    user_id: UUID
    role: UserRole
    created_at: AwareDatetime = Field(default_factory=utcnow)


KeyHash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
KeyLookup = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{12}$")]


class ApiKey(KairoObject):
    """CO-25: a bearer key of a user. Only a SHA-256 digest of the secret is ever stored."""

    id: UUID = Field(default_factory=new_id)
    user_id: UUID
    name: Label
    lookup: KeyLookup
    secret_hash: KeyHash
    created_at: AwareDatetime = Field(default_factory=utcnow)
    expires_at: AwareDatetime | None = None
    revoked_at: AwareDatetime | None = None
    last_used_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _expiry_after_creation(self) -> Self:
        if self.expires_at is not None and self.expires_at <= self.created_at:
            raise ValueError("expires_at must be later than created_at")
        return self

    def matches(self, token: str) -> bool:
        """Whether a presented bearer token is this key (constant-time comparison)."""
        parsed = parse_api_key(token)
        if parsed is None or parsed[0] != self.lookup:
            return False
        return hmac.compare_digest(hash_secret(parsed[1]), self.secret_hash)


def hash_secret(secret: str) -> str:
    # Keys are 256 random bits, so a fast digest is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


def mint_api_key(user_id: UUID, name: str) -> tuple[str, ApiKey]:
    """A new key: the plaintext token (shown once) and the record to store."""
    lookup = secrets.token_hex(_PREFIX_BYTES)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    token = f"{API_KEY_PREFIX}_{lookup}_{secret}"
    return token, ApiKey(user_id=user_id, name=name, lookup=lookup, secret_hash=hash_secret(secret))


def parse_api_key(token: str) -> tuple[str, str] | None:
    """Split ``kairo_<lookup>_<secret>`` into its parts, or None when malformed."""
    prefix, _, rest = token.partition("_")
    lookup, _, secret = rest.partition("_")
    if prefix != API_KEY_PREFIX or len(lookup) != 2 * _PREFIX_BYTES or not secret:
        return None
    return lookup, secret
