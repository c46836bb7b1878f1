"""In-process implementations of the gateway protocols, for tools and tests without Ray.

``LocalAgentGateway`` hosts BrandAgents in the calling process with the same activation and
one-command-at-a-time rules as a BrandHost; ``LocalEngines`` runs the engines in process.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from storage.errors import Invalid
from storage.memory import TextEmbedder
from storage.memory.store import MemoryDraft, MemoryHit, MemoryStore
from storage.objects import BrandMemoryFragment
from storage.postgres import Database

from .brand_agent import BrandAgent, EngineCaller


class LocalEngines:
    """The four engines in this process, built on first use."""

    def __init__(self, embedder: TextEmbedder) -> None:
        self.embedder = embedder
        self._engines: dict[str, Any] = {}

    def _engine(self, kind: str) -> Any:
        from agents import engines

        if kind not in self._engines:
            factories = {
                "scout": lambda: engines.OpportunityScout(self.embedder),
                "miner": engines.PatternMiner,
                "writer": lambda: engines.ContentWriter(self.embedder),
                "learner": engines.Learner,
            }
            if kind not in factories:
                raise Invalid(f"unknown engine {kind!r}", details={"field": "kind"})
            self._engines[kind] = factories[kind]()
        return self._engines[kind]

    async def call(self, kind: str, op: str, payload: Any) -> Any:
        from agents.engines import dispatch

        return await dispatch(self._engine(kind), op, payload)


class LocalAgentGateway:
    def __init__(self, db: Database, engines: EngineCaller, host: str = "local", *, fetch: Any = None) -> None:
        self.db = db
        self.fetch = fetch
        self.engines = engines
        self.host = host
        self.agents: dict[UUID, BrandAgent] = {}
        self._activating: dict[UUID, asyncio.Task[BrandAgent]] = {}

    async def _agent(self, brand_id: UUID) -> BrandAgent:
        if brand_id in self.agents:
            return self.agents[brand_id]
        task = self._activating.get(brand_id)
        if task is None:
            task = asyncio.ensure_future(self._activate(brand_id))
            self._activating[brand_id] = task
        try:
            return await asyncio.shield(task)
        finally:
            if task.done():
                self._activating.pop(brand_id, None)

    async def _activate(self, brand_id: UUID) -> BrandAgent:
        agent = BrandAgent(brand_id, self.db, self.engines, self.host, fetch=self.fetch)
        await agent.load()
        self.agents[brand_id] = agent
        return agent

    async def send(self, brand_id: UUID, command: Any) -> Any:
        return await (await self._agent(brand_id)).handle(command)


class LocalMemory:
    """The MemoryClient protocol over a MemoryStore in this process."""

    def __init__(self, store: MemoryStore) -> None:
        self.store = store

    async def add(self, drafts: list[MemoryDraft]) -> list[BrandMemoryFragment]:
        return await self.store.add(drafts)

    async def search(self, brand_id: UUID, text: str, k: int) -> list[MemoryHit]:
        return await self.store.search(brand_id, text, k)
