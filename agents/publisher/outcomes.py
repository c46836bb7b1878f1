"""What an adapter call meant: the vocabulary the state machine decides on.

An adapter never raises for a platform's answer; it maps every answer (and every transport
failure) to one :class:`Outcome`, because the right next step depends on the meaning, not on
the HTTP status: a 5xx after a create was sent may have published (``unconfirmed``), a refused
connection certainly did not (``not_sent``).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict


class Outcome(StrEnum):
    PUBLISHED = "published"
    """The platform confirmed the post; ``external_id`` (and usually ``url``) are set."""
    UNCONFIRMED = "unconfirmed"
    """The create was sent but no valid answer came (timeout, dropped connection, 5xx): the post
    may exist. Reconcile, never resend blindly."""
    NOT_SENT = "not_sent"
    """Certainly not published (connection refused, DNS, a 4xx before processing): retry later."""
    NOT_FOUND = "not_found"
    """A reconcile looked and the post is not on the platform: a new create is safe."""
    RATE_LIMITED = "rate_limited"
    """A 429 or a cap: not published; ``retry_at`` says when to come back."""
    AUTH_EXPIRED = "auth_expired"
    """The access token is expired or rejected: refresh once, then try again."""
    DUPLICATE = "duplicate"
    """The platform refuses the text as a duplicate of an existing post (X 403, LinkedIn 422)."""
    PERMANENT = "permanent"
    """Will never succeed as is (validation, revoked access): fail the job with the reason."""


class RateWindow(BaseModel):
    """What the platform's rate-limit headers said: ``remaining`` calls until ``reset_at``."""

    model_config = ConfigDict(frozen=True)

    limit: int | None = None
    remaining: int | None = None
    reset_at: AwareDatetime | None = None


class PublishResult(BaseModel):
    """One adapter call's meaning plus what to store about it (raw response redacted)."""

    model_config = ConfigDict(frozen=True)

    outcome: Outcome
    external_id: str | None = None
    url: str | None = None
    error_code: str | None = None
    message: str | None = None
    retry_at: datetime | None = None
    revoked: bool = False
    """A permanent auth failure: the connection must be reconnected by a person."""
    raw: dict[str, Any] | None = None
    rate: RateWindow | None = None


class TokenGrant(BaseModel):
    """A refresh's answer. ``refresh_token`` is None when the platform sent none (or an empty
    one): the stored refresh token is then kept, never overwritten."""

    model_config = ConfigDict(frozen=True)

    access_token: str
    refresh_token: str | None = None
    expires_at: AwareDatetime | None = None
    scopes: tuple[str, ...] = ()


class RefreshFailed(Exception):
    """A refresh was refused for good (spent or revoked refresh token): reconnect needed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class RefreshUnavailable(Exception):
    """A refresh could not be made now (network, 5xx): try again later, keep the old tokens."""


__all__ = [
    "Outcome",
    "PublishResult",
    "RateWindow",
    "RefreshFailed",
    "RefreshUnavailable",
    "TokenGrant",
]
