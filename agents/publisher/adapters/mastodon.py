"""Mastodon: ``POST /api/v1/statuses`` with one ``Idempotency-Key`` per logical post (stable
across retries, new when the text changes). The server keeps the key an hour per account and
answers a repeat with the original status, so a retry inside that window cannot duplicate and
reconciling is re-sending the same request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar

from ..outcomes import Outcome, PublishResult, RateWindow
from .base import Adapter, Credentials, MetricsReading, PostRequest, Response, epoch, raw_of

IDEMPOTENCY_WINDOW = timedelta(hours=1)
DEFAULT_RESET = timedelta(minutes=5)


def _reset(value: str | None) -> datetime | None:
    """Mastodon sends an ISO 8601 time; accept Unix seconds too."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    except ValueError:
        return epoch(value)


def _window(headers: dict[str, str]) -> RateWindow | None:
    if "x-ratelimit-remaining" not in headers:
        return None
    try:
        return RateWindow(limit=int(headers.get("x-ratelimit-limit", "0")) or None,
                          remaining=int(headers["x-ratelimit-remaining"]), reset_at=_reset(headers.get("x-ratelimit-reset")))
    except ValueError:
        return None


class MastodonAdapter(Adapter):
    name = "mastodon"
    idempotent_create = True
    max_length: ClassVar[int] = 500
    default_rate: ClassVar[tuple[int, float] | None] = (300, 300.0)  # 300 requests per 5 min per account

    async def publish(self, creds: Credentials, request: PostRequest) -> PublishResult:
        got = await self.request(
            "POST", f"{creds.endpoint}/api/v1/statuses", write=True,
            json={"status": request.text, "visibility": "public", **({"in_reply_to_id": request.reply_to} if request.reply_to else {})},
            headers={"Authorization": f"Bearer {creds.access_token}", "Idempotency-Key": request.post_key},
        )  # fmt: skip
        if isinstance(got, PublishResult):
            return got
        return self._meaning(got)

    async def metrics(self, creds: Credentials, external_id: str) -> MetricsReading:
        """Engagement only: Mastodon has no impressions."""
        return await self.read_metrics(
            f"{creds.endpoint}/api/v1/statuses/{external_id}",
            lambda b: {"likes": b["favourites_count"], "reposts": b["reblogs_count"], "replies": b["replies_count"]},
            headers={"Authorization": f"Bearer {creds.access_token}"},
        )  # fmt: skip

    def _meaning(self, resp: Response) -> PublishResult:
        rate = _window(resp.headers)
        body = resp.body if isinstance(resp.body, dict) else {}
        error = str(body.get("error", ""))
        if resp.status == 200:
            status_id, url = body.get("id"), body.get("url") or body.get("uri")
            if not isinstance(status_id, str) or not status_id:
                return PublishResult(outcome=Outcome.UNCONFIRMED, error_code="invalid_success_body",
                                     message="200 without a status id", raw=raw_of(resp), rate=rate)
            return PublishResult(outcome=Outcome.PUBLISHED, external_id=status_id, url=url, raw=raw_of(resp), rate=rate)
        if resp.status == 401:
            # Mastodon tokens do not expire and cannot be refreshed: a 401 means revoked.
            return PublishResult(outcome=Outcome.PERMANENT, error_code="revoked_token", message=error, revoked=True,
                                 raw=raw_of(resp))
        if resp.status == 429:
            reset = rate.reset_at if rate and rate.reset_at else datetime.now(UTC) + DEFAULT_RESET
            return PublishResult(outcome=Outcome.RATE_LIMITED, error_code="rate_limited", message=error or "Too many requests",
                                 retry_at=reset, raw=raw_of(resp), rate=rate)
        if resp.status >= 500:
            return self.server_error(resp, write=True)
        return PublishResult(outcome=Outcome.PERMANENT, error_code="validation_failed" if resp.status == 422 else f"http_{resp.status}",
                             message=error or f"mastodon answered {resp.status}", raw=raw_of(resp))

    async def reconcile(self, creds: Credentials, request: PostRequest, since: datetime | None = None) -> PublishResult:
        """Re-send with the same key: the original status if the first request landed, else
        the one create that now lands. Either way exactly one status exists afterwards."""
        return await self.publish(creds, request)
