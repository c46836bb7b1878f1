"""The API app, its Ray Serve ingress deployment, and the builder ``serve run`` calls.

``create_app`` builds a FastAPI app from injected factories (the database, the agent gateway,
the memory client), so tests and tools can give it in-process implementations. ``KairoApi`` is
the Serve deployment that hosts it: a replica builds its app at start and its connections on
first use. ``build_app`` is the typed builder named in ``serve_config.yaml``.
"""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from ray import serve
from ray.serve import Application

from runtime.database import open_database as runtime_database
from runtime.gateway import AgentGateway, MemoryClient
from runtime.logs import configure_logging
from runtime.settings import Settings
from storage.postgres import Database

from . import errors, openapi
from .metrics import ApiMetrics
from .middleware import ImplicitMethods, RequestContext
from .routes import ROUTERS
from .routing import operation_id
from .services import DbFactory, EngineCaller, EnginesFactory, GatewayFactory, MemoryFactory, Services

API_POOL_MAX = 4
DESCRIPTION = """Autonomous content-marketing agents, one per brand.

Authenticate with `Authorization: Bearer kairo_<lookup>_<secret>`. Every error is
`{"error": {"code", "message", "details"}}`; an object you cannot reach is a 404."""


def create_app(
    db_factory: DbFactory, gateway_factory: GatewayFactory, memory_factory: MemoryFactory, settings: Settings,
    engines_factory: EnginesFactory | None = None,
) -> FastAPI:
    """The FastAPI app. Nothing is connected until a request needs it; the engine pools are
    reached through ``engines_factory`` (default: the Ray-hosted pools of ``settings``)."""
    app = FastAPI(title="Kairo", version="1", description=DESCRIPTION, docs_url="/docs",
                  openapi_url="/openapi.json", redoc_url=None, generate_unique_id_function=operation_id)  # fmt: skip
    app.state.settings = settings
    app.state.services = Services(db_factory, gateway_factory, memory_factory,
                                  engines_factory or partial(ray_engines, settings))  # fmt: skip
    app.state.metrics = ApiMetrics()
    errors.install(app)
    openapi.install(app)
    app.add_middleware(ImplicitMethods, api=app)
    app.add_middleware(RequestContext, metrics=app.state.metrics, max_body_bytes=settings.api_max_body_bytes)
    for router in ROUTERS:
        app.include_router(router)
    return app


@serve.deployment(name="KairoApi", ray_actor_options={"num_cpus": 0})
class KairoApi:
    """The Serve deployment. Each replica has its own app, small DB pool and clients.

    It is a plain deployment that runs the FastAPI app on each request itself rather than a
    ``@serve.ingress`` one: measured here (benchmarks/README.md), Serve 2.60's ASGI ingress path
    halves the throughput of a trivial endpoint, while a plain deployment dispatching to the same
    app keeps ~80–100% of it. The API's responses are small JSON documents, so buffering each
    response whole costs nothing. Requests without a body bypass Serve's receive channel
    (``asgi_response``).
    """

    def __init__(
        self, db_factory: DbFactory, gateway_factory: GatewayFactory, memory_factory: MemoryFactory, settings: Settings
    ) -> None:
        configure_logging(settings.log_level, settings.log_format)
        self._app = create_app(db_factory, gateway_factory, memory_factory, settings)

    async def __call__(self, request: Request) -> Response:
        return await asgi_response(self._app, request)

    async def __del__(self) -> None:
        await self._app.state.services.close()


# Methods whose requests Kairo's API never reads a body from.
_BODILESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS"})
_SERVE_DISCONNECT_WATCH = "ASGIReceiveProxy.fetch_until_disconnect"


