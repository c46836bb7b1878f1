"""X (API v2): ``POST /2/tweets``; no idempotency key, so an unconfirmed create is reconciled by
reading the account's recent posts, and a 403 "duplicate content" after an unconfirmed attempt
means the first one landed."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from ..outcomes import Outcome, PublishResult, RefreshFailed, RefreshUnavailable, TokenGrant
from .base import LOOKUP_PAGES, Adapter, Credentials, MetricsReading, PostGone, PostRequest, Response, raw_of, window

DIGITS = re.compile(r"^[0-9]{1,19}$")
USAGE_CAPPED = "usage-capped"
DUPLICATE_DETAIL = "duplicate content"
RATE_PREFIX = "x-rate-limit-"
DEFAULT_RESET = timedelta(minutes=15)  # the create window when the headers are missing


class XAdapter(Adapter):
    name = "x"
    max_length: ClassVar[int] = 280
    default_rate: ClassVar[tuple[int, float] | None] = (100, 900.0)  # 100 creates per 15 min per user (the lower documented figure)
    lookup_page: ClassVar[int] = 100

    def _auth(self, creds: Credentials) -> dict[str, str]:
        return {"Authorization": f"Bearer {creds.access_token}"}

    async def publish(self, creds: Credentials, request: PostRequest) -> PublishResult:
        body: dict[str, Any] = {"text": request.text}
        if request.reply_to:
            body["reply"] = {"in_reply_to_tweet_id": request.reply_to}
        got = await self.request("POST", f"{creds.endpoint}/2/tweets", write=True, json=body, headers=self._auth(creds))
        if isinstance(got, PublishResult):
            return got
        return self._meaning(got, creds)

    def _meaning(self, resp: Response, creds: Credentials) -> PublishResult:
        rate = window(resp.headers, RATE_PREFIX)
        body = resp.body if isinstance(resp.body, dict) else {}
        if resp.status == 201:
            data = body.get("data") if isinstance(body.get("data"), dict) else {}
            post_id = data.get("id")
            if not isinstance(post_id, str) or not DIGITS.match(post_id):
                # Sent and answered, but not with a post id: it may exist; reconcile.
                return PublishResult(outcome=Outcome.UNCONFIRMED, error_code="invalid_success_body",
                                     message="201 without a valid data.id", raw=raw_of(resp), rate=rate)
            return PublishResult(outcome=Outcome.PUBLISHED, external_id=post_id, url=self.url(creds, post_id),
                                 raw=raw_of(resp), rate=rate)
        detail = str(body.get("detail", ""))
        if resp.status == 401:
            return PublishResult(outcome=Outcome.AUTH_EXPIRED, error_code="unauthorized", message=detail, raw=raw_of(resp))
        if resp.status == 403 and DUPLICATE_DETAIL in detail:
            return PublishResult(outcome=Outcome.DUPLICATE, error_code="duplicate", message=detail, raw=raw_of(resp))
        if resp.status == 429:
            capped = str(body.get("type", "")).endswith(USAGE_CAPPED)
            reset = rate.reset_at if rate and rate.reset_at else datetime.now(UTC) + DEFAULT_RESET
            return PublishResult(outcome=Outcome.RATE_LIMITED, error_code="usage_capped" if capped else "rate_limited",
                                 message=detail or "Too Many Requests", retry_at=reset, raw=raw_of(resp), rate=rate)
        if resp.status >= 500:
            return self.server_error(resp, write=True)
        return PublishResult(outcome=Outcome.PERMANENT, error_code=f"http_{resp.status}",
                             message=detail or str(body.get("title", "")) or f"x answered {resp.status}", raw=raw_of(resp))

    def url(self, creds: Credentials, post_id: str) -> str:
        return f"https://x.com/i/web/status/{post_id}"

    async def reconcile(self, creds: Credentials, request: PostRequest, since: datetime | None = None) -> PublishResult:
        """Look for the text among the account's posts created since ``since`` (paged)."""
        params = {"max_results": str(self.lookup_page)}
        if since is not None:
            params["start_time"] = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        for _ in range(LOOKUP_PAGES):
            got = await self.request("GET", f"{creds.endpoint}/2/users/{creds.account_id}/tweets", write=False,
                                     params=params, headers=self._auth(creds))
            if isinstance(got, PublishResult):
                return got
            if got.status == 401:
                return PublishResult(outcome=Outcome.AUTH_EXPIRED, error_code="unauthorized")
            if got.status != 200 or not isinstance(got.body, dict):
                return PublishResult(outcome=Outcome.NOT_SENT, error_code=f"lookup_http_{got.status}", raw=raw_of(got))
            for post in got.body.get("data") or []:
                if isinstance(post, dict) and post.get("text") == request.text and DIGITS.match(str(post.get("id", ""))):
                    return PublishResult(outcome=Outcome.PUBLISHED, external_id=post["id"], url=self.url(creds, post["id"]),
                                         raw={"reconciled": True, "status": 200})
            next_token = (got.body.get("meta") or {}).get("next_token")
            if not next_token:
                return PublishResult(outcome=Outcome.NOT_FOUND, error_code="not_published")
            params = {**params, "pagination_token": str(next_token)}
        return PublishResult(outcome=Outcome.NOT_SENT, error_code="lookup_too_long", message="too many posts to look through")

    async def metrics(self, creds: Credentials, external_id: str) -> MetricsReading:
        def parse(body: Any) -> dict[str, float] | None:
            if "data" not in body and any("not-found" in str(e.get("type", "")) for e in body.get("errors") or []):
                raise PostGone  # X answers 200 with an error list for a deleted post
            counts = body["data"]["public_metrics"]
            return {"impressions": counts.get("impression_count"), "likes": counts.get("like_count"),
                    "reposts": counts.get("retweet_count"), "replies": counts.get("reply_count"),
                    "quotes": counts.get("quote_count"), "bookmarks": counts.get("bookmark_count")}  # fmt: skip

        return await self.read_metrics(f"{creds.endpoint}/2/tweets/{external_id}", parse, headers=self._auth(creds),
                                       params={"tweet.fields": "public_metrics"})  # fmt: skip

    async def refresh(self, creds: Credentials) -> TokenGrant:
        got = await self.request(
            "POST", f"{creds.auth_endpoint or creds.endpoint}/2/oauth2/token", write=False,
            data={"grant_type": "refresh_token", "refresh_token": creds.refresh_token or "",
                  "client_id": creds.client_id or ""},
        )  # fmt: skip
        return oauth_grant(got)


def oauth_grant(got: Response | PublishResult) -> TokenGrant:
    """An OAuth 2.0 token response (X, LinkedIn) as a grant; a 400/401 is a spent or revoked
    refresh token (RefreshFailed), anything else transient (RefreshUnavailable)."""
    if isinstance(got, PublishResult):
        raise RefreshUnavailable(got.message or got.error_code or "refresh failed")
    body = got.body if isinstance(got.body, dict) else {}
    if got.status in (400, 401):
        raise RefreshFailed(str(body.get("error", "invalid_grant")), str(body.get("error_description", "refresh refused")))
    if got.status != 200 or not isinstance(body.get("access_token"), str) or not body["access_token"]:
        raise RefreshUnavailable(f"token endpoint answered {got.status}")
    expires = body.get("expires_in")
    expires_at = datetime.now(UTC) + timedelta(seconds=int(expires)) if isinstance(expires, int | float) else None
    refresh = body.get("refresh_token")
    scopes = tuple(str(body.get("scope", "")).split()) if body.get("scope") else ()
    return TokenGrant(access_token=body["access_token"], refresh_token=refresh if isinstance(refresh, str) and refresh else None,
                      expires_at=expires_at, scopes=scopes)
