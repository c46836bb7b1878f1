"""Webhook: ``POST`` the post as JSON to a URL the brand chose, signed so the receiver can tell
it came from Kairo and is fresh.

Headers (a receiver verifies them like this):

* ``X-Kairo-Timestamp``: Unix seconds when the request was signed;
* ``X-Kairo-Signature``: ``sha256=`` + hex HMAC-SHA256 with the shared secret over
  ``"{timestamp}.{raw body bytes}"``; reject when it differs (compare in constant time) or the
  timestamp is more than 5 minutes off;
* ``X-Kairo-Delivery``: the post's key, the same on every retry of one post: a receiver that
  keeps the keys it has seen turns retries into no-ops (answer 2xx again).

Any 2xx is a delivery; a JSON ``{"id": ...}`` in the answer becomes the external id, else the
delivery key does. 410 means the receiver is gone for good.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

from ..outcomes import Outcome, PublishResult
from .base import Adapter, Credentials, PostRequest, epoch, raw_of

SIGNATURE_HEADER = "X-Kairo-Signature"
TIMESTAMP_HEADER = "X-Kairo-Timestamp"
DELIVERY_HEADER = "X-Kairo-Delivery"
MAX_SKEW_SECONDS = 300
DEFAULT_RETRY = timedelta(minutes=1)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, now: float | None = None) -> bool:
    """What a receiver does: the signature matches and the timestamp is fresh."""
    try:
        fresh = abs((now if now is not None else time.time()) - int(timestamp)) <= MAX_SKEW_SECONDS
    except ValueError:
        return False
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


class WebhookAdapter(Adapter):
    name = "webhook"
    idempotent_create = True  # the delivery key lets the receiver drop repeats

    def payload(self, request: PostRequest) -> bytes:
        return json.dumps({
            "delivery_id": request.post_key, "job_id": request.job_id, "brand_id": request.brand_id,
            "channel": request.channel, "text": request.text,
            "scheduled_at": request.scheduled_at.isoformat() if request.scheduled_at else None,
        }, separators=(",", ":"), ensure_ascii=False).encode()  # fmt: skip

    async def publish(self, creds: Credentials, request: PostRequest) -> PublishResult:
        body = self.payload(request)
        stamp = str(int(time.time()))
        got = await self.request("POST", creds.endpoint, write=True, data=body, headers={
            "Content-Type": "application/json", TIMESTAMP_HEADER: stamp, DELIVERY_HEADER: request.post_key,
            SIGNATURE_HEADER: sign(creds.secret or "", stamp, body),
        })  # fmt: skip
        if isinstance(got, PublishResult):
            return got
        if 200 <= got.status < 300:
            answer = got.body if isinstance(got.body, dict) else {}
            external = str(answer.get("id") or request.post_key)
            return PublishResult(outcome=Outcome.PUBLISHED, external_id=external[:120],
                                 url=answer.get("url") if isinstance(answer.get("url"), str) else None, raw=raw_of(got))
        if got.status == 429:
            retry = got.headers.get("retry-after")
            at = datetime.now(UTC) + timedelta(seconds=int(retry)) if retry and retry.isdigit() else None
            return PublishResult(outcome=Outcome.RATE_LIMITED, error_code="rate_limited",
                                 retry_at=at or epoch(retry) or datetime.now(UTC) + DEFAULT_RETRY, raw=raw_of(got))
        if got.status >= 500:
            return self.server_error(got, write=True)
        if got.status in (408, 409, 425):
            return PublishResult(outcome=Outcome.NOT_SENT, error_code=f"http_{got.status}", raw=raw_of(got))
        return PublishResult(outcome=Outcome.PERMANENT, error_code=f"http_{got.status}",
                             message=f"webhook receiver answered {got.status}", revoked=got.status in (401, 403, 410),
                             raw=raw_of(got))

    async def reconcile(self, creds: Credentials, request: PostRequest, since: datetime | None = None) -> PublishResult:
        """Deliver again with the same key: the receiver drops a repeat."""
        return await self.publish(creds, request)
