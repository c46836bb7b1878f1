"""HTTP fetching over aiohttp for feeds and pages: conditional GET, a size cap, a timeout.

A fetch never raises for what the network or the server does: it returns a
:class:`FetchResult` whose ``outcome`` is ``ok``, ``not_modified`` (a 304 to our
``If-None-Match`` / ``If-Modified-Since``) or ``error`` with a stable ``error_code``
(``timeout``, ``connection``, ``http_status``, ``too_large``, ``too_many_redirects``,
``bad_body``, ``invalid_url``) and a readable reason, so the caller records the failure on the
feed or the run instead of crashing.

* Redirects are followed (at most ``max_redirects``); ``final_url`` is where the body came from.
* gzip and deflate are asked for and decoded by aiohttp; the cap counts *decoded* bytes while
  they stream in, so neither a huge body nor a small gzip bomb is ever held in memory whole.
* The timeout covers the whole exchange (connect, headers and body).
* ``public_only``: every connection, a redirect's included, goes to a public address (or one of
  ``allowed_networks``); a URL that resolves to a private, loopback, link-local or reserved
  address fails as ``blocked_address`` before any byte is sent. The check is made on the very
  address being connected, after DNS, so neither a redirect nor a name resolving to an internal
  address (DNS rebinding) reaches the service's network. The runtime turns it on for every URL a
  tenant gives (feeds, pages, calibration pages).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Literal

import aiohttp
from pydantic import Field

from agents.addresses import AddressGuard, BlockedAddress, parse_networks
from storage.errors import Invalid

from .models import IngestModel
from .urls import normalize_url

ErrorCode = Literal["timeout", "connection", "http_status", "too_large", "too_many_redirects", "bad_body", "invalid_url",
                    "blocked_address"]


@dataclass(frozen=True)
class FetchConfig:
    timeout_seconds: float = 15.0
    max_bytes: int = 5 * 1024 * 1024
    max_redirects: int = 5
    user_agent: str = "Kairo/1.0 (+https://github.com/kairo; feed reader)"
    chunk_bytes: int = 64 * 1024
    public_only: bool = False
    allowed_networks: tuple[str, ...] = ()  # with public_only: private networks a fetch may still reach

    def __post_init__(self) -> None:
        try:
            parse_networks(self.allowed_networks)
        except ValueError as exc:
            raise Invalid(str(exc), details={"field": "allowed_networks"}) from None


class FetchRequest(IngestModel):
    url: str = Field(max_length=2048)
    etag: str | None = Field(default=None, max_length=1024)
    last_modified: str | None = Field(default=None, max_length=200)


class FetchResult(IngestModel):
    url: str
    outcome: Literal["ok", "not_modified", "error"]
    status: int | None = None
    final_url: str | None = None
    body: bytes | None = None
    content_type: str | None = None
    charset: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    error_code: ErrorCode | None = None
    error: str | None = Field(default=None, max_length=500)
    elapsed_seconds: float = 0.0


class _TooLarge(Exception):
    pass


class Fetcher:
    """Fetches URLs with one shared aiohttp session (created on first use, closed by
    :meth:`close` or ``async with``)."""

    def __init__(self, config: FetchConfig | None = None, *, session: aiohttp.ClientSession | None = None) -> None:
        self.config = config or FetchConfig()
        self._session = session
        self._own_session = session is None

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None and self._own_session:
            await self._session.close()
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = AddressGuard(self.config.allowed_networks).connector() if self.config.public_only else None
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": self.config.user_agent, "Accept-Encoding": "gzip, deflate"}, connector=connector
            )
        return self._session

    async def fetch(self, request: FetchRequest) -> FetchResult:
        started = time.monotonic()

        def done(**fields: object) -> FetchResult:
            return FetchResult(url=request.url, elapsed_seconds=time.monotonic() - started, **fields)  # type: ignore[arg-type]

        try:
            normalize_url(request.url)
        except Invalid as exc:
            return done(outcome="error", error_code="invalid_url", error=exc.message[:500])
        headers = {}
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        cap = self.config.max_bytes
        try:
            async with asyncio.timeout(self.config.timeout_seconds):
                async with self._get_session().get(
                    request.url, headers=headers, allow_redirects=True, max_redirects=self.config.max_redirects
                ) as response:
                    meta = dict(
                        status=response.status, final_url=str(response.url),
                        etag=response.headers.get("ETag"), last_modified=response.headers.get("Last-Modified"),
                        content_type=response.content_type, charset=response.charset,
                    )  # fmt: skip
                    if response.status == 304:
                        return done(outcome="not_modified", **meta)
                    if response.status >= 400:
                        return done(outcome="error", error_code="http_status",
                                    error=f"the server answered HTTP {response.status}", **meta)  # fmt: skip
                    declared = response.headers.get("Content-Length")
                    if declared and declared.isdigit() and int(declared) > cap and not response.headers.get(
                        "Content-Encoding"
                    ):
                        return done(outcome="error", error_code="too_large",
                                    error=f"the body is {int(declared)} bytes, over the {cap}-byte cap", **meta)  # fmt: skip
                    chunks: list[bytes] = []
                    size = 0
                    async for chunk in response.content.iter_chunked(self.config.chunk_bytes):
                        size += len(chunk)
                        if size > cap:
                            raise _TooLarge
                        chunks.append(chunk)
                    return done(outcome="ok", body=b"".join(chunks), **meta)
        except _TooLarge:
            return done(outcome="error", error_code="too_large", error=f"the body exceeds the {cap}-byte cap")
        except TimeoutError:
            return done(outcome="error", error_code="timeout",
                        error=f"no complete answer within {self.config.timeout_seconds:g} s")  # fmt: skip
        except aiohttp.TooManyRedirects:
            return done(outcome="error", error_code="too_many_redirects",
                        error=f"more than {self.config.max_redirects} redirects")  # fmt: skip
        except aiohttp.ClientPayloadError as exc:
            return done(outcome="error", error_code="bad_body", error=f"the body could not be read: {exc}"[:500])
        except (aiohttp.InvalidURL, ValueError) as exc:
            return done(outcome="error", error_code="invalid_url", error=f"invalid URL: {exc}"[:500])
        except (aiohttp.ClientError, OSError) as exc:
            blocked = getattr(exc, "os_error", exc)
            if isinstance(blocked, BlockedAddress):
                return done(outcome="error", error_code="blocked_address", error=str(blocked)[:500])
            return done(outcome="error", error_code="connection", error=f"{type(exc).__name__}: {exc}"[:500])
