"""What every engine shares: the base of its input and result models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

TEXT_MAX = 40_000
"""Longest text any engine accepts (a YouTube script is at most 5,000; generous headroom)."""


class EngineModel(BaseModel):
    """Base of engine inputs and results: unknown fields refused, text kept verbatim.

    Unlike the canonical objects, strings are *not* stripped: whitespace counts towards a
    post's length and shapes its beats.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
