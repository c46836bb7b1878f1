"""Calibration: import example posts to learn the brand's voice, see the tone profile and
voice markers, and the history of calibrations with their before/after values.

The import is a JSON body holding the file's text (``format``: paste, json, jsonl, csv) or a
page's URL (``format: url``: its main text is one example); the engine's errors come back as
422s naming ``body.content`` (with the row), ``body.text_field`` or ``body.url``.
The calibration is the brand agent's ``Calibrate`` command: the engine runs in the scout pool and
the agent writes the next snapshot and re-points its runtime context
(``runtime/agent_calibration.py``); a snapshot or context changed meanwhile is a 409. The route
then remembers the examples through its memory client.
"""

from __future__ import annotations

from typing import Literal

from fastapi import Depends, Request
from pydantic import Field

from agents.brand_brain.calibration_store import SUBJECT
from agents.calibration import fetch_examples, parse_examples
from agents.calibration.importing import require_enough
from agents.calibration.models import CalibrationEvent, CalibrationTrigger, MarkerEvidence, ToneProfile
from agents.calibration.pages import page_text
from agents.ingest.fetch import Fetcher
from runtime.agent_calibration import remember
from runtime.commands import Calibrate
from runtime.gateway import AgentGateway, MemoryClient
from storage.errors import Invalid, NotFound
from storage.objects import BannedSeverity, BannedWord, BrandBrainSnapshot, BrandRuntimeContext, VoiceMarker
from storage.objects.base import HttpUrl, Label, ShortText, Text
from storage.postgres import Database
from storage.postgres import repositories as repo

from ..access import READ, STRATEGY, BrandAccess
from ..routing import kairo_router
from ..schemas import ApiModel, View
from ..services import database, gateway, memory
from .queries import Cursor, Limit, by_created, page_of, read_page

router = kairo_router("/v1/brands/{brand_id}", "calibration")

IMPORT_MAX_CHARS = 1_000_000
URL_FETCH = {"timeout_seconds": 15.0, "max_bytes": 5 * 1024 * 1024}  # with the deployment's address policy
BANNED_MAX = 200


class BannedWordIn(ApiModel):
    word: Label
    severity: BannedSeverity = BannedSeverity.HARD
    reason: ShortText | None = None


class CalibrationCreate(ApiModel):
    """Examples to learn from, as the text of a pasted block or an uploaded file."""

    format: Literal["paste", "json", "jsonl", "csv", "url"] = Field(
        description="paste: posts separated by '---' lines (else blank lines); json: a list of strings or of "
        "objects with the text field (or {\"examples\": [...]}); jsonl: one object per line; csv: a header row "
        "with the text column; url: the main text of the page at `url` is one example"
    )
    content: Text | None = Field(default=None, max_length=IMPORT_MAX_CHARS,
                                 description="the file's text (UTF-8); every format but url")  # fmt: skip
    url: HttpUrl | None = Field(default=None, description="the page to learn from (format url)")
    text_field: Label = Field(default="text", description="the JSON field or CSV column holding each post")
    banned_words: list[BannedWordIn] = Field(default=[], max_length=BANNED_MAX, description="explicit banned words")
    trigger: CalibrationTrigger = "manual"


class CalibrationEventView(CalibrationEvent, View):
    """A calibration (seed 004 ``calibration_events``) with its before/after values."""


class CalibrationCreated(View):
    calibration: CalibrationEventView
    snapshot: BrandBrainSnapshot
    runtime_context: BrandRuntimeContext
    tone: ToneProfile
    markers: list[MarkerEvidence] = Field(description="the detected voice markers with their evidence")
    memory_fragments: int = Field(description="imported_example fragments remembered")
    warnings: list[str]


class ToneView(View):
    """The brand's calibrated voice as its current snapshot and runtime context hold it."""

    snapshot_version: int
    tone_profile: dict[str, float]
    tone_descriptors: list[str]
    voice_markers: list[VoiceMarker]
    banned_words: list[BannedWord]
    tone_bias: dict[str, dict[str, float]] = Field(description="channel -> tone knobs in [0, 1]")


