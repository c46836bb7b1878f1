"""Bluesky (AT Protocol): ``com.atproto.repo.putRecord`` with a record key chosen by the client
(a TID derived from the job), so re-sending the identical record is a no-op that returns the same
CID; reconciling reads the record back with ``getRecord``. Links and mentions are facets whose
ranges are UTF-8 byte offsets."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from ..outcomes import Outcome, PublishResult, RefreshFailed, RefreshUnavailable, TokenGrant
from .base import Adapter, Credentials, MetricsReading, PostGone, PostRequest, Response, raw_of, window

COLLECTION = "app.bsky.feed.post"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
LINK = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
MENTION = re.compile(r"(?<![\w@])@([a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)+)")
ACCESS_LIFETIME = timedelta(hours=2)
DEFAULT_RESET = timedelta(hours=1)


def record_key(job_id: str, created_at: datetime) -> str:
    """A TID (13 base32-sortable characters: 53 bits of microseconds, 10 bits of clock id),
    the same for every retry of the job: the job's creation time and a clock id from its id."""
    micros = int(created_at.timestamp() * 1_000_000) & ((1 << 53) - 1)
    clock = int(hashlib.sha256(job_id.encode()).hexdigest(), 16) & 0x3FF
    value = (micros << 10) | clock
    return "".join(TID_ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(13)))


