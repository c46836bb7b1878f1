"""The adapter interface and the HTTP plumbing every platform adapter shares.

An adapter turns one :class:`PostRequest` into one HTTP create and maps the answer to a
:class:`~agents.publisher.outcomes.PublishResult`. It never retries a create itself: whether a
second request is safe is the state machine's decision, made from the outcome.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import UTC, datetime
from collections.abc import Callable
from typing import Any, ClassVar

import aiohttp
from pydantic import BaseModel, ConfigDict

from agents.addresses import BlockedAddress

from ..outcomes import Outcome, PublishResult, RateWindow, TokenGrant
from ..redact import redact

RAW_TEXT_MAX = 1500
LOOKUP_PAGES = 20  # pages of recent posts a reconcile reads before it says 'not there'


class Credentials(BaseModel):
    """Decrypted secrets and addresses of one connection; lives only in memory, never logged
    (``repr`` hides the secrets)."""

    model_config = ConfigDict(frozen=True)

    endpoint: str
    """Base URL of the platform's API (the real one, or a fake's)."""
    account_id: str | None = None
    """X user id, LinkedIn author URN, Mastodon account id, Bluesky DID."""
    access_token: str | None = None
    refresh_token: str | None = None
    expires_at: datetime | None = None
    client_id: str | None = None
    client_secret: str | None = None
    auth_endpoint: str | None = None
    """Where token refreshes go when not ``endpoint`` (LinkedIn: www.linkedin.com)."""
    secret: str | None = None
    """The webhook's HMAC key."""

    def __repr_args__(self):  # never print a secret, not even in a traceback
        for key, value in super().__repr_args__():
            if key in {"access_token", "refresh_token", "client_secret", "secret"} and value:
                yield key, "***"
            else:
                yield key, value


class ReplyRef(BaseModel):
    """Where a thread's next part attaches: the previous part and the thread's first, by remote
    id and (Bluesky) content id."""

    model_config = ConfigDict(frozen=True)

    parent_id: str
    parent_cid: str | None = None
    root_id: str
    root_cid: str | None = None


class PostRequest(BaseModel):
    """One logical post: its text and the keys that make a retry of it recognizable."""

    model_config = ConfigDict(frozen=True)

    job_id: str
    text: str
    channel: str
    brand_id: str | None = None
    scheduled_at: datetime | None = None
    created_at: datetime | None = None
    """When the job was created: the stable time a Bluesky record key is derived from."""
    reply: ReplyRef | None = None
    """A thread's next part replies to the part before it (and names the thread's first)."""
    part: int = 0
    """Which part of a thread this is (0: the first, or a post of one part)."""

    @property
    def reply_to(self) -> str | None:
        return self.reply.parent_id if self.reply else None

    @property
    def post_key(self) -> str:
        """Stable across retries of this post, new when its text changes (Mastodon's
        Idempotency-Key, the webhook's delivery id, the outbox's line key)."""
        return hashlib.sha256(f"{self.job_id}\n{self.text}".encode()).hexdigest()[:40]


ENGAGEMENT_KEYS = ("likes", "reposts", "replies", "quotes")


class PostGone(Exception):
    """Raised by a metrics parser when the platform says the post does not exist (anymore)."""


@dataclass(frozen=True)
class MetricsReading:
    """One read of a post's metrics: the counts, or why there are none (``gone``: the post no
    longer exists on the platform, so its schedule stops)."""

    metrics: dict[str, float] | None = None
    error: str | None = None
    gone: bool = False


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: Any
    text: str


