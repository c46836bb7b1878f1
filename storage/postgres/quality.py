"""Where the gates' verdicts are kept, so a rejection can always be explained later (CO-29,
seed 004 quality_scores; migration 0016).

* :class:`AttemptQualityReport`: the CO-29 report of one writing attempt at one variant, with
  each gate's result, the thresholds in force and the snapshot whose rules applied; the
  writer stores its attempts with :func:`record_attempt_reports` in its own transaction.
* :class:`DraftCheck`: a lint of a draft that is not stored (the check API): no variant to point
  at, so it keeps the draft's text; :func:`record_draft_check`. Immutable.
* :class:`QualityReportEntry`: either, as the view ``quality_report_log`` lists them (subject
  ``attempt`` or ``draft``); :data:`REPORT_LOG` reads it, :func:`report_of` finds one.

The models mirror the table's CHECKs (the gates' vocabulary, scores 0-100, a verdict that
agrees with the pass, a passing report without critic reasons).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Literal, Self
from uuid import UUID

import asyncpg
from pydantic import AwareDatetime, Field, model_validator

from storage.errors import NotFound
from storage.objects import GATE_TEXT_MAX, Channel, CriticReason, Gate, GateVerdict, QualityReport
from storage.objects import GateRule as RuleName
from storage.objects.base import KairoObject, Score, new_id, utcnow

from .rows import Repository, Table

OverridableRule = Literal["banned_words", "taboo", "hook", "similarity", "engagement"]
Verdict = GateVerdict
DRAFT_TEXT_MAX = GATE_TEXT_MAX
FINDINGS_MAX = 50

Code = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^\S(.*\S)?$")]
Note = Annotated[str, Field(max_length=500)]


class StoredFinding(KairoObject):
    """One reason a gate raised, as stored: its stable code, severity, message and evidence."""

    code: Code
    severity: Literal["reject", "flag"]
    message: Note = ""
    evidence: Note | None = None


class StoredGateResult(KairoObject):
    """One gate's result on one candidate: score (0-100, higher is better), pass, the
    threshold it was judged by, whether it ran, and its findings."""

    rule: RuleName
    gate: Gate
    score: Score
    passed: bool
    threshold: Score | None = None
    skipped: bool = False
    findings: Annotated[list[StoredFinding], Field(max_length=FINDINGS_MAX)] = []


GateResults = Annotated[list[StoredGateResult], Field(max_length=6)]
Thresholds = dict[OverridableRule, Score]


def _verdict_agrees(verdict: Verdict | None, overall_pass: bool) -> None:
    if verdict is not None and (verdict == "reject") == overall_pass:
        raise ValueError("verdict is 'reject' exactly when overall_pass is false")


class AttemptQualityReport(QualityReport):
    """CO-29 with its detail: what each gate said, by which thresholds, under which snapshot."""

    channel: Channel | None = None
    verdict: Verdict | None = None
    gate_results: GateResults = []
    thresholds: Thresholds = {}
    brand_brain_snapshot_id: UUID | None = None

    @model_validator(mode="after")
    def _verdict_matches(self) -> Self:
        _verdict_agrees(self.verdict, self.overall_pass)
        return self


class DraftCheck(KairoObject):
    """A lint of a draft through the check API: the draft's text and every gate's result."""

    id: UUID = Field(default_factory=new_id)
    brand_id: UUID
    channel: Channel
    text: Annotated[str, Field(max_length=DRAFT_TEXT_MAX)]
    spoiler_text: Annotated[str, Field(min_length=1, max_length=DRAFT_TEXT_MAX)] | None = Field(
        default=None, description="Mastodon only: the content warning checked with the text (counted in its length)")
    thread: bool = Field(default=False, description="whether the draft was checked as a thread (X splits one)")
    verdict: Verdict
    overall_pass: bool
    length: int = Field(ge=0, description="the text's length as the platform counts it")
    char_limit: int = Field(ge=1, description="the limit it was judged by")
    g2_hook_strength: Score
    g4_voice_alignment: bool
    g5_platform_compliance: bool
    g7_engagement_prediction: Score
    critic_reasons: Annotated[list[CriticReason], Field(max_length=20)] = []
    gate_results: GateResults = []
    thresholds: Thresholds = {}
    brand_brain_snapshot_id: UUID | None = None
    evaluated_at: AwareDatetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _verdict_agrees(self.verdict, self.overall_pass)
        if self.spoiler_text is not None and self.channel is not Channel.MASTODON:
            raise ValueError("spoiler_text (a content warning) exists on Mastodon only")
        if self.overall_pass and not (self.g4_voice_alignment and self.g5_platform_compliance):
            raise ValueError("overall_pass requires the voice (g4) and platform (g5) gates to pass")
        if self.overall_pass == bool(self.critic_reasons):
            raise ValueError("critic_reasons are empty exactly when overall_pass is true")
        return self


class QualityReportEntry(KairoObject):
    """A stored gate verdict: a writing attempt at a variant (``attempt``) or a lint of a draft
    not stored (``draft``, with its text)."""

    id: UUID
    brand_id: UUID
    subject: Literal["attempt", "draft"]
    content_variant_id: UUID | None = Field(description="the variant of an attempt; null for a draft")
    attempt_number: int | None = Field(ge=1, le=3, description="1..3 for an attempt; null for a draft")
    channel: Channel | None = Field(description="null only for attempts stored before the detail was kept")
    verdict: Verdict | None = Field(description="null only for attempts stored before the detail was kept")
    overall_pass: bool
    g2_hook_strength: Score
    g4_voice_alignment: bool
    g5_platform_compliance: bool
    g7_engagement_prediction: Score
    critic_reasons: list[CriticReason]
    gate_results: list[StoredGateResult]
    thresholds: Thresholds
    brand_brain_snapshot_id: UUID | None
    text: str | None = Field(description="the draft's text; null for an attempt (its text is the attempt's)")
    evaluated_at: AwareDatetime
    spoiler_text: str | None = Field(default=None, description="a draft's content warning (Mastodon); null for an attempt")
    thread: bool | None = Field(default=None, description="whether a draft was checked as a thread; null for an attempt")
    length: int | None = Field(default=None, ge=0, description="a draft's length as the platform counts it; null for an attempt")
    char_limit: int | None = Field(default=None, ge=1, description="the limit a draft was judged by; null for an attempt")

    @model_validator(mode="after")
    def _subject_fields(self) -> Self:
        if (self.subject == "attempt") != (self.content_variant_id is not None and self.attempt_number is not None):
            raise ValueError("an attempt names its variant and attempt number; a draft neither")
        if (self.subject == "draft") != (self.length is not None and self.char_limit is not None and self.thread is not None):
            raise ValueError("a draft has its length, limit and thread flag; an attempt none")
        return self


_DETAIL_JSON = frozenset({"critic_reasons", "gate_results", "thresholds"})
ATTEMPT_REPORTS = Table("quality_reports", AttemptQualityReport, json_columns=_DETAIL_JSON)
DRAFT_CHECKS = Table("gate_checks", DraftCheck, json_columns=_DETAIL_JSON)
REPORT_LOG_TABLE = Table("quality_report_log", QualityReportEntry, json_columns=_DETAIL_JSON)
attempt_reports: Repository[AttemptQualityReport] = Repository(ATTEMPT_REPORTS)
draft_checks: Repository[DraftCheck] = Repository(DRAFT_CHECKS)
REPORT_LOG: Repository[QualityReportEntry] = Repository(REPORT_LOG_TABLE)
"""Read-only: both kinds, newest first by ``evaluated_at`` (index per brand on each table)."""


async def record_attempt_reports(conn: asyncpg.Connection, reports: Iterable[AttemptQualityReport]) -> None:
    """Store the reports of writing attempts, in the caller's transaction (with the variants)."""
    await attempt_reports.insert_many(conn, reports)


async def record_draft_check(conn: asyncpg.Connection, check: DraftCheck) -> DraftCheck:
    return await draft_checks.insert(conn, check)


async def report_of(conn: asyncpg.Connection, brand_id: UUID, id: UUID) -> QualityReportEntry:
    """The brand's stored report ``id``; NotFound when there is none *or* it is another brand's."""
    found = await REPORT_LOG.list(conn, "id = $1 AND brand_id = $2", id, brand_id)
    if not found:
        raise NotFound(f"QualityReport {id} not found", details={"id": str(id)})
    return found[0]


__all__ = [
    "REPORT_LOG",
    "AttemptQualityReport",
    "DraftCheck",
    "QualityReportEntry",
    "StoredFinding",
    "StoredGateResult",
    "record_attempt_reports",
    "record_draft_check",
    "report_of",
]
