"""Publishing: a brand's channel connections, its publishing jobs with their attempts, and the
calendar.

A connection's secrets (access and refresh tokens, client and signing secrets) are sealed with
AES-GCM as they arrive (``runtime.publisher.token_cipher``) and never come back: every answer is
the :class:`ChannelConfig`, which holds none. Scheduling applies the rules of
``agents.publisher.scheduling`` in one transaction (nothing written when a rule refuses); each
refusal names its rule in ``details.rule`` and the body field in ``details.field``.

Times are "in N seconds" (``in_seconds``) or an explicit ``scheduled_at``: the first cannot race
the server's clock, the second is refused as ``scheduled_in_past`` once it has passed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from datetime import date as Date
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Depends, Query, Request
from pydantic import AwareDatetime, Field, StringConstraints

from agents.publisher.scheduling import ScheduleRules, cancel, reschedule, schedule
from runtime.publisher import token_cipher
from runtime.settings import Settings
from storage.errors import Invalid, KairoError, NotFound
from storage.objects import ChannelConfig, PublishAttempt, PublishingJob
from storage.objects.base import HttpUrl, Label, utcnow
from storage.objects.enums import Channel, ChannelStatus, PublishStatus
from storage.objects.publishing import AdapterName, RateLimits
from storage.postgres import Database
from storage.postgres import publishing as store
from storage.postgres import repositories as repo

from ..access import MEMBERS, READ, STRATEGY, BrandAccess
from ..routing import kairo_router
from ..schemas import ApiModel, View
from ..services import database
from .queries import Cursor, Limit, ListOrder, SortKey, brand_page, by_created, owned, page_of, read_page

router = kairo_router("/v1/brands/{brand_id}", "publishing")

TOKEN_LIFETIME_MAX = 400 * 86400
# The schema's bound on "in N seconds" is the default horizon, so a client reads the rule off the
# document; an operator who shortens KAIRO_PUBLISH_MAX_HORIZON_DAYS gets beyond_horizon refusals.
SCHEDULE_AHEAD_MAX = Settings.model_fields["publish_max_horizon_days"].default * 86400
CALENDAR_DAYS_MAX = 92
CALENDAR_ENTRIES_MAX = 500
DEFAULT_ENDPOINTS = {"x": "https://api.x.com", "linkedin": "https://api.linkedin.com", "bluesky": "https://bsky.social"}

Secret = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,4096}$"),
                   Field(description="printable ASCII without spaces; sealed at rest, never returned")]  # fmt: skip
ClientId = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,300}$")]

JOBS = ListOrder("publishing_jobs", (SortKey("scheduled_at", "timestamptz", lambda j: j.scheduled_at),
                                     SortKey("id", "uuid", lambda j: j.id)))  # fmt: skip
ATTEMPTS = ListOrder("publish_attempts", (SortKey("attempt_index", "integer", lambda a: a.attempt_index),
                                          SortKey("id", "uuid", lambda a: a.id)))  # fmt: skip
CONNECTIONS = by_created("channel_configs")
JobPage = page_of(PublishingJob, "PublishingJobPage")
AttemptPage = page_of(PublishAttempt, "PublishAttemptPage")
ConnectionPage = page_of(ChannelConfig, "ChannelConnectionPage")


# -- connections ------------------------------------------------------------------------------


class Limits(ApiModel):
    """Per-connection publishing limits (each optional): scheduling keeps to them."""

    posts_per_day: int | None = Field(default=None, ge=1, le=1000, description="daily cap (UTC day)")
    posts_per_hour: int | None = Field(default=None, ge=1, le=1000)
    min_gap_seconds: int | None = Field(default=None, ge=0, le=86400, description="minimum time between two posts")


class _Connect(ApiModel):
    account_handle: Label | None = Field(default=None, description="the account's name as people see it")
    scopes: list[Label] = Field(default=[], max_length=64, description="granted scopes; a repeated one is kept once")
    rate_limits: Limits = Limits()


class _Tokens(_Connect):
    access_token: Secret
    refresh_token: Secret | None = Field(default=None, description="kept as stored when left out on a reconnect")
    token_expires_in_seconds: int | None = Field(default=None, ge=60, le=TOKEN_LIFETIME_MAX,
                                                 description="the access token expires this long from now")  # fmt: skip
    client_id: ClientId | None = Field(default=None, description="the OAuth client the tokens were issued to")


class OutboxConnect(_Connect):
    """Posts of ``channel`` go to the embedded outbox (one JSON line per post in the data dir)."""

    adapter: Literal["outbox"]
    channel: Channel


class WebhookConnect(_Connect):
    """Posts of ``channel`` are POSTed as signed JSON (HMAC-SHA256 with ``signing_secret``)."""

    adapter: Literal["webhook"]
    channel: Channel
    endpoint: HttpUrl
    signing_secret: Secret


class XConnect(_Tokens):
    adapter: Literal["x"]
    account_ref: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,19}$")] = Field(description="the X user id")
    endpoint: HttpUrl = Field(default=DEFAULT_ENDPOINTS["x"], description="the API's base URL")


class LinkedInConnect(_Tokens):
    adapter: Literal["linkedin"]
    account_ref: Annotated[str, StringConstraints(pattern=r"^urn:li:(person|organization):[A-Za-z0-9_-]{1,100}$")] = Field(
        description="the author URN")
    client_secret: Secret | None = None
    endpoint: HttpUrl = Field(default=DEFAULT_ENDPOINTS["linkedin"], description="the API's base URL")


class MastodonConnect(_Tokens):
    adapter: Literal["mastodon"]
    endpoint: HttpUrl = Field(description="the instance's base URL")
    account_ref: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,30}$")] | None = Field(
        default=None, description="the account id")


class BlueskyConnect(_Tokens):
    adapter: Literal["bluesky"]
    account_ref: Annotated[str, StringConstraints(pattern=r"^did:[a-z]{1,20}:[A-Za-z0-9._:%-]{1,200}$")] = Field(
        description="the account's DID")
    endpoint: HttpUrl = Field(default=DEFAULT_ENDPOINTS["bluesky"], description="the PDS's base URL")


ChannelConnect = Annotated[OutboxConnect | WebhookConnect | XConnect | LinkedInConnect | MastodonConnect | BlueskyConnect,
                           Field(discriminator="adapter")]  # fmt: skip


def connection_of(brand_id: UUID, body: Any, now: datetime) -> tuple[ChannelConfig, store.Secrets]:
    """The config and secrets a connect body describes (a platform adapter publishes to its own
    channel; the outbox takes no endpoint: its file is the publisher's, in the data dir)."""
    channel = getattr(body, "channel", None) or Channel(body.adapter)
    expires = getattr(body, "token_expires_in_seconds", None)
    config = ChannelConfig(
        brand_id=brand_id, channel=channel, status=ChannelStatus.CONNECTED, scopes=list(dict.fromkeys(body.scopes)),
        rate_limits=RateLimits(**body.rate_limits.model_dump()), account_handle=body.account_handle,
        adapter=AdapterName(body.adapter), endpoint=getattr(body, "endpoint", None),
        account_ref=getattr(body, "account_ref", None),
        token_expires_at=now + timedelta(seconds=expires) if expires else None,
    )  # fmt: skip
    secrets = store.Secrets(
        access_token=getattr(body, "access_token", None), refresh_token=getattr(body, "refresh_token", None),
        client_secret=getattr(body, "client_secret", None), signing_secret=getattr(body, "signing_secret", None),
        client_id=getattr(body, "client_id", None),
    )  # fmt: skip
    return config, secrets


@router.post("/channels", response_model=ChannelConfig, status_code=201)
async def add_channel_connection(
    body: ChannelConnect, request: Request, access: BrandAccess = MEMBERS, db: Database = Depends(database)
) -> ChannelConfig:
    """Connect a channel (manager+), or reconnect it: one connection per channel, its secrets
    sealed and never returned; a reconnect that leaves out the refresh token keeps the stored one."""
    config, secrets = connection_of(access.brand.id, body, utcnow())
    cipher = token_cipher(request.app.state.settings)
    async with db.transaction() as conn:
        await conn.execute("SELECT 1 FROM channel_configs WHERE brand_id = $1 AND channel = $2 FOR UPDATE",
                           access.brand.id, config.channel.value)  # fmt: skip
        return await store.save_connection(conn, cipher, config, secrets)


@router.get("/channels", response_model=ConnectionPage)
async def list_channel_connections(
    limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ, db: Database = Depends(database)
) -> Any:
    """The brand's connections, oldest first, with their status (never their secrets)."""
    async with db.connection() as conn:
        items, next_cursor = await brand_page(conn, repo.channel_configs, access.brand.id, order=CONNECTIONS,
                                              cursor=cursor, limit=limit)  # fmt: skip
    return ConnectionPage(items=items, next_cursor=next_cursor)


@router.get("/channels/{channel_config_id}", response_model=ChannelConfig)
async def get_channel_connection(
    channel_config_id: UUID, access: BrandAccess = READ, db: Database = Depends(database)
) -> ChannelConfig:
    async with db.connection() as conn:
        return await owned(conn, repo.channel_configs, access.brand.id, channel_config_id)


@router.post("/channels/{channel_config_id}/disconnect", response_model=ChannelConfig)
async def disconnect_channel(
    channel_config_id: UUID, access: BrandAccess = MEMBERS, db: Database = Depends(database)
) -> ChannelConfig:
    """Disconnect (manager+): the secrets are deleted, nothing more is published or scheduled
    there until it is connected again; its jobs that come due fail naming the channel."""
    async with db.transaction() as conn:
        await owned(conn, repo.channel_configs, access.brand.id, channel_config_id)
        return await store.disconnect(conn, channel_config_id)


# -- publishing jobs --------------------------------------------------------------------------


class InSeconds(ApiModel):
    in_seconds: int = Field(ge=1, le=SCHEDULE_AHEAD_MAX,
                            description="publish this long from now, at most the horizon (rule beyond_horizon)")


class At(ApiModel):
    scheduled_at: AwareDatetime = Field(description="in the future (rule scheduled_in_past) and within the configured "
                                                    "horizon (rule beyond_horizon)")  # fmt: skip


class ScheduleIn(InSeconds):
    content_variant_id: UUID = Field(description="an approved variant of the brand")


class ScheduleAt(At):
    content_variant_id: UUID = Field(description="an approved variant of the brand")


JobCreate = ScheduleIn | ScheduleAt


def _rules(request: Request) -> ScheduleRules:
    return ScheduleRules(max_horizon=timedelta(days=request.app.state.settings.publish_max_horizon_days))


def _time(body: Any, now: datetime) -> tuple[datetime, str]:
    if isinstance(body, InSeconds):
        return now + timedelta(seconds=body.in_seconds), "body.in_seconds"
    try:
        return body.scheduled_at.astimezone(UTC), "body.scheduled_at"
    except OverflowError:  # year 1 or 9999 with an offset: long past or far beyond the horizon either way
        edge = datetime.min if body.scheduled_at.year < 2 else datetime.max
        return edge.replace(tzinfo=UTC), "body.scheduled_at"


def _in_api_words(error: KairoError, time_field: str) -> KairoError:
    """A scheduling refusal with the body field it comes from (the variant decides the channel
    and the text, so those rules name ``content_variant_id``)."""
    field = error.details.get("field")
    path = {"scheduled_at": time_field, "content_variant_id": "body.content_variant_id", "channel": "body.content_variant_id",
            "body": "body.content_variant_id", "id": "path.job_id", "status": "path.job_id"}.get(field, field)  # fmt: skip
    error.details = {**error.details, "field": path}
    return error


@router.post("/publishing-jobs", response_model=PublishingJob, status_code=201)
async def create_publishing_job(
    body: JobCreate, request: Request, access: BrandAccess = STRATEGY, db: Database = Depends(database)
) -> PublishingJob:
    """Schedule an approved variant on its channel's connection (strategist+). Refused, nothing
    written: in the past or beyond the horizon, over the channel's length (422); a channel not
    connected, a variant not approved or already scheduled there, the connection's minimum gap
    or daily cap (409)."""
    now = utcnow()
    at, time_field = _time(body, now)
    try:
        return await schedule(db, access.brand.id, body.content_variant_id, at, rules=_rules(request),
                              max_attempts=request.app.state.settings.publish_max_attempts, now=now)  # fmt: skip
    except KairoError as error:
        raise _in_api_words(error, time_field) from None


@router.get("/publishing-jobs", response_model=JobPage)
async def list_publishing_jobs(
    status: PublishStatus | None = None, channel: Channel | None = None, content_variant_id: UUID | None = None,
    limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ, db: Database = Depends(database),
) -> Any:  # fmt: skip
    """The brand's jobs, earliest scheduled first, optionally of one status, channel or variant."""
    async with db.connection() as conn:
        items, next_cursor = await brand_page(conn, repo.publishing_jobs, access.brand.id, order=JOBS, cursor=cursor,
                                              limit=limit, status=status, channel=channel,
                                              content_variant_id=content_variant_id)  # fmt: skip
    return JobPage(items=items, next_cursor=next_cursor)


@router.get("/publishing-jobs/{job_id}", response_model=PublishingJob)
async def get_publishing_job(job_id: UUID, access: BrandAccess = READ, db: Database = Depends(database)) -> PublishingJob:
    async with db.connection() as conn:
        return await owned(conn, repo.publishing_jobs, access.brand.id, job_id)


@router.get("/publishing-jobs/{job_id}/attempts", response_model=AttemptPage)
async def list_publish_attempts(
    job_id: UUID, limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ, db: Database = Depends(database)
) -> Any:
    """Every attempt of the job in order, with its outcome, external id/URL, error code and the
    platform's answer (redacted)."""
    async with db.connection() as conn:
        await owned(conn, repo.publishing_jobs, access.brand.id, job_id)
        items, next_cursor = await read_page(conn, repo.publish_attempts, "publishing_job_id = $1", job_id,
                                             order=ATTEMPTS, cursor=cursor, limit=limit)  # fmt: skip
    return AttemptPage(items=items, next_cursor=next_cursor)


@router.post("/publishing-jobs/{job_id}/reschedule", response_model=PublishingJob)
async def reschedule_publishing_job(
    job_id: UUID, body: InSeconds, request: Request, access: BrandAccess = STRATEGY, db: Database = Depends(database)
) -> PublishingJob:
    """Move a pending job that never reached the platform to ``in_seconds`` from now; the
    scheduling rules apply again (the job itself not counted)."""
    now = utcnow()
    at, time_field = _time(body, now)
    try:
        return await reschedule(db, access.brand.id, job_id, at, rules=_rules(request), now=now)
    except KairoError as error:
        raise _in_api_words(error, time_field) from None


@router.post("/publishing-jobs/{job_id}/cancel", response_model=PublishingJob)
async def cancel_publishing_job(job_id: UUID, access: BrandAccess = STRATEGY, db: Database = Depends(database)) -> PublishingJob:
    """Cancel a pending job (one being published is a 409); when no job of its package is left,
    the package is approved again."""
    try:
        return await cancel(db, access.brand.id, job_id)
    except KairoError as error:
        raise _in_api_words(error, "body") from None


# -- the calendar -----------------------------------------------------------------------------


class CalendarItem(View):
    job: PublishingJob
    attempts: list[PublishAttempt] = Field(description="the job's attempts in order")
    body: str = Field(description="the variant's text")
    pillar_id: UUID
    content_package_id: UUID


class Calendar(View):
    start: AwareDatetime
    end: AwareDatetime
    items: list[CalendarItem] = Field(description="jobs scheduled in [start, end), earliest first")
    truncated: bool = Field(description=f"more than {CALENDAR_ENTRIES_MAX} jobs: narrow the window or filter")


@router.get("/calendar", response_model=Calendar)
async def get_calendar(
    start: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$", json_schema_extra={"format": "date"},
                                       description="first day (UTC, YYYY-MM-DD); default today")] = None,
    days: Annotated[int, Query(ge=1, le=CALENDAR_DAYS_MAX, description="how many days")] = 7,
    channel: Channel | None = None, status: PublishStatus | None = None, pillar_id: UUID | None = None,
    access: BrandAccess = READ, db: Database = Depends(database),
) -> Calendar:  # fmt: skip
    """The brand's scheduled and published posts over a window of days, each with its attempts."""
    try:
        first = Date.fromisoformat(start) if start else utcnow().date()
    except ValueError:
        raise Invalid(f"{start} is not a day of the calendar", details={"field": "query.start"}) from None
    begin = datetime(first.year, first.month, first.day, tzinfo=UTC)
    end = begin + timedelta(days=days)
    async with db.connection() as conn:
        if pillar_id is not None and not await conn.fetchval(
                "SELECT 1 FROM pillars WHERE id = $1 AND brand_id = $2", pillar_id, access.brand.id):
            raise NotFound(f"Pillar {pillar_id} not found", details={"field": "query.pillar_id"})
        entries = await store.calendar(conn, access.brand.id, begin, end, channel=channel.value if channel else None,
                                       status=status.value if status else None, pillar_id=pillar_id,
                                       limit=CALENDAR_ENTRIES_MAX + 1)  # fmt: skip
    items = [CalendarItem(job=e.job, attempts=e.attempts, body=e.body, pillar_id=e.pillar_id,
                          content_package_id=e.content_package_id) for e in entries[:CALENDAR_ENTRIES_MAX]]  # fmt: skip
    return Calendar(start=begin, end=end, items=items, truncated=len(entries) > CALENDAR_ENTRIES_MAX)


__all__ = ["router"]