CALIBRATIONS = by_created("calibrations", descending=True)
CalibrationPage = page_of(CalibrationEventView, "CalibrationPage")


def _in_body(exc: Invalid) -> Invalid:
    """An engine error with its field as a path into the request body: the format, the text
    field (a CSV without that column), else the content (with the row when there is one)."""
    if exc.details.get("field") in ("format", "url"):
        path = f"body.{exc.details['field']}"
    elif "columns" in exc.details:
        path = "body.text_field"
    else:
        path = "body.content"
    return Invalid(exc.message, details={**exc.details, "field": path})


@router.post("/calibrations", response_model=CalibrationCreated, status_code=201)
async def create_calibration(
    body: CalibrationCreate,
    request: Request,
    access: BrandAccess = STRATEGY,
    agents: AgentGateway = Depends(gateway),
    store: MemoryClient = Depends(memory),
) -> CalibrationCreated:
    """Learn the brand's voice from example posts: a new snapshot (tone profile, descriptors,
    voice markers, banned words), the runtime context's tone knobs, one memory fragment per
    example, and a calibration event with the values before and after."""
    wanted, unwanted = ("url", "content") if body.format == "url" else ("content", "url")
    if getattr(body, wanted) is None or getattr(body, unwanted) is not None:
        raise Invalid(f"format {body.format} takes {wanted}, not {unwanted}", details={"field": f"body.{wanted}"})
    try:
        if body.url is not None:
            async with Fetcher(request.app.state.settings.fetch_config(**URL_FETCH)) as fetcher:
                parsed = await fetch_examples(body.url, page_text(fetcher))
        else:
            parsed = parse_examples(body.content or "", body.format, text_field=body.text_field)
        require_enough(parsed.examples)
    except Invalid as exc:
        raise _in_body(exc) from None
    banned = [BannedWord(**b.model_dump()) for b in body.banned_words]
    done = await agents.send(access.brand.id, Calibrate(
        examples=parsed.examples, banned_words=banned, trigger=body.trigger, user_id=access.principal.user.id,
    ))  # fmt: skip
    fragments = await remember(store, done)
    event = done.calibration
    return CalibrationCreated(
        calibration=CalibrationEventView.model_validate(event.model_dump()),
        snapshot=done.snapshot, runtime_context=done.runtime_context, tone=done.tone,
        markers=list(done.markers), memory_fragments=fragments,
        warnings=[*parsed.warnings, *event.warnings],
    )  # fmt: skip


@router.get("/calibrations", response_model=CalibrationPage)
async def list_calibrations(
    limit: Limit = 50, cursor: Cursor = None, access: BrandAccess = READ, db: Database = Depends(database)
) -> CalibrationPage:
    """The brand's calibrations, newest first."""
    async with db.connection() as conn:
        lines, next_cursor = await read_page(
            conn, repo.event_log, "brand_id = $1 AND subject_type = $2", access.brand.id, SUBJECT,
            order=CALIBRATIONS, cursor=cursor, limit=limit,
        )  # fmt: skip
    items = [CalibrationEventView.model_validate(line.meta["calibration"]) for line in lines]
    return CalibrationPage(items=items, next_cursor=next_cursor)


@router.get("/tone", response_model=ToneView)
async def get_tone_profile(access: BrandAccess = READ, db: Database = Depends(database)) -> ToneView:
    """Tone profile, descriptors, voice markers and banned words of the current snapshot, and
    each channel's tone knobs."""
    async with db.connection() as conn:
        snapshot = await repo.snapshots.latest(conn, access.brand.id)
        context = await repo.runtime_contexts.for_brand(conn, access.brand.id)
    if snapshot is None or context is None:
        raise NotFound("the brand has no snapshot yet", details={"brand_id": str(access.brand.id)})
    return ToneView(
        snapshot_version=snapshot.version, tone_profile=dict(snapshot.tone_profile),
        tone_descriptors=list(snapshot.tone_descriptors), voice_markers=list(snapshot.voice_markers),
        banned_words=list(snapshot.banned_words),
        tone_bias={str(c): dict(o.tone_bias) for c, o in context.channel_overrides.items()},
    )  # fmt: skip
