"""A fake of LinkedIn's Posts API: exact headers and body, an empty 201 with the URN in
``x-restli-id``, silent truncation at the first unescaped reserved character, duplicate
refusals naming the original URN, a daily limit (429, code 101, no rate headers), refresh."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from .base import FakePlatform, RateWindow

RESERVED = set("\\|{}@[]()<>#*_~")
BODY_KEYS = {"author", "commentary", "visibility", "distribution", "lifecycleState", "isReshareDisabledByAuthor"}
OPTIONAL_KEYS = {"content", "contentLandingPage", "contentCallToActionLabel", "adContext", "reshareContext", "container"}
VERSIONS = {f"2025{m:02d}" for m in range(1, 13)} | {f"2026{m:02d}" for m in range(1, 13)}
MAX_CHARS = 3000


def little_text(commentary: str) -> tuple[str, str]:
    """(what is shown, what is stored): unescaped up to the first unescaped reserved character,
    where LinkedIn silently cuts the post."""
    shown, i = [], 0
    while i < len(commentary):
        char = commentary[i]
        if char == "\\" and i + 1 < len(commentary) and commentary[i + 1] in RESERVED:
            shown.append(commentary[i + 1])
            i += 2
            continue
        if char in RESERVED:
            return "".join(shown), commentary[:i]
        shown.append(char)
        i += 1
    return "".join(shown), commentary


def error(status: int, message: str, service_code: int | None = None, code: str | None = None, **extra: Any) -> web.Response:
    body: dict[str, Any] = {"message": message, "status": status}
    if service_code is not None:
        body["serviceErrorCode"] = service_code
    if code:
        body["code"] = code
    body.update(extra)
    return web.json_response(body, status=status)


class FakeLinkedIn(FakePlatform):
    name = "linkedin"

    def __init__(self, *, posts_per_day: int = 150, detect_duplicates: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("access_ttl", 60 * 86400.0)
        super().__init__(**kwargs)
        self.tokens.rotate_refresh = False  # LinkedIn refresh tokens are reused until they expire
        self.daily = RateWindow(posts_per_day, 86400.0, clock=self.clock)
        self.detect_duplicates = detect_duplicates
        self._next = 7000000000000000000

    def routes(self) -> list[web.RouteDef]:
        return [web.post("/rest/posts", self.create), web.get("/rest/posts", self.find),
                web.get("/rest/socialActions/{urn}", self.social), web.post("/oauth/v2/accessToken", self.token)]

    def _version(self, request: web.Request) -> web.Response | None:
        version = request.headers.get("LinkedIn-Version")
        if not version:
            return error(400, "A version must be present. Please specify a version by adding the LinkedIn-Version header.",
                         code="VERSION_MISSING")
        if version not in VERSIONS:
            return error(426, f"Requested version {version} is not active", code="NONEXISTENT_VERSION")
        if request.headers.get("X-Restli-Protocol-Version") != "2.0.0":
            return error(400, "X-Restli-Protocol-Version 2.0.0 is required", code="PROTOCOL_VERSION_MISSING")
        return None

    def _auth(self, request: web.Request) -> tuple[str | None, web.Response | None]:
        account, state = self.bearer(request)
        if account is None:
            return None, error(401, "Invalid access token" if state == "invalid" else "The token used in the request has expired",
                               65600 if state == "invalid" else 65601, code="REVOKED_ACCESS_TOKEN" if state == "invalid" else "EXPIRED_ACCESS_TOKEN")
        return account, None

    async def create(self, request: web.Request) -> web.StreamResponse:
        if (refused := self._version(request)) is not None:
            return refused
        account, refused = self._auth(request)
        if refused is not None:
            return refused
        if not request.content_type == "application/json":
            return error(415, "Content-Type must be application/json")
        try:
            body = await request.json()
        except ValueError:
            return error(400, "Malformed JSON")
        if not isinstance(body, dict):
            return error(422, "ERROR :: / :: expected an object")
        missing, unknown = BODY_KEYS - set(body), set(body) - BODY_KEYS - OPTIONAL_KEYS
        if missing or unknown:
            field = sorted(unknown or missing)[0]
            why = "unrecognized field found but not allowed" if unknown else "field is required but not found"
            return error(422, f"ERROR :: /{field} :: {why}", code="UNPROCESSABLE_ENTITY")
        distribution = body["distribution"]
        if not isinstance(distribution, dict) or distribution.get("feedDistribution") not in ("MAIN_FEED", "NONE"):
            return error(422, "ERROR :: /distribution/feedDistribution :: invalid value", code="UNPROCESSABLE_ENTITY")
        if body["visibility"] not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN") or body["lifecycleState"] != "PUBLISHED":
            return error(422, "ERROR :: /visibility :: invalid value", code="UNPROCESSABLE_ENTITY")
        if body["author"] != account:
            return error(403, f"Not enough permissions to post as {body['author']}", 100, code="ACCESS_DENIED")
        commentary = body["commentary"]
        if not isinstance(commentary, str) or len(commentary) > MAX_CHARS:
            return error(422, "ERROR :: /commentary :: length must be at most 3000", code="UNPROCESSABLE_ENTITY")
        shown, stored = little_text(commentary)
        if self.detect_duplicates:
            dup = next((p for p in self.posts if p["account"] == account and p["commentary"] == stored), None)
            if dup is not None:
                return error(422, f"Content is a duplicate of {dup['id']}", code="UNPROCESSABLE_ENTITY",
                             errorDetailType="com.linkedin.common.error.BadRequest",
                             errorDetails={"inputErrors": [{"code": "DUPLICATE_POST", "description": "Duplicate post",
                                                            "input": {"inputPath": {"fieldPath": "commentary"}}}]})
        if not self.daily.spend(account):
            return error(429, "Resource level throttle DAY limit for calls to this resource is reached.", 101)

        async def write() -> web.Response:
            self._next += 1
            urn = f"urn:li:share:{self._next}"
            self.posts.append({"id": urn, "account": account, "commentary": stored, "text": shown, "sent": commentary,
                               "created_at": self.clock(), "likes": 0, "comments": 0})
            return web.Response(status=201, headers={"x-restli-id": urn, "x-linkedin-id": urn})

        return await self.faulty_write(request, write)

    async def find(self, request: web.Request) -> web.Response:
        if (refused := self._version(request)) is not None:
            return refused
        account, refused = self._auth(request)
        if refused is not None:
            return refused
        if request.query.get("q") != "author" or not request.query.get("author"):
            return error(400, "q=author and author are required")
        count = min(int(request.query.get("count", "10")), 100)
        start = int(request.query.get("start", "0"))
        author = request.query["author"]
        mine = [p for p in reversed(self.posts) if p["account"] == author][start:start + count]
        return web.json_response({"elements": [{"id": p["id"], "author": p["account"], "commentary": p["commentary"],
                                                "createdAt": int(p["created_at"] * 1000), "lifecycleState": "PUBLISHED"}
                                               for p in mine], "paging": {"count": count, "start": start}})

    async def social(self, request: web.Request) -> web.Response:
        account, refused = self._auth(request)
        if refused is not None:
            return refused
        found = next((p for p in self.posts if p["id"] == request.match_info["urn"]), None)
        if found is None:
            return error(404, "Not found")
        return web.json_response({"likesSummary": {"totalLikes": found["likes"]},
                                  "commentsSummary": {"totalFirstLevelComments": found["comments"]}})

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "refresh_token" or not form.get("client_id") or not form.get("client_secret"):
            return web.json_response({"error": "invalid_request", "error_description": "A required parameter is missing"}, status=400)
        grant = self.tokens.use_refresh(str(form.get("refresh_token", "")))
        if grant is None:
            return web.json_response({"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"},
                                     status=400)
        return web.json_response({**grant, "refresh_token_expires_in": 31536000, "scope": "w_member_social"})
