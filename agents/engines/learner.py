"""Learner: edit distance between a draft and its edit; the zero-edit rate."""

from __future__ import annotations

import unicodedata
from typing import ClassVar

from pydantic import Field, model_validator
from rapidfuzz.distance import Levenshtein


from .base import TEXT_MAX, EngineModel



class EditInput(EngineModel):
    original: str = Field(max_length=TEXT_MAX)
    edited: str = Field(max_length=TEXT_MAX)


class EditResult(EngineModel):
    distance: float = Field(ge=0.0, le=1.0, description="0 = unchanged, 1 = entirely rewritten")


class ZeroEditInput(EngineModel):
    total: int = Field(ge=0, description="variants a human reviewed and approved")
    zero_edit: int = Field(ge=0, description="of those, approved without any edit")

    @model_validator(mode="after")
    def _within_total(self) -> ZeroEditInput:
        if self.zero_edit > self.total:
            raise ValueError("zero_edit cannot exceed total")
        return self


class ZeroEditResult(EngineModel):
    rate: float | None = Field(ge=0.0, le=1.0, description="zero_edit / total; None when total is 0")


class Learner:
    """Learns from feedback. Today: the two numbers edits are measured by.

    Edit distance is the Levenshtein distance between the NFC-normalised texts (code points)
    divided by the longer text's length (rapidfuzz), so 0 means untouched and 1 entirely
    rewritten; two empty texts are at distance 0. NFC first, so a composed and a decomposed
    accent are not an edit.
    """

    OPS: ClassVar[dict[str, type[EngineModel]]] = {"edit_distance": EditInput, "zero_edit_rate": ZeroEditInput}

    async def edit_distance(self, payload: EditInput) -> EditResult:
        a = unicodedata.normalize("NFC", payload.original)
        b = unicodedata.normalize("NFC", payload.edited)
        return EditResult(distance=float(Levenshtein.normalized_distance(a, b)))

    async def zero_edit_rate(self, payload: ZeroEditInput) -> ZeroEditResult:
        return ZeroEditResult(rate=None if payload.total == 0 else payload.zero_edit / payload.total)
