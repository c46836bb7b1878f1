"""A fake of X API v2: creates, timeline reads, OAuth 2.0 refresh with rotating refresh tokens,
problem-JSON errors, ``x-rate-limit-*`` headers, usage caps and duplicate-content refusals."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

from aiohttp import web
from twitter_text import parse_tweet

from .base import FakePlatform, RateWindow

BODY_KEYS = {"text", "reply", "media", "quote_tweet_id", "poll", "reply_settings", "direct_message_deep_link",
             "for_super_followers_only", "geo", "nullcast", "card_uri", "community_id"}  # fmt: skip
DIGITS = re.compile(r"^[0-9]{1,19}$")
PROBLEM = "about:blank"
USAGE_CAPPED = "https://api.twitter.com/2/problems/usage-capped"


def problem(status: int, title: str, detail: str, type_: str = PROBLEM, headers: dict | None = None) -> web.Response:
    return web.json_response({"title": title, "type": type_, "status": status, "detail": detail}, status=status,
                             headers=headers, content_type="application/problem+json")


class FakeX(FakePlatform):
    name = "x"

    def __init__(self, *, create_limit: int = 200, window_seconds: float = 900.0, detect_duplicates: bool = True,
                 send_rate_headers: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.window = RateWindow(create_limit, window_seconds, clock=self.clock)
        self.detect_duplicates = detect_duplicates
        self.send_rate_headers = send_rate_headers
        self.usage_capped_until: float | None = None
        self._next_id = 1668910101351272448

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/2/tweets", self.create),
            web.get("/2/users/{user_id}/tweets", self.timeline),
            web.get("/2/tweets/{tweet_id}", self.lookup),
            web.post("/2/oauth2/token", self.token),
        ]

    def _rate_headers(self, account: str) -> dict[str, str]:
        if not self.send_rate_headers:
            return {}
        remaining, reset = self.window.state(account)
        return {"x-rate-limit-limit": str(self.window.limit), "x-rate-limit-remaining": str(max(remaining, 0)),
                "x-rate-limit-reset": str(int(reset))}

    async def create(self, request: web.Request) -> web.StreamResponse:
        account, state = self.bearer(request)
        if account is None:
            return problem(401, "Unauthorized", "Unauthorized")
        try:
            body = await request.json()
        except ValueError:
            return problem(400, "Invalid Request", "One or more parameters to your request was invalid.")
        if not isinstance(body, dict) or set(body) - BODY_KEYS:
            extra = sorted(set(body) - BODY_KEYS) if isinstance(body, dict) else []
            return problem(400, "Invalid Request", f"The following properties are not allowed: {extra}")
        text = body.get("text")
        if not isinstance(text, str) or (not text and "media" not in body):
            return problem(400, "Invalid Request", "text is required")
        if not parse_tweet(unicodedata.normalize("NFC", text)).valid:
            return problem(400, "Invalid Request", "Your Tweet text is too long.")
        reply = body.get("reply")
        if reply is not None:
            target = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
            if set(reply) - {"in_reply_to_tweet_id", "exclude_reply_user_ids"} or not DIGITS.match(str(target or "")):
                return problem(400, "Invalid Request", "reply.in_reply_to_tweet_id must be 1-19 digits")
            if not any(p["id"] == target for p in self.posts):
                return problem(403, "Forbidden", "The Tweet you are replying to does not exist.")
        if self.usage_capped_until is not None and self.clock() < self.usage_capped_until:
            return problem(429, "UsageCapExceeded", "Usage cap exceeded: Monthly product cap", USAGE_CAPPED,
                           headers={"x-rate-limit-reset": str(int(self.usage_capped_until))})
        if not self.window.spend(account):
            return problem(429, "Too Many Requests", "Too Many Requests", headers=self._rate_headers(account))

        async def write() -> web.Response:
            if self.detect_duplicates and any(p["account"] == account and p["text"] == text for p in self.posts):
                return problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.",
                               headers=self._rate_headers(account))
            self._next_id += 1
            post_id = str(self._next_id)
            self.posts.append({"id": post_id, "account": account, "text": text, "created_at": self.clock(),
                               "in_reply_to": (reply or {}).get("in_reply_to_tweet_id"),
                               "metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0,
                                           "bookmark_count": 0, "impression_count": 0}})
            return web.json_response({"data": {"id": post_id, "text": text, "edit_history_tweet_ids": [post_id]}},
                                     status=201, headers=self._rate_headers(account))

        return await self.faulty_write(request, write)

    async def timeline(self, request: web.Request) -> web.Response:
        account, _ = self.bearer(request)
        if account is None:
            return problem(401, "Unauthorized", "Unauthorized")
        user = request.match_info["user_id"]
        limit = min(int(request.query.get("max_results", "10")), 100)
        since = request.query.get("start_time")
        floor = datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp() if since else 0.0
        mine = [p for p in reversed(self.posts) if p["account"] == user and p["created_at"] >= floor - 1]
        offset = int(request.query.get("pagination_token", "0"))
        page = mine[offset:offset + limit]
        data = [{"id": p["id"], "text": p["text"], "edit_history_tweet_ids": [p["id"]]} for p in page]
        meta: dict[str, Any] = {"result_count": len(data)}
        if offset + limit < len(mine):
            meta["next_token"] = str(offset + limit)
        return web.json_response({"data": data, "meta": meta}, headers=self._rate_headers(account))

    async def lookup(self, request: web.Request) -> web.Response:
        account, _ = self.bearer(request)
        if account is None:
            return problem(401, "Unauthorized", "Unauthorized")
        found = next((p for p in self.posts if p["id"] == request.match_info["tweet_id"]), None)
        if found is None:
            return web.json_response({"errors": [{"title": "Not Found Error", "type": "https://api.twitter.com/2/problems/resource-not-found",
                                                  "detail": "Could not find tweet"}]})
        data: dict[str, Any] = {"id": found["id"], "text": found["text"]}
        if "public_metrics" in request.query.get("tweet.fields", ""):
            data["public_metrics"] = dict(found["metrics"])
        return web.json_response({"data": data})

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "refresh_token" or not form.get("client_id"):
            return web.json_response({"error": "invalid_request", "error_description": "Missing required parameter"}, status=400)
        grant = self.tokens.use_refresh(str(form.get("refresh_token", "")))
        if grant is None:
            return web.json_response({"error": "invalid_request",
                                      "error_description": "Value passed for the token was invalid."}, status=400)
        return web.json_response({"token_type": "bearer", "scope": "tweet.write users.read tweet.read offline.access", **grant})
