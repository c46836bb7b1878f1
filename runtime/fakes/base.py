"""What every fake platform shares: an aiohttp server on loopback, tokens that expire with
single-use rotating refresh tokens, a rate window, the posts it accepted, and a fault plan.

Fault modes (applied to create requests, switchable per request):

* ``delay``: the write is processed, the answer is held back past the client's timeout;
* ``error_5xx``: 503, nothing written;
* ``drop``: the write is processed, then the connection is closed without an answer;
* ``reset``: the connection is closed before anything is written.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

FAULT_MODES = ("ok", "delay", "error_5xx", "drop", "reset")
"""``ok`` lets one create through untouched (to fault the one after it)."""


@dataclass
class FaultPlan:
    """Which create requests fail and how: queued one-shot faults first, then random ones."""

    delay_seconds: float = 2.0
    queued: deque[str] = field(default_factory=deque)
    rates: dict[str, float] = field(default_factory=dict)
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    applied: dict[str, int] = field(default_factory=dict)

    def push(self, mode: str, count: int = 1) -> None:
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; one of {FAULT_MODES}")
        self.queued.extend([mode] * count)

    def randomly(self, rates: dict[str, float], seed: int = 0) -> None:
        unknown = set(rates) - set(FAULT_MODES)
        if unknown:
            raise ValueError(f"unknown fault modes {sorted(unknown)}")
        self.rates, self.rng = dict(rates), random.Random(seed)

    def clear(self) -> None:
        self.queued.clear()
        self.rates = {}

    def take(self) -> str | None:
        mode = self.queued.popleft() if self.queued else None
        if mode is None and self.rates:
            roll = self.rng.random()
            for name, rate in self.rates.items():
                if roll < rate:
                    mode = name
                    break
                roll -= rate
        if mode:
            self.applied[mode] = self.applied.get(mode, 0) + 1
        return mode


@dataclass
class TokenStore:
    """Access tokens expire after ``access_ttl``; a refresh token works once and is replaced."""

    access_ttl: float = 7200.0
    clock: Callable[[], float] = time.time
    access: dict[str, tuple[str, float]] = field(default_factory=dict)
    refresh: dict[str, str] = field(default_factory=dict)
    rotate_refresh: bool = True

    def issue(self, account: str) -> dict[str, Any]:
        token, refresh_token = "at-" + secrets.token_urlsafe(16), "rt-" + secrets.token_urlsafe(16)
        self.access[token] = (account, self.clock() + self.access_ttl)
        self.refresh[refresh_token] = account
        return {"access_token": token, "refresh_token": refresh_token, "expires_in": int(self.access_ttl)}

    def check(self, token: str | None) -> tuple[str | None, str]:
        """(account, "ok") for a live token; (None, "expired" | "invalid") otherwise."""
        found = self.access.get(token or "")
        if found is None:
            return None, "invalid"
        if found[1] <= self.clock():
            return None, "expired"
        return found[0], "ok"

    def use_refresh(self, refresh_token: str) -> dict[str, Any] | None:
        account = self.refresh.get(refresh_token)
        if account is None:
            return None
        if not self.rotate_refresh:
            token = "at-" + secrets.token_urlsafe(16)
            self.access[token] = (account, self.clock() + self.access_ttl)
            return {"access_token": token, "refresh_token": refresh_token, "expires_in": int(self.access_ttl)}
        del self.refresh[refresh_token]  # single use
        return self.issue(account)

    def expire_all(self) -> None:
        self.access = {t: (a, 0.0) for t, (a, _) in self.access.items()}


@dataclass
class RateWindow:
    """A fixed window of ``limit`` units per ``seconds`` per account."""

    limit: int
    seconds: float
    clock: Callable[[], float] = time.time
    used: dict[str, tuple[float, int]] = field(default_factory=dict)

    def state(self, account: str) -> tuple[int, float]:
        start, count = self.used.get(account, (self.clock(), 0))
        if self.clock() >= start + self.seconds:
            start, count = self.clock(), 0
            self.used[account] = (start, count)
        return self.limit - count, start + self.seconds

    def spend(self, account: str, cost: int = 1) -> bool:
        remaining, _ = self.state(account)
        if remaining < cost:
            return False
        start, count = self.used.get(account, (self.clock(), 0))
        self.used[account] = (start, count + cost)
        return True


class FakePlatform:
    """Base of the fakes: start/stop on 127.0.0.1, control routes under ``/_fake``."""

    name = "fake"

    def __init__(self, *, access_ttl: float = 7200.0, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.tokens = TokenStore(access_ttl=access_ttl, clock=clock)
        self.faults = FaultPlan()
        self.posts: list[dict[str, Any]] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) of every API request
        self.app = web.Application(middlewares=[self._record])
        self.app.add_routes(self.routes())
        self.app.add_routes([
            web.post("/_fake/faults", self._control_faults),
            web.get("/_fake/posts", self._control_posts),
            web.post("/_fake/tokens", self._control_tokens),
            web.post("/_fake/expire-tokens", self._control_expire),
        ])  # fmt: skip
        self._runner: web.AppRunner | None = None
        self.url = ""

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    @web.middleware
    async def _record(self, request: web.Request, handler):
        if not request.path.startswith("/_fake/"):
            self.requests.append((request.method, request.path))
        return await handler(request)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sock = site._server.sockets[0]  # noqa: SLF001 - the bound port when 0 was asked for
        self.url = f"http://{host}:{sock.getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def connect(self, account: str) -> dict[str, Any]:
        """What an OAuth connect flow would hand over: a fresh token pair for ``account``."""
        return self.tokens.issue(account)

    def bearer(self, request: web.Request) -> tuple[str | None, str]:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ") if header.startswith("Bearer ") else None
        return self.tokens.check(token)

    async def faulty_write(self, request: web.Request, write: Callable[[], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
        """Run a create under the fault plan."""
        mode = self.faults.take()
        if mode == "error_5xx":
            return web.json_response(self.server_error_body(), status=503)
        if mode == "reset":
            self._drop(request)
            return web.Response(status=500)
        response = await write()
        if mode == "delay":
            await asyncio.sleep(self.faults.delay_seconds)
        elif mode == "drop":
            self._drop(request)
        return response

    def server_error_body(self) -> dict[str, Any]:
        return {"error": "Service Unavailable"}

    @staticmethod
    def _drop(request: web.Request) -> None:
        transport = request.transport
        if transport is not None:
            transport.abort()

    # -- control ------------------------------------------------------------------------------

    async def _control_faults(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "rates" in body:
            self.faults.randomly(body["rates"], int(body.get("seed", 0)))
        elif body.get("mode") == "clear":
            self.faults.clear()
        else:
            self.faults.push(body["mode"], int(body.get("count", 1)))
        if "delay_seconds" in body:
            self.faults.delay_seconds = float(body["delay_seconds"])
        return web.json_response({"queued": list(self.faults.queued), "rates": self.faults.rates})

    async def _control_posts(self, request: web.Request) -> web.Response:
        return web.json_response({"posts": self.posts})

    async def _control_tokens(self, request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response(self.connect(str(body["account"])))

    async def _control_expire(self, request: web.Request) -> web.Response:
        self.tokens.expire_all()
        return web.json_response({"expired": len(self.tokens.access)})


__all__ = ["FAULT_MODES", "FakePlatform", "FaultPlan", "RateWindow", "TokenStore"]
