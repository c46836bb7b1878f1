"""A fake Mastodon instance: ``/api/v1/statuses`` with the one-hour ``Idempotency-Key`` window
(a repeat returns the original status even when the text differs), grapheme counting with URLs
as 23 and ``@user@domain`` as ``@user``, ``X-RateLimit-*`` headers (ISO 8601 reset)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import regex
from aiohttp import web

from .base import FakePlatform, RateWindow

URL = regex.compile(r"https?://\S+")
REMOTE_MENTION = regex.compile(r"(@\w+)@[\w.-]+\w")
VISIBILITY = {"public", "unlisted", "private", "direct"}
FIELDS = {"status", "in_reply_to_id", "visibility", "spoiler_text", "language", "media_ids", "media_ids[]",
          "sensitive", "scheduled_at", "poll"}  # fmt: skip
IDEMPOTENCY_SECONDS = 3600.0


def mastodon_length(text: str) -> int:
    counted = URL.sub("x" * 23, REMOTE_MENTION.sub(r"\1", text))
    return len(regex.findall(r"\X", counted))


class FakeMastodon(FakePlatform):
    name = "mastodon"

    def __init__(self, *, max_characters: int = 500, limit: int = 300, window_seconds: float = 300.0, **kwargs: Any) -> None:
        kwargs.setdefault("access_ttl", 10 * 365 * 86400.0)  # Mastodon tokens do not expire
        super().__init__(**kwargs)
        self.max_characters = max_characters
        self.window = RateWindow(limit, window_seconds, clock=self.clock)
        self.idempotency: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}
        self._next = 109000000000000000

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/api/v1/statuses", self.create), web.get("/api/v1/statuses/{id}", self.show)]

    def _headers(self, account: str) -> dict[str, str]:
        remaining, reset = self.window.state(account)
        return {"X-RateLimit-Limit": str(self.window.limit), "X-RateLimit-Remaining": str(max(remaining, 0)),
                "X-RateLimit-Reset": datetime.fromtimestamp(reset, UTC).isoformat().replace("+00:00", "Z")}

    async def create(self, request: web.Request) -> web.StreamResponse:
        account, _ = self.bearer(request)
        if account is None:
            return web.json_response({"error": "The access token is invalid"}, status=401)
        if not self.window.spend(account):
            return web.json_response({"error": "Too many requests"}, status=429, headers=self._headers(account))
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                return web.json_response({"error": "Malformed JSON"}, status=400)
        else:
            body = dict(await request.post())
        if not isinstance(body, dict):
            return web.json_response({"error": "Validation failed: Text can't be blank"}, status=422)
        key = request.headers.get("Idempotency-Key")
        if key:
            seen = self.idempotency.get((account, key))
            if seen is not None and self.clock() - seen[0] < IDEMPOTENCY_SECONDS:
                return web.json_response(seen[1], headers=self._headers(account))
        text = body.get("status")
        if not isinstance(text, str) or not text.strip():
            return web.json_response({"error": "Validation failed: Text can't be blank"}, status=422)
        if body.get("visibility", "public") not in VISIBILITY:
            return web.json_response({"error": "Validation failed: Visibility is not included in the list"}, status=422)
        reply_to = body.get("in_reply_to_id")
        if reply_to is not None and not any(p["id"] == str(reply_to) for p in self.posts):
            return web.json_response({"error": "Record not found"}, status=404)
        spoiler = body.get("spoiler_text") or ""
        if mastodon_length(spoiler + text) > self.max_characters:
            return web.json_response({"error": f"Validation failed: Text character limit of {self.max_characters} exceeded"},
                                     status=422)

        async def write() -> web.Response:
            self._next += 1
            status_id = str(self._next)
            status = {"id": status_id, "uri": f"{self.url}/users/{account}/statuses/{status_id}",
                      "url": f"{self.url}/@{account}/{status_id}", "content": f"<p>{text}</p>", "visibility": body.get("visibility", "public"),
                      "created_at": datetime.fromtimestamp(self.clock(), UTC).isoformat(), "favourites_count": 0,
                      "reblogs_count": 0, "replies_count": 0, "account": {"id": account, "acct": account}}
            status["in_reply_to_id"] = str(reply_to) if reply_to is not None else None
            self.posts.append({"id": status_id, "account": account, "text": text, "key": key, "status": status,
                               "in_reply_to": status["in_reply_to_id"]})
            if key:
                self.idempotency[(account, key)] = (self.clock(), status)
            return web.json_response(status, headers=self._headers(account))

        return await self.faulty_write(request, write)

    async def show(self, request: web.Request) -> web.Response:
        found = next((p for p in self.posts if p["id"] == request.match_info["id"]), None)
        if found is None:
            return web.json_response({"error": "Record not found"}, status=404)
        return web.json_response(found["status"])
