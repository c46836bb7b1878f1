"""Engine pools on Ray: one generic actor class hosting one engine, and a router over the pools.

Engines are stateless (``agents.engines``), so any pool member serves any brand and every call
is idempotent: the router retries freely. Each pool member is a named, detached actor
(``names.engine(kind, i)``) that restarts forever; its engine, and for the scout the ~800 MiB
MiniLM model, is built once per actor process on the first call, never per call. Calls run in
the actor's event loop; the model runs in a worker thread (``aembed``) so a long embedding does
not stop the actor from accepting other calls.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from functools import partial
from typing import Any

import ray
import structlog
from pydantic import BaseModel
from ray.actor import ActorHandle
from ray.exceptions import ActorUnavailableError, ActorUnschedulableError, RayActorError

from agents.engines import ENGINE_KINDS, ContentWriter, Engine, Learner, OpportunityScout, PatternMiner, dispatch

from . import names
from .logs import configure_logging
from .placement import SPREAD, SPREAD_MEMORY_BYTES
from .settings import Settings

log = structlog.get_logger(__name__)

KINDS = tuple(ENGINE_KINDS)  # ("scout", "miner", "writer", "learner")
# A call failed because of its member, not of the engine: dead, restarting, or unschedulable.
# (RayActorError covers ActorDiedError and ActorUnavailableError.)
MEMBER_LOST = (RayActorError, ActorUnschedulableError)


def pool_sizes(settings: Settings) -> dict[str, int]:
    return {"scout": settings.scout_pool, "miner": settings.miner_pool, "writer": settings.writer_pool, "learner": 1}


def _check_kind(kind: str) -> None:
    if kind not in ENGINE_KINDS:
        from storage.errors import Invalid

        raise Invalid(f"unknown engine kind {kind!r} (known: {', '.join(KINDS)})", details={"field": "kind"})


def build_engine(kind: str, settings: Settings) -> Engine:
    """The engine of ``kind`` with its heavy client. Only the scout and writer touch the model
    package (importing it pulls in torch and chromadb), so miner and learner actors stay small."""
    _check_kind(kind)
    if kind in ("scout", "writer"):
        from storage.memory import Embedder

        embedder = Embedder(num_threads=settings.embedding_threads)
        return OpportunityScout(embedder) if kind == "scout" else content_writer(settings, embedder)
    return pattern_miner(settings, hooks=True) if kind == "miner" else Learner()


def content_writer(settings: Settings, embedder: Any = None) -> ContentWriter:
    """The writer with the generator ``KAIRO_WRITER_GENERATOR`` names (composer, openai, local)
    and its ``KAIRO_LLM_*`` settings, and the gates' taboo judge if ``KAIRO_GATES_JUDGE=llm``
    (the same API, its own timeout)."""
    from agents.writer import make_generator

    key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
    generator = make_generator(settings.writer_generator, base_url=settings.llm_base_url, model=settings.llm_model,
                               api_key=key, timeout_seconds=settings.llm_timeout_seconds,
                               max_retries=settings.llm_max_retries, backoff_seconds=settings.llm_backoff_seconds)  # fmt: skip
    judge = None
    if settings.gates_judge == "llm":
        from agents.chat import ChatClient
        from agents.gates.judge import ChatTabooJudge

        judge = ChatTabooJudge(ChatClient(settings.llm_base_url, settings.llm_model, key,
                                          timeout_seconds=settings.gates_judge_timeout_seconds,
                                          max_retries=settings.llm_max_retries,
                                          backoff_seconds=settings.llm_backoff_seconds))  # fmt: skip
    return ContentWriter(embedder, generator, judge)


def pattern_miner(settings: Settings, *, hooks: bool = False) -> PatternMiner:
    """The miner with its thresholds from settings (the pool, the CLI and tests build it alike).
    ``hooks``: with the hook library (MiniLM + Chroma, opened on the first hook operation); only
    the miner pool has it, so one process opens the library's embedded Chroma."""
    from agents.miner.lifecycle import StatusThresholds

    return PatternMiner(
        distance_threshold=settings.miner_distance_threshold, min_evidence=settings.miner_min_evidence,
        max_import_bytes=settings.miner_max_import_bytes,
        hook_library=partial(_open_hook_library, settings) if hooks else None,
        status_thresholds=StatusThresholds(
            active_min_uses=settings.pattern_active_min_uses, active_min_ratio=settings.pattern_active_min_ratio,
            deprecate_min_uses=settings.pattern_deprecate_min_uses, deprecate_window=settings.pattern_deprecate_window,
            deprecate_ratio=settings.pattern_deprecate_ratio,
        ),
    )  # fmt: skip


