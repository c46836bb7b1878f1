"""A fake Bluesky PDS: sessions (access JWT 2 h, refresh JWT rotated on use), ``putRecord`` /
``createRecord`` / ``getRecord`` for ``app.bsky.feed.post`` with record validation (300
graphemes, 3000 bytes, facets as UTF-8 byte ranges), expired tokens as HTTP 400 ``ExpiredToken``,
and write points (create 3, put 2) with ``RateLimit-*`` headers."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

import regex
from aiohttp import web

from .base import FakePlatform, RateWindow

COLLECTION = "app.bsky.feed.post"
TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
PUT_KEYS = {"repo", "collection", "rkey", "record", "validate", "swapRecord", "swapCommit"}
CREATE_KEYS = PUT_KEYS - {"swapRecord"}
RECORD_KEYS = {"$type", "text", "createdAt", "facets", "reply", "langs", "embed", "labels", "tags", "entities"}
FACET_TYPES = {"app.bsky.richtext.facet#link": "uri", "app.bsky.richtext.facet#mention": "did",
               "app.bsky.richtext.facet#tag": "tag"}  # fmt: skip


def xrpc_error(error: str, message: str, status: int = 400, headers: dict | None = None) -> web.Response:
    return web.json_response({"error": error, "message": message}, status=status, headers=headers)


def cid_of(record: dict[str, Any]) -> str:
    return "bafyrei" + hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()[:52]


def record_problem(record: Any) -> str | None:
    """Why a post record is invalid, or None."""
    if not isinstance(record, dict) or record.get("$type") != COLLECTION:
        return "Record/$type must be app.bsky.feed.post"
    if set(record) - RECORD_KEYS:
        return f"Record has unknown properties {sorted(set(record) - RECORD_KEYS)}"
    text = record.get("text")
    if not isinstance(text, str):
        return "Record/text must be a string"
    if len(regex.findall(r"\X", text)) > 300:
        return "Record/text must not be longer than 300 graphemes"
    encoded = text.encode()
    if len(encoded) > 3000:
        return "Record/text must not be longer than 3000 bytes"
    try:
        datetime.fromisoformat(str(record.get("createdAt", "")).replace("Z", "+00:00"))
    except ValueError:
        return "Record/createdAt must be a valid datetime"
    for facet in record.get("facets") or []:
        index = facet.get("index") if isinstance(facet, dict) else None
        if not isinstance(index, dict):
            return "Record/facets/index is required"
        start, end = index.get("byteStart"), index.get("byteEnd")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(encoded)):
            return "Record/facets/index byte range is out of the text"
        for feature in facet.get("features") or []:
            key = FACET_TYPES.get(feature.get("$type", ""))
            if key is None or not isinstance(feature.get(key), str):
                return "Record/facets/features has an invalid feature"
            if key == "uri" and encoded[start:end].decode(errors="replace") != feature["uri"]:
                return "Record/facets link range does not cover its URI"
    return None


class FakeBluesky(FakePlatform):
    name = "bluesky"

    def __init__(self, *, points_per_hour: int = 5000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.points = RateWindow(points_per_hour, 3600.0, clock=self.clock)
        self.records: dict[tuple[str, str], dict[str, Any]] = {}  # (did, rkey) -> {"value", "cid"}
        self.passwords: dict[str, str] = {}

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/xrpc/com.atproto.server.createSession", self.create_session),
            web.post("/xrpc/com.atproto.server.refreshSession", self.refresh_session),
            web.post("/xrpc/com.atproto.repo.putRecord", self.put_record),
            web.post("/xrpc/com.atproto.repo.createRecord", self.create_record),
            web.get("/xrpc/com.atproto.repo.getRecord", self.get_record),
            web.get("/xrpc/app.bsky.feed.getPosts", self.get_posts),
        ]

    def _headers(self, did: str) -> dict[str, str]:
        remaining, reset = self.points.state(did)
        return {"RateLimit-Limit": str(self.points.limit), "RateLimit-Remaining": str(max(remaining, 0)),
                "RateLimit-Reset": str(int(reset)), "RateLimit-Policy": f"{self.points.limit};w=3600"}

    def _auth(self, request: web.Request) -> tuple[str | None, web.Response | None]:
        did, state = self.bearer(request)
        if did is None:
            if state == "expired":
                return None, xrpc_error("ExpiredToken", "Token has expired")
            return None, xrpc_error("AuthenticationRequired", "Invalid identifier or password", 401)
        return did, None

    async def create_session(self, request: web.Request) -> web.Response:
        body = await request.json()
        did = f"did:plc:{hashlib.sha256(str(body.get('identifier')).encode()).hexdigest()[:24]}"
        if self.passwords.get(did, body.get("password")) != body.get("password"):
            return xrpc_error("AuthenticationRequired", "Invalid identifier or password", 401)
        self.passwords[did] = body.get("password")
        grant = self.tokens.issue(did)
        return web.json_response({"did": did, "handle": body.get("identifier"), "accessJwt": grant["access_token"],
                                  "refreshJwt": grant["refresh_token"]})

    async def refresh_session(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        grant = self.tokens.use_refresh(token)
        if grant is None:
            return xrpc_error("ExpiredToken", "Token has been revoked")
        did = next(a for t, (a, _) in self.tokens.access.items() if t == grant["access_token"])
        return web.json_response({"did": did, "accessJwt": grant["access_token"], "refreshJwt": grant["refresh_token"]})

    async def _write(self, request: web.Request, *, put: bool) -> web.StreamResponse:
        did, refused = self._auth(request)
        if refused is not None:
            return refused
        try:
            body = await request.json()
        except ValueError:
            return xrpc_error("InvalidRequest", "Malformed JSON")
        allowed = PUT_KEYS if put else CREATE_KEYS
        if not isinstance(body, dict) or set(body) - allowed:
            return xrpc_error("InvalidRequest", f"Input has unknown properties {sorted(set(body) - allowed)}")
        if body.get("repo") != did:
            return xrpc_error("InvalidRequest", "Input/repo must be the session's DID")
        if body.get("collection") != COLLECTION:
            return xrpc_error("InvalidRequest", "Input/collection must be app.bsky.feed.post")
        rkey = body.get("rkey")
        if put and not isinstance(rkey, str) or (rkey is not None and not TID.match(str(rkey))):
            return xrpc_error("InvalidRequest", "Input/rkey must be a valid TID")
        if (problem := record_problem(body.get("record"))) is not None:
            return xrpc_error("InvalidRecord", problem)
        if (problem := self.reply_problem(body["record"].get("reply"))) is not None:
            return xrpc_error("InvalidRecord", problem)
        if not self.points.spend(did, 2 if put else 3):
            return xrpc_error("RateLimitExceeded", "Rate Limit Exceeded", 429, headers=self._headers(did))

        async def write() -> web.Response:
            key = rkey or hashlib.sha256(f"{did}{self.clock()}{len(self.records)}".encode()).hexdigest()[:13]
            record = body["record"]
            existing = self.records.get((did, key))
            cid = cid_of(record)
            uri = f"at://{did}/{COLLECTION}/{key}"
            if existing is None:
                self.posts.append({"id": uri, "account": did, "text": record["text"], "record": record, "likes": 0,
                                   "in_reply_to": (record.get("reply") or {}).get("parent", {}).get("uri")})
            elif existing["cid"] != cid:
                for post in self.posts:  # an update of the same record, not a second post
                    if post["id"] == uri:
                        post.update(text=record["text"], record=record)
            self.records[(did, key)] = {"value": record, "cid": cid}
            return web.json_response({"uri": uri, "cid": cid, "validationStatus": "valid"}, headers=self._headers(did))

        return await self.faulty_write(request, write)

    def reply_problem(self, reply: Any) -> str | None:
        """A reply's root and parent must be strong refs (uri and cid) to records that exist."""
        if reply is None:
            return None
        if not isinstance(reply, dict) or set(reply) != {"root", "parent"}:
            return "Record/reply must have root and parent"
        for name in ("root", "parent"):
            ref = reply[name]
            if not isinstance(ref, dict) or set(ref) != {"uri", "cid"} or not all(isinstance(v, str) for v in ref.values()):
                return f"Record/reply/{name} must be a strong ref (uri, cid)"
            parts = ref["uri"].removeprefix("at://").split("/")
            found = self.records.get((parts[0], parts[-1])) if len(parts) == 3 else None
            if found is None or found["cid"] != ref["cid"]:
                return f"Record/reply/{name} does not reference an existing record"
        return None

    async def put_record(self, request: web.Request) -> web.StreamResponse:
        return await self._write(request, put=True)

    async def create_record(self, request: web.Request) -> web.StreamResponse:
        return await self._write(request, put=False)

    async def get_record(self, request: web.Request) -> web.Response:
        repo, rkey = request.query.get("repo", ""), request.query.get("rkey", "")
        found = self.records.get((repo, rkey))
        if found is None or request.query.get("collection") != COLLECTION:
            return xrpc_error("RecordNotFound", f"Could not locate record: at://{repo}/{COLLECTION}/{rkey}")
        return web.json_response({"uri": f"at://{repo}/{COLLECTION}/{rkey}", "cid": found["cid"], "value": found["value"]})

    async def get_posts(self, request: web.Request) -> web.Response:
        uris = request.query.getall("uris", [])
        views = [{"uri": p["id"], "likeCount": p["likes"], "repostCount": 0, "replyCount": 0, "quoteCount": 0}
                 for p in self.posts if p["id"] in uris]
        return web.json_response({"posts": views})