def facets(text: str, mention_dids: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Link facets (and mention facets for handles with a known DID), byte ranges in UTF-8."""
    found: list[dict[str, Any]] = []

    def span(start: int, end: int) -> dict[str, int]:
        return {"byteStart": len(text[:start].encode()), "byteEnd": len(text[:end].encode())}

    for match in LINK.finditer(text):
        found.append({"index": span(*match.span()),
                      "features": [{"$type": "app.bsky.richtext.facet#link", "uri": match.group(0)}]})
    for match in MENTION.finditer(text):
        did = (mention_dids or {}).get(match.group(1).lower())
        if did:
            found.append({"index": span(*match.span()),
                          "features": [{"$type": "app.bsky.richtext.facet#mention", "did": did}]})
    return sorted(found, key=lambda f: f["index"]["byteStart"])


class BlueskyAdapter(Adapter):
    name = "bluesky"
    idempotent_create = True
    max_length: ClassVar[int] = 300
    default_rate: ClassVar[tuple[int, float] | None] = (2500, 3600.0)  # 5,000 points an hour, a put costs 2

    def record(self, request: PostRequest) -> dict[str, Any]:
        created = (request.scheduled_at or datetime(2020, 1, 1, tzinfo=UTC)).astimezone(UTC)
        record: dict[str, Any] = {"$type": COLLECTION, "text": request.text,
                                  "createdAt": created.isoformat().replace("+00:00", "Z")}
        if spans := facets(request.text):
            record["facets"] = spans
        if request.reply is not None:  # a thread's next part: reply refs to the first and the previous part
            record["reply"] = {"root": {"uri": request.reply.root_id, "cid": request.reply.root_cid},
                               "parent": {"uri": request.reply.parent_id, "cid": request.reply.parent_cid}}
        return record

    def rkey(self, request: PostRequest) -> str:
        """The same for every retry of a post; each part of a thread one microsecond after the last."""
        base = request.created_at or request.scheduled_at or datetime(2020, 1, 1, tzinfo=UTC)
        return record_key(request.job_id, base + timedelta(microseconds=request.part))

    def _auth(self, creds: Credentials) -> dict[str, str]:
        return {"Authorization": f"Bearer {creds.access_token}"}

    async def publish(self, creds: Credentials, request: PostRequest) -> PublishResult:
        body = {"repo": creds.account_id, "collection": COLLECTION, "rkey": self.rkey(request), "record": self.record(request)}
        got = await self.request("POST", f"{creds.endpoint}/xrpc/com.atproto.repo.putRecord", write=True,
                                 json=body, headers=self._auth(creds))
        if isinstance(got, PublishResult):
            return got
        return self._meaning(got)

    async def metrics(self, creds: Credentials, external_id: str) -> MetricsReading:
        """``app.bsky.feed.getPosts``: engagement counts (no impressions); a post missing from
        the answer was deleted."""

        def parse(body: Any) -> dict[str, float]:
            view = next((p for p in body["posts"] if p.get("uri") == external_id), None)
            if view is None:
                raise PostGone
            return {"likes": view.get("likeCount"), "reposts": view.get("repostCount"), "replies": view.get("replyCount"),
                    "quotes": view.get("quoteCount")}  # fmt: skip

        return await self.read_metrics(f"{creds.endpoint}/xrpc/app.bsky.feed.getPosts", parse,
                                       params={"uris": external_id}, headers=self._auth(creds))  # fmt: skip

    def url(self, creds: Credentials, uri: str) -> str:
        return f"https://bsky.app/profile/{creds.account_id}/post/{uri.rsplit('/', 1)[-1]}"

    def _meaning(self, resp: Response, creds: Credentials | None = None) -> PublishResult:
        rate = window(resp.headers, "ratelimit-")
        body = resp.body if isinstance(resp.body, dict) else {}
        error, message = str(body.get("error", "")), str(body.get("message", ""))
        if resp.status == 200:
            uri, cid = body.get("uri"), body.get("cid")
            if not (isinstance(uri, str) and uri.startswith("at://") and isinstance(cid, str) and cid):
                return PublishResult(outcome=Outcome.UNCONFIRMED, error_code="invalid_success_body",
                                     message="200 without uri and cid", raw=raw_of(resp), rate=rate)
            return PublishResult(outcome=Outcome.PUBLISHED, external_id=uri,
                                 url=f"https://bsky.app/profile/{uri.split('/')[2]}/post/{uri.rsplit('/', 1)[-1]}",
                                 raw=raw_of(resp), rate=rate)
        if error in ("ExpiredToken", "InvalidToken") or resp.status == 401:
            return PublishResult(outcome=Outcome.AUTH_EXPIRED, error_code=error.lower() or "unauthorized", message=message,
                                 raw=raw_of(resp))
        if resp.status == 429:
            reset = rate.reset_at if rate and rate.reset_at else datetime.now(UTC) + DEFAULT_RESET
            return PublishResult(outcome=Outcome.RATE_LIMITED, error_code="rate_limited", message=message or error,
                                 retry_at=reset, raw=raw_of(resp), rate=rate)
        if resp.status >= 500:
            return self.server_error(resp, write=True)
        return PublishResult(outcome=Outcome.PERMANENT, error_code=(error or f"http_{resp.status}").lower(),
                             message=message or f"bluesky answered {resp.status}", raw=raw_of(resp))

    async def reconcile(self, creds: Credentials, request: PostRequest, since: datetime | None = None) -> PublishResult:
        got = await self.request(
            "GET", f"{creds.endpoint}/xrpc/com.atproto.repo.getRecord", write=False, headers=self._auth(creds),
            params={"repo": creds.account_id or "", "collection": COLLECTION, "rkey": self.rkey(request)},
        )  # fmt: skip
        if isinstance(got, PublishResult):
            return got
        body = got.body if isinstance(got.body, dict) else {}
        if got.status == 400 and body.get("error") == "RecordNotFound":
            return PublishResult(outcome=Outcome.NOT_FOUND, error_code="not_published")
        if got.status == 200:
            return self._meaning(got)
        if body.get("error") == "ExpiredToken":
            return PublishResult(outcome=Outcome.AUTH_EXPIRED, error_code="expiredtoken")
        return PublishResult(outcome=Outcome.NOT_SENT, error_code=f"lookup_http_{got.status}", raw=raw_of(got))

    async def refresh(self, creds: Credentials) -> TokenGrant:
        """``com.atproto.server.refreshSession`` with the refresh JWT as the bearer; both JWTs
        rotate."""
        got = await self.request("POST", f"{creds.endpoint}/xrpc/com.atproto.server.refreshSession", write=False,
                                 headers={"Authorization": f"Bearer {creds.refresh_token}"})
        if isinstance(got, PublishResult):
            raise RefreshUnavailable(got.message or "refresh failed")
        body = got.body if isinstance(got.body, dict) else {}
        if got.status in (400, 401):
            raise RefreshFailed(str(body.get("error", "InvalidToken")), str(body.get("message", "refresh refused")))
        access = body.get("accessJwt")
        if got.status != 200 or not isinstance(access, str) or not access:
            raise RefreshUnavailable(f"refreshSession answered {got.status}")
        refresh = body.get("refreshJwt")
        return TokenGrant(access_token=access, refresh_token=refresh if isinstance(refresh, str) and refresh else None,
                          expires_at=datetime.now(UTC) + ACCESS_LIFETIME)