async def _open_hook_library(settings: Settings) -> Any:
    """The miner pool's hook library: a Chroma server by URL, or embedded Chroma in a directory
    of its own (``data_dir/hooks``, never the memory service's). Embedded Chroma is safe in one
    process only, so more than one miner needs the server."""
    from agents.miner.hooks import open_hook_library
    from storage.errors import UpstreamFailure

    if settings.chroma_url:
        return await open_hook_library(url=settings.chroma_url, num_threads=settings.embedding_threads)
    if settings.miner_pool > 1:
        raise UpstreamFailure("the hook library's embedded Chroma serves one miner; with KAIRO_MINER_POOL > 1 "
                              "set KAIRO_CHROMA_URL", details={"field": "miner_pool"})
    return await open_hook_library(path=settings.data_dir / "hooks", num_threads=settings.embedding_threads)


@ray.remote(num_cpus=0, max_restarts=-1, max_task_retries=0)
class EngineActor:
    """Hosts one engine. I/O- and thread-bound, so it reserves no CPU (``num_cpus=0``)."""

    def __init__(self, kind: str, settings: Settings) -> None:
        configure_logging(settings.log_level, settings.log_format)  # JSON lines in this actor too
        _check_kind(kind)
        self.kind = kind
        self.settings = settings
        self._engine: Engine | None = None
        self._lock = asyncio.Lock()
        self._started_at = time.time()
        self._calls = 0

    async def _get_engine(self) -> Engine:
        if self._engine is None:
            async with self._lock:
                if self._engine is None:
                    engine = build_engine(self.kind, self.settings)
                    if isinstance(engine, OpportunityScout):
                        # The scout embeds on every call: load the model now, off the event loop.
                        await asyncio.to_thread(engine.embedder.load)  # type: ignore[attr-defined]
                    self._engine = engine
                    log.info("engine.loaded", kind=self.kind, pid=os.getpid())
        return self._engine

    async def call(self, op: str, payload: BaseModel | dict[str, Any]) -> BaseModel:
        """Run ``op`` with ``payload``; an unknown op or a malformed payload is ``Invalid``."""
        engine = await self._get_engine()
        self._calls += 1
        return await dispatch(engine, op, payload)

    async def describe(self) -> dict[str, Any]:
        embedder = getattr(self._engine, "embedder", None)
        return {
            "kind": self.kind,
            "pid": os.getpid(),
            "loaded": self._engine is not None,
            "model_loaded": bool(getattr(embedder, "loaded", False)),
            "ops": sorted(ENGINE_KINDS[self.kind].OPS),
            "calls": self._calls,
            "started_at": self._started_at,
        }


def _create(kind: str, index: int, settings: Settings) -> ActorHandle:
    """The named pool member, created if absent (any number of callers may race: one wins),
    spread over the nodes (``placement.SPREAD``, with the reservation that makes Ray honour it;
    Ray restarts it on any live node)."""
    return EngineActor.options(
        name=names.engine(kind, index),
        namespace=settings.ray_namespace,
        lifetime="detached",
        get_if_exists=True,
        scheduling_strategy=SPREAD,
        memory=SPREAD_MEMORY_BYTES,
    ).remote(kind, settings)


