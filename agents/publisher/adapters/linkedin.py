"""LinkedIn (Posts API): ``POST /rest/posts`` with ``LinkedIn-Version``; the new post's URN
comes back in ``x-restli-id`` on an empty 201. Commentary is "little text": reserved characters
are backslash-escaped (backslash first) or the post is silently truncated at the first one."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from typing import ClassVar
from urllib.parse import quote

from ..outcomes import Outcome, PublishResult, TokenGrant
from .base import LOOKUP_PAGES, Adapter, Credentials, MetricsReading, PostRequest, Response, raw_of
from .x import oauth_grant

RESERVED = "\\|{}@[]()<>#*_~"
URN = re.compile(r"^urn:li:(share|ugcPost):[0-9A-Za-z_-]+$")
DUPLICATE_OF = re.compile(r"duplicate of (urn:li:(?:share|ugcPost):[0-9A-Za-z_-]+)")
API_VERSION = "202510"
AUTH_HOST = "https://www.linkedin.com"  # token refreshes go to www, the API is api.linkedin.com


def escape_little_text(text: str) -> str:
    """Backslash-escape every reserved character; the backslash itself first, so the escapes
    added for the others are not escaped again."""
    escaped = text.replace("\\", "\\\\")
    for char in RESERVED[1:]:
        escaped = escaped.replace(char, "\\" + char)
    return escaped


def next_midnight_utc(now: datetime | None = None) -> datetime:
    """LinkedIn's daily limits reset at midnight UTC."""
    now = now or datetime.now(UTC)
    return datetime.combine(now.date() + timedelta(days=1), time(0, 0), UTC)


class LinkedInAdapter(Adapter):
    name = "linkedin"
    max_length: ClassVar[int] = 3000
    default_rate: ClassVar[tuple[int, float] | None] = (150, 86400.0)  # ≈150 member posts a day
    version: ClassVar[str] = API_VERSION

    def _headers(self, creds: Credentials) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {creds.access_token}",
            "LinkedIn-Version": self.version,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    def body(self, creds: Credentials, request: PostRequest) -> dict:
        return {
            "author": creds.account_id,
            "commentary": escape_little_text(request.text),
            "visibility": "PUBLIC",
            "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }

    async def publish(self, creds: Credentials, request: PostRequest) -> PublishResult:
        got = await self.request("POST", f"{creds.endpoint}/rest/posts", write=True,
                                 json=self.body(creds, request), headers=self._headers(creds))
        if isinstance(got, PublishResult):
            return got
        return self._meaning(got)

    async def metrics(self, creds: Credentials, external_id: str) -> MetricsReading:
        """Any post's social actions (likes, first-level comments); impressions need the
        member or organization analytics APIs and their extra scopes."""
        return await self.read_metrics(
            f"{creds.endpoint}/rest/socialActions/{quote(external_id, safe='')}",
            lambda b: {"likes": b["likesSummary"]["totalLikes"], "replies": b["commentsSummary"]["totalFirstLevelComments"]},
            headers=self._headers(creds),
        )  # fmt: skip

    def url(self, urn: str) -> str:
        return f"https://www.linkedin.com/feed/update/{urn}/"

    def _meaning(self, resp: Response) -> PublishResult:
        body = resp.body if isinstance(resp.body, dict) else {}
        message = str(body.get("message", ""))
        if resp.status == 201:
            urn = resp.headers.get("x-restli-id", "")
            if not URN.match(urn):
                return PublishResult(outcome=Outcome.UNCONFIRMED, error_code="invalid_success_header",
                                     message="201 without a post URN in x-restli-id", raw=raw_of(resp))
            return PublishResult(outcome=Outcome.PUBLISHED, external_id=urn, url=self.url(urn), raw=raw_of(resp))
        inputs = ((body.get("errorDetails") or {}).get("inputErrors") or [{}]) if isinstance(body.get("errorDetails"), dict) else [{}]
        if resp.status == 422 and (inputs[0].get("code") == "DUPLICATE_POST" or DUPLICATE_OF.search(message)):
            found = DUPLICATE_OF.search(message)
            return PublishResult(outcome=Outcome.DUPLICATE, error_code="duplicate", message=message,
                                 external_id=found.group(1) if found else None, raw=raw_of(resp))
        if resp.status == 401:
            return PublishResult(outcome=Outcome.AUTH_EXPIRED, error_code=f"unauthorized_{body.get('serviceErrorCode', '')}".rstrip("_"),
                                 message=message, raw=raw_of(resp))
        if resp.status == 429:
            return PublishResult(outcome=Outcome.RATE_LIMITED, error_code="daily_limit", message=message or "throttled",
                                 retry_at=next_midnight_utc(), raw=raw_of(resp))
        if resp.status >= 500:
            return self.server_error(resp, write=True)
        code = str(body.get("code") or {400: "bad_request", 426: "nonexistent_version"}.get(resp.status, f"http_{resp.status}"))
        return PublishResult(outcome=Outcome.PERMANENT, error_code=code.lower(), message=message or f"linkedin answered {resp.status}",
                             raw=raw_of(resp))

    async def reconcile(self, creds: Credentials, request: PostRequest, since: datetime | None = None) -> PublishResult:
        """Find the post among the author's recent posts (commentary compared escaped), paged
        with ``start``/``count`` until posts older than ``since``."""
        wanted = escape_little_text(request.text)
        author = quote(creds.account_id or "", safe="")
        for page in range(LOOKUP_PAGES):
            got = await self.request(
                "GET", f"{creds.endpoint}/rest/posts?q=author&author={author}&count=100&start={page * 100}&sortBy=CREATED",
                write=False, headers=self._headers(creds),
            )  # fmt: skip
            if isinstance(got, PublishResult):
                return got
            if got.status == 401:
                return PublishResult(outcome=Outcome.AUTH_EXPIRED, error_code="unauthorized")
            if got.status != 200 or not isinstance(got.body, dict):
                return PublishResult(outcome=Outcome.NOT_SENT, error_code=f"lookup_http_{got.status}", raw=raw_of(got))
            elements = [p for p in got.body.get("elements") or [] if isinstance(p, dict)]
            for post in elements:
                if post.get("commentary") == wanted and URN.match(str(post.get("id", ""))):
                    return PublishResult(outcome=Outcome.PUBLISHED, external_id=post["id"], url=self.url(post["id"]),
                                         raw={"reconciled": True, "status": 200})
            oldest = min((p.get("createdAt", 0) for p in elements), default=0)
            if len(elements) < 100 or (since is not None and oldest and oldest < since.timestamp() * 1000):
                return PublishResult(outcome=Outcome.NOT_FOUND, error_code="not_published")
        return PublishResult(outcome=Outcome.NOT_SENT, error_code="lookup_too_long", message="too many posts to look through")

    async def refresh(self, creds: Credentials) -> TokenGrant:
        got = await self.request(
            "POST", f"{creds.auth_endpoint or (AUTH_HOST if 'api.linkedin.com' in creds.endpoint else creds.endpoint)}/oauth/v2/accessToken", write=False,
            data={"grant_type": "refresh_token", "refresh_token": creds.refresh_token or "",
                  "client_id": creds.client_id or "", "client_secret": creds.client_secret or ""},
        )  # fmt: skip
        return oauth_grant(got)
