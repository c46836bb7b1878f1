"""Per-request context: a request id bound to every log line, one access log line, metrics, and
the last-resort 500 for exceptions no handler claimed.

A plain ASGI middleware (not ``BaseHTTPMiddleware``): the endpoint runs in this same task, so
context bound further down (``brand_id`` in the access check) is still there for the access log.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from structlog.contextvars import unbind_contextvars
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from runtime.logs import bound_context

from . import errors
from .body import PayloadTooLarge
from .metrics import ApiMetrics
from .routing import allowed_methods

log = structlog.get_logger("kairo.api")

REQUEST_ID_HEADER = "x-request-id"
REQUEST_ID_MAX = 128
# Bound further down the request (auth, brand access); unbound when the request ends.
REQUEST_SCOPED_KEYS = ("user_id", "org_id", "brand_id")


class RequestContext:
    def __init__(self, app: ASGIApp, metrics: ApiMetrics, max_body_bytes: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER)
        request_id = (incoming or uuid.uuid4().hex)[:REQUEST_ID_MAX]
        status = 500
        started = False

        async def send_with_context(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started, status = True, message["status"]
                # Behind Serve the proxy always sets the header on the request and echoes it on
                # the response; add it only when nobody upstream did, so it is never doubled.
                if incoming is None:
                    MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        began = time.perf_counter()
        with bound_context(request_id=request_id):
            try:
                await self.app(scope, limited(receive, scope, self.max_body_bytes), send_with_context)
            except Exception as exc:
                if started:
                    log.error("request.failed_after_response_started", exc_info=exc)
                    raise
                await errors.error_response(exc)(scope, receive, send_with_context)
            finally:
                elapsed = time.perf_counter() - began
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                self.metrics.observe(scope["method"], route, status, elapsed)
                log.info("request", method=scope["method"], path=scope["path"], route=route,
                         status=status, duration_ms=round(elapsed * 1000, 1))  # fmt: skip
                unbind_contextvars(*REQUEST_SCOPED_KEYS)


def limited(receive: Receive, scope: Scope, max_bytes: int) -> Receive:
    """``receive`` that refuses a body over ``max_bytes`` (:class:`PayloadTooLarge`, a 413):
    at once when ``Content-Length`` declares it, else as soon as the bytes read pass it."""
    declared = Headers(scope=scope).get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        too_large = PayloadTooLarge(max_bytes)

        async def refuse() -> Message:
            raise too_large

        return refuse
    read = 0

    async def counting() -> Message:
        nonlocal read
        message = await receive()
        if message["type"] == "http.request":
            read += len(message.get("body", b""))
            if read > max_bytes:
                raise PayloadTooLarge(max_bytes)
        return message

    return counting


class ImplicitMethods:
    """HEAD and OPTIONS on every path, which no route declares.

    ``HEAD`` is answered as the path's ``GET`` without the body (same status and headers);
    ``OPTIONS`` with 204 and an ``Allow`` header listing every method of the path. A path no
    route serves goes on to the app, whose answer is the usual 404.
    """

    def __init__(self, app: ASGIApp, api: Any) -> None:
        self.app = app
        self.api = api

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method") if scope["type"] == "http" else None
        if method == "OPTIONS":
            allowed = allowed_methods(self.api, scope)
            if allowed:
                await Response(status_code=204, headers={"Allow": ", ".join(allowed)})(scope, receive, send)
                return
        if method == "HEAD":

            async def send_headers_only(message: Message) -> None:
                if message["type"] == "http.response.body":
                    message = {**message, "body": b""}
                await send(message)

            await self.app({**scope, "method": "GET"}, receive, send_headers_only)
            return
        await self.app(scope, receive, send)
