"""What a replica talks to — the database, the agent gateway, the memory client, the engine
pools — built on first use from injected factories.

CPU-heavy engine work (mining, gates, scoring) never runs in a replica: routes hand it to the
engine pools through ``engines`` (``await engines.call("miner", "mine", payload)``).

Each is built once, under one asyncio lock, the first time a request needs it: a replica starts
without waiting for PostgreSQL or the agent runtime, and a factory that fails (database down) is
simply tried again by the next request.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, TypeVar

from fastapi import Request

from runtime.gateway import AgentGateway, EngineCaller, MemoryClient
from storage.postgres import Database

T = TypeVar("T")

DbFactory = Callable[[], Awaitable[Database]]
GatewayFactory = Callable[[Database], AgentGateway | Awaitable[AgentGateway]]
MemoryFactory = Callable[[Database], MemoryClient | Awaitable[MemoryClient]]
EnginesFactory = Callable[[], EngineCaller]


class Services:
    def __init__(
        self, db_factory: DbFactory, gateway_factory: GatewayFactory, memory_factory: MemoryFactory,
        engines_factory: EnginesFactory | None = None,
    ) -> None:  # fmt: skip
        self._db_factory = db_factory
        self._gateway_factory = gateway_factory
        self._memory_factory = memory_factory
        self._engines_factory = engines_factory
        self._engines: EngineCaller | None = None
        self._lock = asyncio.Lock()
        self._db: Database | None = None
        self._gateway: AgentGateway | None = None
        self._memory: MemoryClient | None = None

    async def db(self) -> Database:
        if self._db is None:
            async with self._lock:
                if self._db is None:
                    self._db = await self._db_factory()
        return self._db

    async def gateway(self) -> AgentGateway:
        if self._gateway is None:
            db = await self.db()
            async with self._lock:
                if self._gateway is None:
                    self._gateway = await _call(self._gateway_factory, db)
        return self._gateway

    async def memory(self) -> MemoryClient:
        if self._memory is None:
            db = await self.db()
            async with self._lock:
                if self._memory is None:
                    self._memory = await _call(self._memory_factory, db)
        return self._memory

    def engines(self) -> EngineCaller:
        if self._engines is None:
            if self._engines_factory is None:
                raise RuntimeError("this app was built without engine pools")
            self._engines = self._engines_factory()
        return self._engines

    async def close(self) -> None:
        """Close whatever was built (clients first, the database last)."""
        for client in (self._gateway, self._memory):
            for name in ("aclose", "close"):
                method = getattr(client, name, None)
                if method is not None:
                    with suppress(Exception):
                        result = method()
                        if inspect.isawaitable(result):
                            await result
                    break
        if self._db is not None:
            await self._db.close()
        self._db = self._gateway = self._memory = None


async def _call(factory: Callable[[Database], Any], db: Database) -> Any:
    result = factory(db)
    return await result if inspect.isawaitable(result) else result


# -- FastAPI dependencies ---------------------------------------------------------------------


def services_of(request: Request) -> Services:
    return request.app.state.services


async def database(request: Request) -> Database:
    return await services_of(request).db()


async def gateway(request: Request) -> AgentGateway:
    return await services_of(request).gateway()


async def memory(request: Request) -> MemoryClient:
    return await services_of(request).memory()


def engines(request: Request) -> EngineCaller:
    return services_of(request).engines()