class Adapter(ABC):
    """Base of every platform adapter: limits and error meanings as data on the class."""

    name: ClassVar[str]
    idempotent_create: ClassVar[bool] = False
    """True when re-sending the same create is safe (an idempotency key, a record key)."""
    max_length: ClassVar[int | None] = None
    default_rate: ClassVar[tuple[int, float] | None] = None
    """(calls, seconds) a connection may make when the platform's headers have not said yet;
    None: no client-side bucket (the outbox, webhooks)."""

    def __init__(self, session: aiohttp.ClientSession, *, timeout: float = 10.0) -> None:
        self.session = session
        self.timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=min(timeout, 5.0))

    @abstractmethod
    async def publish(self, creds: Credentials, request: PostRequest) -> PublishResult:
        """Send the create once; map whatever happened to an outcome."""

    @abstractmethod
    async def reconcile(self, creds: Credentials, request: PostRequest, since: datetime | None = None) -> PublishResult:
        """After an unconfirmed create: PUBLISHED when the post exists, NOT_FOUND when it
        certainly does not, anything else when that cannot be told now. ``since``: the post,
        if it exists, was created after this time (the attempt's start, with a margin)."""

    async def metrics(self, creds: Credentials, external_id: str) -> MetricsReading | None:
        """The post's metrics now (likes, reposts, replies, quotes, impressions where the
        platform tells, and ``engagements``, their sum); None: this delivery has none."""
        return None

    async def read_metrics(self, url: str, parse: Callable[[Any], dict[str, float] | None], **kwargs: Any) -> MetricsReading:
        """One metrics read: a 404 means the post is gone (stop asking), any other failure is
        tried again later."""
        got = await self.request("GET", url, write=False, **kwargs)
        if isinstance(got, PublishResult):
            return MetricsReading(error=got.error_code or "not_sent")
        if got.status == 404:
            return MetricsReading(error="not_found", gone=True)
        if got.status != 200:
            return MetricsReading(error=f"http_{got.status}")
        try:
            found = parse(got.body)
        except PostGone:
            return MetricsReading(error="not_found", gone=True)
        except (TypeError, ValueError, KeyError, AttributeError):
            found = None
        if found is None:
            return MetricsReading(error="invalid_metrics_body")
        counts = {k: float(v) for k, v in found.items() if isinstance(v, int | float) and not isinstance(v, bool) and v >= 0}
        engaged = [counts[k] for k in ENGAGEMENT_KEYS if k in counts]
        if engaged:
            counts["engagements"] = sum(engaged)
        return MetricsReading(metrics=counts) if counts else MetricsReading(error="invalid_metrics_body")

    async def refresh(self, creds: Credentials) -> TokenGrant:
        """A new token pair; adapters whose tokens do not expire keep this default."""
        raise NotImplementedError(f"{self.name} tokens are not refreshed")

    @property
    def refreshes(self) -> bool:
        return type(self).refresh is not Adapter.refresh

    # -- plumbing ---------------------------------------------------------------------------

    async def request(self, method: str, url: str, *, write: bool, **kwargs: Any) -> Response | PublishResult:
        """One HTTP call. Transport failures come back as a result: ``not_sent`` when the
        request cannot have reached the server, else (for a write) ``unconfirmed``."""
        try:
            async with self.session.request(method, url, timeout=self.timeout, **kwargs) as resp:
                text = await resp.text()
                try:
                    body = json.loads(text) if text else None
                except ValueError:
                    body = None
                return Response(resp.status, {k.lower(): v for k, v in resp.headers.items()}, body, text)
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, BlockedAddress):  # the connection's endpoint is an internal address
                return PublishResult(outcome=Outcome.PERMANENT, error_code="blocked_address", message=_brief(exc.os_error))
            return PublishResult(outcome=Outcome.NOT_SENT, error_code="connect_failed", message=_brief(exc))
        except aiohttp.InvalidURL as exc:
            return PublishResult(outcome=Outcome.NOT_SENT, error_code="connect_failed", message=_brief(exc))
        except (asyncio.TimeoutError, aiohttp.ClientError, ConnectionError) as exc:
            outcome = Outcome.UNCONFIRMED if write else Outcome.NOT_SENT
            code = "timeout" if isinstance(exc, asyncio.TimeoutError) else "connection_lost"
            return PublishResult(outcome=outcome, error_code=code, message=_brief(exc))

    def server_error(self, resp: Response, *, write: bool) -> PublishResult:
        """A 5xx: after a create it may still have been processed."""
        return PublishResult(
            outcome=Outcome.UNCONFIRMED if write else Outcome.NOT_SENT,
            error_code=f"http_{resp.status}",
            message=f"{self.name} answered {resp.status}",
            raw=raw_of(resp),
        )


def raw_of(resp: Response) -> dict[str, Any]:
    """What is safe to keep of a response: status, a few headers, the body (redacted, bounded)."""
    kept = {k: v for k, v in resp.headers.items() if k.startswith(("x-rate", "ratelimit", "x-restli-id", "retry-after"))}
    body: Any = resp.body if resp.body is not None else (resp.text[:RAW_TEXT_MAX] or None)
    raw = {"status": resp.status, "headers": kept, "body": redact(body)}
    if len(json.dumps(raw, default=str)) > 3500:
        raw["body"] = json.dumps(raw["body"], default=str)[:RAW_TEXT_MAX]
    return raw


def epoch(value: str | None) -> datetime | None:
    """A Unix-seconds header as an aware datetime; None when missing or malformed."""
    try:
        return datetime.fromtimestamp(int(float(value)), UTC) if value else None
    except (TypeError, ValueError, OverflowError):
        return None


def window(headers: dict[str, str], prefix: str) -> RateWindow | None:
    """Read ``{prefix}limit/remaining/reset`` headers (Unix seconds reset); None when absent."""

    def num(name: str) -> int | None:
        try:
            return int(headers[f"{prefix}{name}"])
        except (KeyError, ValueError):
            return None

    limit, remaining = num("limit"), num("remaining")
    reset = epoch(headers.get(f"{prefix}reset"))
    if limit is None and remaining is None and reset is None:
        return None
    return RateWindow(limit=limit, remaining=remaining, reset_at=reset)


def _brief(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


@dataclass
class ErrorMeaning:
    """One row of an adapter's error table."""

    outcome: Outcome
    code: str
    revoked: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


__all__ = ["Adapter", "Credentials", "ErrorMeaning", "MetricsReading", "PostGone", "PostRequest", "Response", "epoch", "raw_of", "window"]
