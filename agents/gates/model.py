"""The gates' input and result models: a candidate post in its brand's context, and a verdict.

A gate is a lint rule (``STYLE.md``): a stable rule name, the quality gate it scores (seed 004:
G2 hook, G4 voice, G5 platform, G7 engagement, compliance), machine-readable reason codes, a
severity (``reject`` stops the post, ``flag`` lets it pass with a note) and, for some, a fix.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, model_validator

from storage.objects import GATE_TEXT_MAX, BannedWord, BrandBrainSnapshot, Channel, Gate, GateVerdict
from storage.objects import GateRule as RuleName

HISTORY_MAX = 500
TEXT_MAX = GATE_TEXT_MAX
Score100 = Annotated[float, Field(ge=0, le=100)]


class EngineModel(BaseModel):
    """Like the engines' models: unknown fields refused, frozen, text kept verbatim (whitespace
    counts towards a post's length). Defined here so the gates depend on storage only."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Severity(StrEnum):
    REJECT = "reject"
    FLAG = "flag"


class Finding(EngineModel):
    """One reason a gate raised: ``code`` is stable (``over_length``, ``near_duplicate_of:<id>``)."""

    code: str
    rule: RuleName
    gate: Gate
    severity: Severity
    message: str
    evidence: str | None = Field(default=None, description="the word, sentence or variant id it is about")


class GateResult(EngineModel):
    """One gate's verdict: a 0-100 score (higher is better), pass/fail and its findings."""

    rule: RuleName
    gate: Gate
    score: Score100
    passed: bool
    threshold: float | None = None
    skipped: bool = Field(default=False, description="not run: what it needs was not given (no embedder, no history)")
    findings: list[Finding] = []


class PriorVariant(EngineModel):
    """A recent passing variant of the brand (or a draft to compare with, not stored yet)."""

    id: str = Field(min_length=1, max_length=64)
    channel: Channel
    text: str = Field(max_length=TEXT_MAX)


class EngagementStats(EngineModel):
    """Usage stats of a template (CO-12 ``usage_stats``) or a channel prior (CO-20 GlobalPriors)."""

    times_used: int = Field(default=0, ge=0)
    avg_engagement_rate: float | None = Field(default=None, ge=0, le=1)


class BrandRules(EngineModel):
    """What the gates read of a brand brain snapshot (CO-05 with seed 004's Brand DNA)."""

    snapshot_id: UUID | None = None
    banned_words: Annotated[list[BannedWord], Field(max_length=2000)] = []
    taboos: Annotated[list[str], Field(max_length=100)] = []
    stances: Annotated[list[str], Field(max_length=100)] = []
    competitors: Annotated[list[str], Field(max_length=300)] = Field(
        default=[], description="the brand's competitors by name and handle: what trashing a competitor is about"
    )
    own_names: Annotated[list[str], Field(max_length=300)] = Field(
        default=[], description="the brand's own names and offers: never a client's name to the taboo gate"
    )
    number_threads: bool = Field(default=True, description="number the parts of an X thread (1/3, 2/3, ...)")

    @classmethod
    def from_snapshot(cls, snapshot: BrandBrainSnapshot, *, brand_name: str | None = None,
                      number_threads: bool = True) -> BrandRules:  # fmt: skip
        """The rules of the brand's ``snapshot``; ``brand_name`` (the brand's own) is never taken
        for a client's name."""
        return cls(
            snapshot_id=snapshot.id,
            banned_words=list(snapshot.banned_words),
            taboos=list(snapshot.taboos),
            stances=[s.stance for s in snapshot.stances],
            competitors=list(dict.fromkeys(
                name for c in snapshot.competitors for name in (c.name, *(h.lstrip("@").split("@")[0] for h in c.handles))
            )),
            own_names=list(dict.fromkeys([*([brand_name] if brand_name else []), *snapshot.offers])),
            number_threads=number_threads,
        )


class RubricOverride(EngineModel):
    """A brand's adjustment of one gate (seed 004 ``rubric_overrides``): its threshold (0-100,
    on the gate's own score) and whether it rejects or only flags."""

    rule: RuleName
    threshold: Score100 | None = None
    severity: Severity | None = None
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _platform_is_the_platforms(self) -> Self:
        if self.rule == "platform" and (self.threshold is not None or self.severity is not None):
            raise ValueError("the platform gate follows the platform's own limits; it cannot be overridden")
        if self.rule == "banned_words" and self.threshold is not None:
            raise ValueError("banned words have no threshold (a word is banned or not)")
        if self.threshold is None and self.severity is None:
            raise ValueError("an override sets a threshold, a severity, or both")
        return self


class Rubric(EngineModel):
    overrides: Annotated[list[RubricOverride], Field(max_length=6)] = []

    @model_validator(mode="after")
    def _one_per_rule(self) -> Self:
        rules = [o.rule for o in self.overrides]
        if len(rules) != len(set(rules)):
            raise ValueError("one override per gate")
        return self

    def get(self, rule: RuleName) -> RubricOverride | None:
        return next((o for o in self.overrides if o.rule == rule), None)


class GateInput(EngineModel):
    """One candidate: a text for a channel, the brand's rules, its recent posts, its template."""

    channel: Channel
    text: str = Field(max_length=TEXT_MAX)
    brand: BrandRules = BrandRules()
    limit: int | None = Field(default=None, ge=1, le=TEXT_MAX, description="a Mastodon instance's max_characters")
    spoiler_text: str | None = Field(default=None, max_length=TEXT_MAX,
                                     description="Mastodon only: the content warning, counted towards the limit")
    thread: bool = Field(default=False, description="X only: the text may be split into a numbered thread")
    history: Annotated[list[PriorVariant], Field(max_length=HISTORY_MAX)] = []
    template: EngagementStats | None = None
    prior: EngagementStats | None = None
    rubric: Rubric = Rubric()

    @model_validator(mode="after")
    def _spoiler_is_mastodons(self) -> Self:
        if self.spoiler_text is not None and self.channel is not Channel.MASTODON:
            raise ValueError("spoiler_text (a content warning) exists on Mastodon only")
        return self


Verdict = GateVerdict


class GateReport(EngineModel):
    """All gates on one candidate: the verdict, each gate's result, the length as the platform
    counts it and the text to send (escaped where the channel needs it; the thread parts)."""

    verdict: Verdict
    passed: bool
    channel: Channel
    length: int
    limit: int
    byte_length: int | None = None
    text_to_send: str
    parts: list[str]
    reasons: list[str] = Field(description="codes of the findings that reject")
    flags: list[str] = Field(description="codes of the findings that only flag")
    results: list[GateResult]
    thresholds: dict[str, float]
    snapshot_id: UUID | None = None

    def result(self, rule: RuleName) -> GateResult:
        return next(r for r in self.results if r.rule == rule)


__all__ = [
    "BrandRules",
    "EngagementStats",
    "Finding",
    "GateInput",
    "GateReport",
    "GateResult",
    "PriorVariant",
    "Rubric",
    "RubricOverride",
    "RuleName",
    "Severity",
    "Verdict",
]
