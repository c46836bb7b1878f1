"""Input and result models of the calibration engine (one input model, one result model)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from storage.memory.store import MemoryDraft
from storage.objects import BannedWord, BrandBrainSnapshot, BrandRuntimeContext, VoiceMarker
from storage.objects.base import new_id, utcnow

MAX_EXAMPLES = 500
"""More examples add little to the estimates and a lot to the memory writes: import in batches."""
MIN_EXAMPLES = 3
"""A voice marker must recur in at least three examples, so fewer cannot calibrate anything."""
MAX_EXAMPLE_CHARS = 20_000
"""A long article is fine; a whole book pasted as one example is a mistake."""



class EngineModel(BaseModel):
    """Base of the calibration models, as of every engine's (``agents.engines.base``): unknown
    fields refused, frozen, text kept verbatim. Declared here, not imported, because the engines
    package hosts this engine (``agents.engines.scout``) and imports these models."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ImportFormat = Literal["paste", "json", "jsonl", "csv", "url"]
CalibrationTrigger = Literal["manual", "drift_alert", "zero_edit_drop"]


class Example(EngineModel):
    """One example post as imported: its text and where it came from (row numbers are
    1-based: the CSV data row, the JSON array index + 1, the paste's block)."""

    text: str = Field(min_length=1, max_length=MAX_EXAMPLE_CHARS)
    source: ImportFormat
    row: int = Field(ge=1)
    url: str | None = None


class ToneProfile(EngineModel):
    """What the features say: scores per tone dimension (0–100, 50 = like the background
    corpus), the descriptors they earn, the runtime knobs, and the evidence behind them."""

    scores: dict[str, float]
    descriptors: list[str]
    knobs: dict[str, float]
    feature_means: dict[str, float]
    feature_z: dict[str, float]


class MarkerEvidence(EngineModel):
    phrase: str
    z: float
    document_frequency: int
    background_count: int


class DnaState(EngineModel):
    """The calibrated parts of a brand's DNA at one moment: an event's before or after."""

    snapshot_version: int
    tone_profile: dict[str, float]
    tone_descriptors: list[str]
    voice_markers: list[str]
    banned_words: dict[str, str]  # word -> severity
    tone_bias: dict[str, dict[str, float]]  # channel -> knobs


class CalibrationEvent(EngineModel):
    """Seed 004 ``calibration_events``: why, from what, and the values before and after."""

    id: UUID = Field(default_factory=new_id)
    trigger_type: CalibrationTrigger
    input_type: Literal["text"] = "text"
    example_count: int
    sources: list[ImportFormat]
    before: DnaState
    after: DnaState
    warnings: list[str] = []
    created_at: datetime = Field(default_factory=utcnow)


class CalibrationInput(EngineModel):
    """The brand as it stands (snapshot and runtime context) plus the examples to learn from
    and any explicit banned words (``severity`` hard or soft on each)."""

    snapshot: BrandBrainSnapshot
    runtime_context: BrandRuntimeContext | None = None
    examples: list[Example] = Field(min_length=1, max_length=MAX_EXAMPLES)
    banned_words: list[BannedWord] = []
    trigger: CalibrationTrigger = "manual"


class CalibrationResult(EngineModel):
    """Drafts to persist together: the next snapshot, the re-pointed runtime context (when one
    was given), one memory draft per example chunk, and the event."""

    snapshot: BrandBrainSnapshot
    runtime_context: BrandRuntimeContext | None
    memory_drafts: list[MemoryDraft]
    tone: ToneProfile
    markers: list[MarkerEvidence]
    event: CalibrationEvent
