"""G. Publishing: CO-21 ChannelConfig, CO-22 PublishingJob, and CO-26 PublishAttempt."""

from __future__ import annotations

import json
import re
from enum import StrEnum
from typing import Annotated, Any, Self
from uuid import UUID

from pydantic import AwareDatetime, Field, field_validator, model_validator

from .base import KairoObject, Label, ShortText, Timestamped, new_id, utcnow
from .enums import AttemptStatus, Channel, ChannelStatus, PublishStatus

MAX_ATTEMPTS_CEILING = 20
RAW_RESPONSE_MAX_CHARS = 4000
# Keys that may hold credentials; a raw response carrying one is refused, never stored.
SECRET_KEY = re.compile(r"token|secret|password|authorization|cookie|api[_-]?key", re.IGNORECASE)


class RateLimits(KairoObject):
    """Per-connection publishing limits; every field optional, the structure reserved."""

    posts_per_day: int | None = Field(default=None, ge=1)
    posts_per_hour: int | None = Field(default=None, ge=1)
    min_gap_seconds: int | None = Field(default=None, ge=0)


class AdapterName(StrEnum):
    """Which adapter delivers a channel's posts (``channel_configs_adapter_known``): the
    platform's own, or the embedded outbox / a webhook for any channel."""

    X = "x"
    LINKEDIN = "linkedin"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"
    WEBHOOK = "webhook"
    OUTBOX = "outbox"


class AuthStatus(StrEnum):
    """Health of a connection's credentials (``channel_configs_auth_status_known``):
    ``refresh_needed`` when a refresh was refused (reconnect), ``revoked`` when the platform
    rejects the access for good. Either one means ``status = error``."""

    OK = "ok"
    REFRESH_NEEDED = "refresh_needed"
    REVOKED = "revoked"


GENERIC_ADAPTERS = frozenset({AdapterName.WEBHOOK, AdapterName.OUTBOX})


class ChannelConfig(Timestamped):
    """CO-21: auth and constraints of one brand on one channel (one config per channel).

    Secrets are not here: they live sealed in ``channel_credentials`` (see
    ``storage/postgres/publishing.py``), so this object can be returned and logged as is.
    """

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    channel: Channel
    status: ChannelStatus = ChannelStatus.DISCONNECTED
    scopes: Annotated[list[Label], Field(max_length=64)] = []
    rate_limits: RateLimits = RateLimits()
    account_handle: Label | None = None
    adapter: AdapterName = AdapterName.OUTBOX
    auth_status: AuthStatus = AuthStatus.OK
    endpoint: Annotated[str, Field(min_length=1, max_length=2048)] | None = None
    """The API's base URL (a Mastodon instance, a fake), the webhook URL or the outbox file."""
    account_ref: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    """The platform's id of the account: X user id, LinkedIn author URN, Bluesky DID."""
    token_expires_at: AwareDatetime | None = None
    blocked_until: AwareDatetime | None = None
    """A rate limit or cap said: nothing before this time."""
    last_error: ShortText | None = None

    @model_validator(mode="after")
    def _connection_rules(self) -> Self:
        if self.adapter not in GENERIC_ADAPTERS and self.adapter.value != self.channel.value:
            raise ValueError(f"adapter '{self.adapter}' cannot publish to channel '{self.channel}'")
        if self.auth_status is not AuthStatus.OK and self.status is not ChannelStatus.ERROR:
            raise ValueError(f"auth_status '{self.auth_status}' requires status 'error'")
        return self


class PublishingJob(Timestamped):
    """CO-22: publish one variant on its channel at ``scheduled_at``.

    Extended from seed 001/003: attempts and a ceiling, the next attempt time (backoff), a
    lease for the publisher that claimed it, and a ``dedupe_key`` so one schedule request
    never becomes two jobs.
    """

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    content_variant_id: UUID
    channel: Channel
    scheduled_at: AwareDatetime
    status: PublishStatus = PublishStatus.PENDING
    last_error: ShortText | None = None
    attempts: int = Field(default=0, ge=0)
    max_attempts: int = Field(default=5, ge=1, le=MAX_ATTEMPTS_CEILING)
    next_attempt_at: AwareDatetime | None = None
    lease_owner: Label | None = None
    lease_expires_at: AwareDatetime | None = None
    dedupe_key: Label | None = None
    reconcile_pending: bool = False
    """The last create was sent but never confirmed: look the post up before anything else."""
    reconcile_checks: int = Field(default=0, ge=0, le=100)

    @model_validator(mode="after")
    def _status_rules(self) -> Self:
        if self.status is PublishStatus.FAILED and not self.last_error:
            raise ValueError("last_error is required when status is 'failed'")
        if self.status is PublishStatus.RUNNING and (self.lease_owner is None or self.lease_expires_at is None):
            raise ValueError("a running job needs lease_owner and lease_expires_at")
        if self.attempts > self.max_attempts:
            raise ValueError("attempts cannot exceed max_attempts")
        if self.reconcile_pending and self.status not in (PublishStatus.PENDING, PublishStatus.RUNNING):
            raise ValueError("only a pending or running job can wait for reconciliation")
        return self


class PublishAttempt(KairoObject):
    """CO-26: one attempt to publish a job (seed 001 PublishEvent); final once finished.

    ``unconfirmed`` means the request was sent but no answer came (timeout, 5xx): the post may
    exist, so it is reconciled, never blindly retried.
    """

    id: UUID = Field(default_factory=new_id)
    publishing_job_id: UUID
    attempt_index: int = Field(ge=1, le=MAX_ATTEMPTS_CEILING)
    status: AttemptStatus = AttemptStatus.IN_FLIGHT
    started_at: AwareDatetime = Field(default_factory=utcnow)
    finished_at: AwareDatetime | None = None
    external_post_id: Label | None = None
    external_url: Annotated[str, Field(max_length=2048)] | None = None
    error_code: Label | None = None
    error_message: ShortText | None = None
    raw_response: dict[str, Any] | None = None

    @field_validator("raw_response")
    @classmethod
    def _safe_raw_response(cls, raw: dict[str, Any] | None) -> dict[str, Any] | None:
        if raw is None:
            return raw
        _refuse_secrets(raw)
        # Measured like the database measures it: the JSON text.
        if len(json.dumps(raw, separators=(", ", ": "), default=str)) > RAW_RESPONSE_MAX_CHARS:
            raise ValueError(f"raw_response must be truncated to {RAW_RESPONSE_MAX_CHARS} characters")
        return raw

    @model_validator(mode="after")
    def _outcome_rules(self) -> Self:
        if self.status is AttemptStatus.IN_FLIGHT:
            if self.finished_at is not None:
                raise ValueError("an in-flight attempt has no finished_at")
        elif self.finished_at is None or self.finished_at < self.started_at:
            raise ValueError("a finished attempt needs finished_at, not earlier than started_at")
        if self.status is AttemptStatus.SUCCESS and not self.external_post_id:
            raise ValueError("external_post_id is required when status is 'success'")
        if self.status in (AttemptStatus.FAILED, AttemptStatus.UNCONFIRMED) and not self.error_code:
            raise ValueError(f"error_code is required when status is '{self.status}'")
        return self


def _refuse_secrets(value: Any, path: str = "raw_response") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            if SECRET_KEY.search(str(key)):
                raise ValueError(f"{path}.{key} looks like a credential and must be stripped")
            _refuse_secrets(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_secrets(item, f"{path}[{index}]")
