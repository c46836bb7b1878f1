"""The four stateless engines brand agents call: scout, pattern miner, content writer, learner.

Each engine is a plain async class (no Ray: ``runtime.engines`` hosts them in actor pools). Every
operation takes one small pydantic input model and returns one result model, so calls travel
between processes as typed values and a pool member can serve any brand. Operations are pure
functions of their input (plus the engine's loaded model), hence idempotent: a caller may retry
one safely.

What each engine does today is deliberately small but real; later work extends the same classes:

* :class:`OpportunityScout` - ingestion of raw items and the opportunity scout (``agents.scout``).
* :class:`PatternMiner` - a post segmented into beats (hook, context, list, CTA).
* :class:`ContentWriter` - a text measured by its channel's real counting rule.
* :class:`Learner` - normalized edit distance between a draft and its edited version; the
  zero-edit rate over counts.

Heavy clients (the MiniLM embedder) are passed in by the host, once per process, never built
per call.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel

from storage.errors import Invalid

from .base import TEXT_MAX, EngineModel
from .learner import EditInput, EditResult, Learner, ZeroEditInput, ZeroEditResult
from .miner import Beat, PatternMiner, SegmentInput, SegmentResult, segment_beats
from .scout import OpportunityScout
from .writer import (
    CHANNEL_LIMITS,
    ContentWriter,
    LengthInput,
    LengthResult,
    grapheme_count,
    mastodon_length,
    measure,
    x_weighted_length,
)

Engine = OpportunityScout | PatternMiner | ContentWriter | Learner
ENGINE_KINDS: dict[str, type[Engine]] = {
    "scout": OpportunityScout,
    "miner": PatternMiner,
    "writer": ContentWriter,
    "learner": Learner,
}


async def dispatch(engine: Engine, op: str, payload: Any) -> EngineModel:
    """Run ``op`` on ``engine`` with ``payload`` (its input model, or a dict of its fields).

    An unknown op or a payload of the wrong shape is :class:`storage.errors.Invalid`.
    """
    input_model = engine.OPS.get(op)
    if input_model is None:
        raise Invalid(
            f"{type(engine).__name__} has no operation {op!r} (known: {', '.join(sorted(engine.OPS))})",
            details={"field": "op"},
        )
    if not isinstance(payload, input_model):
        try:
            data = payload.model_dump() if isinstance(payload, BaseModel) else payload
            payload = input_model.model_validate(data)
        except ValueError as exc:
            raise Invalid(f"invalid payload for {op}: {exc}", details={"field": "payload"}) from exc
    method: Callable[[Any], Awaitable[EngineModel]] = getattr(engine, op)
    return await method(payload)


__all__ = [
    "TEXT_MAX",
    "CHANNEL_LIMITS",
    "ENGINE_KINDS",
    "Beat",
    "ContentWriter",
    "EditInput",
    "EditResult",
    "Engine",
    "EngineModel",
    "Learner",
    "LengthInput",
    "LengthResult",
    "OpportunityScout",
    "PatternMiner",
    "SegmentInput",
    "SegmentResult",
    "ZeroEditInput",
    "ZeroEditResult",
    "dispatch",
    "grapheme_count",
    "mastodon_length",
    "measure",
    "segment_beats",
    "x_weighted_length",
]