def start_engine_pools(settings: Settings) -> dict[str, list[ActorHandle]]:
    """Create (or find) every pool member. Actors build their engine on their first call."""
    return {kind: [_create(kind, i, settings) for i in range(size)] for kind, size in pool_sizes(settings).items()}


def stop_engine_pools(settings: Settings) -> int:
    """Kill every pool member for good; returns how many were found."""
    killed = 0
    for kind, size in pool_sizes(settings).items():
        for i in range(size):
            try:
                handle = ray.get_actor(names.engine(kind, i), namespace=settings.ray_namespace)
            except ValueError:
                continue
            ray.kill(handle, no_restart=True)
            killed += 1
    return killed


class EngineRouter:
    """How brand agents call engines: ``await router.call("writer", "check_length", payload)``.

    Picks pool members round-robin. Handles are resolved by name once and cached. When a call
    fails because its member is gone or cannot answer — dead for good (``ActorDiedError``),
    pinned to a node that is gone (``ActorUnschedulableError``), restarting after its process or
    its node died (``ActorUnavailableError`` and other ``RayActorError``) — the router looks the
    pool up again: the failed member's handle is dropped, and the call is retried once on the
    next member of the pool, resolved afresh by name (and re-created if it is dead for good). A
    pool of one retries on the same member re-resolved. If that member is itself restarting,
    the call waits for it with short backoff. All of this is safe because engine operations
    are idempotent. Errors raised by the engine itself (``Invalid``...) pass through unchanged.
    """

    def __init__(self, settings: Settings, *, unavailable_retries: int = 5, backoff_seconds: float = 0.1) -> None:
        self.settings = settings
        self.sizes = pool_sizes(settings)
        self.unavailable_retries = unavailable_retries
        self.backoff_seconds = backoff_seconds
        self._handles: dict[tuple[str, int], ActorHandle] = {}
        self._next = {kind: itertools.count() for kind in self.sizes}
        self.stats = {"calls": 0, "re_resolved": 0, "unavailable_retries": 0}

    def _resolve(self, kind: str, index: int, *, refresh: bool = False) -> ActorHandle:
        key = (kind, index)
        if refresh or key not in self._handles:
            self._handles[key] = _create(kind, index, self.settings)
        return self._handles[key]

    def _re_resolve(self, kind: str, failed: int) -> int:
        """Forget the failed member and resolve the next one by name; its index."""
        self._handles.pop((kind, failed), None)
        index = (failed + 1) % self.sizes[kind]
        self._resolve(kind, index, refresh=True)
        self.stats["re_resolved"] += 1
        return index

    async def call(self, kind: str, op: str, payload: BaseModel) -> Any:
        _check_kind(kind)
        index = next(self._next[kind]) % self.sizes[kind]
        handle = self._resolve(kind, index)
        self.stats["calls"] += 1
        moved = False
        unavailable = 0
        while True:
            try:
                return await handle.call.remote(op, payload)
            except MEMBER_LOST as exc:
                if not moved:
                    moved = True
                    log.warning("engine.member_lost", kind=kind, index=index, op=op, error=type(exc).__name__)
                    index = self._re_resolve(kind, index)
                    handle = self._handles[(kind, index)]
                    continue
                if not isinstance(exc, ActorUnavailableError) or unavailable >= self.unavailable_retries:
                    raise
                await asyncio.sleep(self.backoff_seconds * 2**unavailable)
                unavailable += 1
                self.stats["unavailable_retries"] += 1
                log.info("engine.unavailable.retry", kind=kind, index=index, op=op, attempt=unavailable)


__all__ = [
    "KINDS",
    "EngineActor",
    "EngineRouter",
    "build_engine",
    "content_writer",
    "pattern_miner",
    "pool_sizes",
    "start_engine_pools",
    "stop_engine_pools",
]
