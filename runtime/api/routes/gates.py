"""Quality gates for any draft: lint a post against the brand's rules, and the brand's rubric.

``POST /v1/brands/{brand_id}/gates/check`` runs every gate on ``{channel, text}``: the brand's
latest snapshot gives the banned words, taboos, stances and competitors, its recent passing
variants on the channel (plus ``compare_with``, drafts not stored yet) the near-duplicate
history, its rubric the thresholds. The gates run in the content writer's pool (they need the
MiniLM model): the API replica only gathers the inputs and forwards one ``check`` call. Every
check through the API is kept as a quality report of subject ``draft`` (with the draft's text:
no variant exists to point at), so a verdict can be explained later (``GET …/quality-reports/{id}``);
``kairo check``, a shell lint of a local file, stores nothing.
"""

from __future__ import annotations

import re
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends
from pydantic import ConfigDict, Field, ValidationInfo, field_validator, model_validator

from agents.gates import (
    BrandRules,
    GateInput,
    GateReport,
    PriorVariant,
    Rubric,
    RubricOverride,
    draft_check,
)
from agents.gates.model import TEXT_MAX, Severity
from storage.objects import Brand, Channel
from storage.objects.base import PROSE_CHARS_PATTERN, ShortText
from storage.postgres import Database, quality
from storage.postgres import repositories as repo

from ..access import READ, STRATEGY, BrandAccess
from ..routing import kairo_router
from ..schemas import ApiModel, PatchModel, no_null_in_schema
from ..services import EngineCaller, database
from ..services import engines as engines_dependency

router = kairo_router("/v1/brands/{brand_id}/gates", "gates")

HISTORY_LIMIT = 50
COMPARE_MAX = 20
PASSING_STATUSES = ("approved", "published")
_FORBIDDEN_CHARS = re.compile("[\x00\ud800-\udfff]")


def _clean(value: str) -> str:
    """Post text is kept verbatim (whitespace counts), but no NUL and no unpaired surrogate."""
    if _FORBIDDEN_CHARS.search(value):
        raise ValueError("must not contain NUL or unpaired UTF-16 surrogates")
    return value


class DraftToCompare(ApiModel):
    model_config = ApiModel.model_config | {"str_strip_whitespace": False}

    id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")] | None = None
    text: Annotated[str, Field(min_length=1, max_length=TEXT_MAX, json_schema_extra={"pattern": PROSE_CHARS_PATTERN})]

    @field_validator("text")
    @classmethod
    def _text_is_clean(cls, value: str) -> str:
        return _clean(value)


def _spoiler_only_on_mastodon(schema: dict[str, Any]) -> None:
    """The schema states the rule the validator enforces: ``spoiler_text`` only with Mastodon."""
    schema["anyOf"] = [{"properties": {"channel": {"const": Channel.MASTODON.value}}},
                       {"properties": {"spoiler_text": {"type": "null"}}}]  # fmt: skip