async def asgi_response(app: FastAPI, request: Request) -> Response:
    """Run the ASGI ``app`` on a Serve request and return its (buffered) response.

    A request without a body is answered without Serve's receive channel: Serve starts, for
    every HTTP request, a task that fetches the request's ASGI messages from the proxy by actor
    calls until the client disconnects. The app never reads a body-less request, and the API
    does not cancel work on client disconnect (its writes are transactions that complete or
    roll back), so for those requests the task is stopped before it makes a call — measured
    here, those calls were ~40 % of the CPU a ``GET`` costs the proxy and replica together
    (benchmarks/README.md). Requests with a body keep Serve's channel.
    """
    start: dict[str, Any] = {}
    body: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body":
            body.append(message.get("body", b""))

    scope = request.scope
    receive = request.receive
    if scope["method"] in _BODILESS_METHODS and not _declares_body(scope) and _stop_disconnect_watch(receive):
        receive = _empty_body()
    await app(scope, receive, send)
    response = Response(content=b"".join(body), status_code=start.get("status", 500))
    headers = start.get("headers", [])
    if scope["method"] != "HEAD":  # a HEAD answer keeps the GET's length with no body
        headers = [(n, v) for n, v in headers if n.lower() != b"content-length"]
        headers.append((b"content-length", str(len(response.body)).encode()))
    response.raw_headers = headers
    return response


def _declares_body(scope: dict[str, Any]) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


def _stop_disconnect_watch(receive: Any) -> bool:
    """Cancel Serve's not-yet-started task that watches ``receive`` for a disconnect; False if
    there is none (not behind Serve, or a Serve version that works differently)."""
    for task in asyncio.all_tasks():
        coro = task.get_coro()
        if getattr(coro, "__qualname__", None) != _SERVE_DISCONNECT_WATCH or coro.cr_frame is None:
            continue
        if coro.cr_frame.f_locals.get("self") is receive and not task.done():
            task.cancel()
            return True
    return False


def _empty_body() -> Any:
    """An ASGI ``receive`` for a request without a body: the empty body, then (only if the app
    asks again, after its response) a disconnect."""
    delivered = False

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.disconnect"}

    return receive


def api_application(
    settings: Settings,
    db_factory: DbFactory | None = None,
    gateway_factory: GatewayFactory | None = None,
    memory_factory: MemoryFactory | None = None,
) -> Application:
    """The bound deployment, with the Ray-hosted defaults for any factory not given."""
    return KairoApi.options(max_ongoing_requests=settings.api_max_ongoing_requests).bind(
        db_factory or partial(open_database, settings),
        gateway_factory or partial(ray_gateway, settings),
        memory_factory or partial(ray_memory, settings),
        settings,
    )


class ApiArgs(BaseModel):
    """The ``args`` of the API application in ``serve_config.yaml``."""

    model_config = ConfigDict(extra="forbid")

    settings: dict[str, Any] = Field(
        default_factory=dict, description="overrides of Kairo settings by field name (KAIRO_* without the prefix)"
    )
    start_runtime: bool = Field(
        default=True,
        description="make sure storage, brand hosts, engines, memory, publisher and scheduler run (idempotent)",
    )

    @field_validator("settings")
    @classmethod
    def _known_and_valid(cls, overrides: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(overrides) - set(Settings.model_fields))
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(unknown)}")
        Settings(**overrides)  # raises on a bad value, naming the field
        return overrides

    def to_settings(self) -> Settings:
        return Settings(**self.settings)


def build_app(args: dict[str, Any]) -> Application:
    """Serve's application builder: ``import_path: runtime.api.app:build_app``."""
    parsed = args if isinstance(args, ApiArgs) else ApiArgs.model_validate(args or {})
    settings = parsed.to_settings()
    if parsed.start_runtime:
        from runtime.stack import ensure_runtime

        settings = ensure_runtime(settings)
    return api_application(settings)


# -- the Ray-hosted defaults (module level, so Serve pickles them by reference) ---------------


async def open_database(settings: Settings) -> Database:
    """A small pool on the already-migrated database (the process that starts Kairo migrates)."""
    handle = await runtime_database(settings, pool_max=API_POOL_MAX)
    return handle.db


def ray_gateway(settings: Settings, db: Database) -> AgentGateway:
    from runtime.hosts import RayAgentGateway

    return RayAgentGateway(settings)


def ray_engines(settings: Settings) -> EngineCaller:
    from runtime.engines import EngineRouter

    return EngineRouter(settings)


def ray_memory(settings: Settings, db: Database) -> MemoryClient:
    from runtime.memory_service import get_memory_client

    return get_memory_client(settings)


__all__ = ["ApiArgs", "KairoApi", "api_application", "build_app", "create_app"]