class GateCheck(ApiModel):
    """A draft to lint: the channel, the text as it would be posted, optional drafts to compare."""

    model_config = ApiModel.model_config | {"str_strip_whitespace": False, "json_schema_extra": _spoiler_only_on_mastodon}

    channel: Channel
    text: Annotated[str, Field(max_length=TEXT_MAX, json_schema_extra={"pattern": PROSE_CHARS_PATTERN})]
    compare_with: Annotated[list[DraftToCompare], Field(max_length=COMPARE_MAX)] = []
    thread: bool = Field(default=False, description="X: split an over-long post into a thread instead of rejecting")
    limit: Annotated[int, Field(ge=1, le=TEXT_MAX)] | None = Field(
        default=None, description="the instance's limit (Mastodon max_characters)"
    )
    spoiler_text: Annotated[str, Field(min_length=1, max_length=TEXT_MAX, json_schema_extra={"pattern": PROSE_CHARS_PATTERN})] | None = Field(
        default=None, description="Mastodon only: the content warning, counted towards the limit as Mastodon counts it"
    )  # fmt: skip

    @field_validator("text")
    @classmethod
    def _text_is_clean(cls, value: str) -> str:
        return _clean(value)

    @field_validator("spoiler_text")
    @classmethod
    def _spoiler_is_mastodons(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("channel") not in (None, Channel.MASTODON):
            raise ValueError("a content warning (spoiler_text) exists on Mastodon only")
        return None if value is None else _clean(value)


class GateCheckResult(GateReport):
    """The gates' report on a draft, and the id of the quality report that keeps it."""

    report_id: UUID = Field(description="the stored check: GET …/quality-reports/{report_id}")


def _threshold_or_severity(schema: dict[str, Any]) -> None:
    no_null_in_schema(schema)
    schema["anyOf"] = [{"required": ["threshold"]}, {"required": ["severity"]}]


class GateSetting(PatchModel):
    """One gate's override: its threshold (0-100 on the gate's own score), whether it rejects or
    only flags, or both; and why."""

    model_config = ConfigDict(json_schema_extra=_threshold_or_severity)

    threshold: Annotated[float, Field(ge=0, le=100)] | None = None
    severity: Severity | None = None
    reason: ShortText | None = None

    @model_validator(mode="after")
    def _sets_something(self) -> GateSetting:
        if self.threshold is None and self.severity is None:
            raise ValueError("an override sets a threshold, a severity, or both")
        return self


class BannedWordsSetting(PatchModel):
    """Banned words have no threshold (a word is banned or not): only whether a hard word
    rejects or flags."""

    severity: Severity
    reason: ShortText | None = None


class RubricBody(PatchModel):
    """The brand's gate overrides by gate, replaced as a whole (``{}`` restores the defaults).
    The platform gate follows the platform's own limits and has none."""

    banned_words: BannedWordsSetting | None = None
    taboo: GateSetting | None = None
    hook: GateSetting | None = None
    similarity: GateSetting | None = None
    engagement: GateSetting | None = None

    def to_rubric(self) -> Rubric:
        overrides = [RubricOverride(rule=rule, **setting.model_dump(exclude_none=True))
                     for rule in type(self).model_fields if (setting := getattr(self, rule)) is not None]  # fmt: skip
        return Rubric(overrides=overrides)

    @classmethod
    def of(cls, rubric: Rubric) -> RubricBody:
        return cls.model_validate({o.rule: o.model_dump(exclude={"rule"}, exclude_none=True) for o in rubric.overrides})


async def load_rubric(db: Database, brand_id: Any) -> Rubric:
    async with db.connection() as conn:
        rows = await conn.fetch(
            "SELECT rule, threshold, severity, reason FROM gate_rubric_overrides WHERE brand_id = $1 ORDER BY rule",
            brand_id,
        )
    return Rubric(overrides=[RubricOverride(**dict(row)) for row in rows])


async def gate_candidate(db: Database, brand: Brand, body: GateCheck) -> GateInput:
    """The gates' input for ``body`` on ``brand``: its latest snapshot's rules (its own name never
    a client's), its recent passing variants on the channel plus the drafts to compare with, its rubric."""
    async with db.connection() as conn:
        snapshot = await repo.snapshots.latest(conn, brand.id)
        variants = await repo.variants.list(
            conn, "brand_id = $1 AND channel = $2 AND status = ANY($3::text[])", brand.id, body.channel.value,
            list(PASSING_STATUSES), order_by="updated_at DESC", limit=HISTORY_LIMIT,
        )  # fmt: skip
    rules = BrandRules.from_snapshot(snapshot, brand_name=brand.name) if snapshot else BrandRules()
    history = [PriorVariant(id=str(v.id), channel=v.channel, text=v.body) for v in variants]
    history += [
        PriorVariant(id=draft.id or f"draft-{i}", channel=body.channel, text=draft.text)
        for i, draft in enumerate(body.compare_with, start=1)
    ]
    return GateInput(
        channel=body.channel, text=body.text, brand=rules, limit=body.limit, thread=body.thread,
        spoiler_text=body.spoiler_text, history=history, rubric=await load_rubric(db, brand.id),
    )  # fmt: skip


@router.post("/check", response_model=GateCheckResult, operation_id="check_gates")
async def check_gates(
    body: GateCheck, access: BrandAccess = READ, db: Database = Depends(database), engines: EngineCaller = Depends(engines_dependency)
) -> GateCheckResult:
    """Every quality gate on a draft: the verdict, each gate's score and reasons, the length as
    the platform counts it, and the text to send (escaped where the channel needs it). The
    check is stored as a quality report of subject ``draft`` (``report_id``)."""
    candidate = await gate_candidate(db, access.brand, body)
    produced = await engines.call("writer", "check", candidate)
    report = produced if isinstance(produced, GateReport) else GateReport.model_validate(produced, from_attributes=True)
    check = draft_check(report, brand_id=access.brand.id, text=body.text, spoiler_text=body.spoiler_text, thread=body.thread)
    async with db.transaction() as conn:
        await quality.record_draft_check(conn, check)
    return GateCheckResult(**report.model_dump(), report_id=check.id)


@router.get("/rubric", response_model=RubricBody, response_model_exclude_none=True, operation_id="get_gate_rubric")
async def get_gate_rubric(access: BrandAccess = READ, db: Database = Depends(database)) -> RubricBody:
    """The brand's overrides of the gates' default thresholds and severities, by gate."""
    return RubricBody.of(await load_rubric(db, access.brand.id))


@router.put("/rubric", response_model=RubricBody, response_model_exclude_none=True, operation_id="set_gate_rubric")
async def set_gate_rubric(body: RubricBody, access: BrandAccess = STRATEGY, db: Database = Depends(database)) -> RubricBody:
    """Replace the brand's overrides (strategist and up). One per gate; the platform gate
    follows the platform and cannot be overridden; thresholds are 0-100 on the gate's score."""
    rubric = body.to_rubric()
    async with db.transaction() as conn:
        await conn.execute("DELETE FROM gate_rubric_overrides WHERE brand_id = $1", access.brand.id)
        await conn.executemany(
            "INSERT INTO gate_rubric_overrides (brand_id, rule, threshold, severity, reason) VALUES ($1, $2, $3, $4, $5)",
            [(access.brand.id, o.rule, o.threshold, o.severity.value if o.severity else None, o.reason)
             for o in rubric.overrides],
        )  # fmt: skip
    return RubricBody.of(rubric)
