"""A write's result as the rows that store it, and a stored package back as a written result.

:func:`records_of` turns a :class:`~.models.WriteResult` into
:class:`storage.postgres.writing.PackageRecords`: the canonical objects, the generation
session with each plan's writing settings, one attempt row per attempt, one CO-29 quality
report per attempt the gates judged (an attempt grounding refused first never reached them),
and a PatternUsage per variant (CO-13: the template it was written from, outcome to come).

:func:`written_of` rebuilds the part of a written result a regeneration needs (the plans with
their settings, one candidate per live variant) from a
:class:`storage.postgres.writing.StoredPackage`.
"""

from __future__ import annotations

from uuid import UUID

from agents.gates import quality_report
from storage.objects import ContentVariant, PatternUsage, QualityReport, VariantStatus
from storage.objects.operations import QUALITY_MAX_ATTEMPTS
from storage.postgres.writing import (
    GenerationAttemptRow,
    GenerationSessionRow,
    PackageRecords,
    PlanSettings,
    StoredPackage,
)

from .models import (
    Attempt,
    BeatText,
    Candidate,
    Draft,
    GenerationSession,
    GroundingReport,
    Knobs,
    PlanDraft,
    WriteResult,
)


def plan_settings(draft: PlanDraft) -> PlanSettings:
    return PlanSettings(thread=draft.thread, limit=draft.limit, budget=draft.budget,
                        length_mode=str(draft.knobs.length_mode), risk_mode=str(draft.knobs.risk_mode),
                        tone_bias=dict(draft.knobs.tone_bias), hook_id=draft.hook_id)  # fmt: skip


def _attempt_row(session_id: UUID, candidate: Candidate, attempt: Attempt) -> GenerationAttemptRow:
    return GenerationAttemptRow(
        generation_session_id=session_id, brand_id=candidate.variant.brand_id, content_variant_id=candidate.variant.id,
        variant_index=candidate.variant_index, attempt_number=attempt.number, body=attempt.draft.body,
        verdict=attempt.verdict, reasons=[r[:500] for r in attempt.reasons][:50],
        instructions=[i.model_dump(mode="json") for i in attempt.instructions],
    )  # fmt: skip


def _reports(candidate: Candidate) -> list[QualityReport]:
    v = candidate.variant
    return [quality_report(a.report, brand_id=v.brand_id, content_variant_id=v.id, attempt_number=a.number)
            for a in candidate.attempts if a.report is not None and a.number <= QUALITY_MAX_ATTEMPTS]  # fmt: skip


def records_of(result: WriteResult, *, candidates: list[Candidate] | None = None,
               round: str = "write") -> PackageRecords:  # fmt: skip
    """The rows of a written result; ``candidates`` limits them to a regeneration's new ones."""
    if result.status != "written" or result.package is None or result.session is None or result.core_argument is None:
        raise ValueError("only a written result has records")
    session = result.session
    chosen = session.candidates if candidates is None else candidates
    row = GenerationSessionRow(
        id=session.id, brand_id=result.package.brand_id, content_package_id=result.package.id,
        opportunity_id=result.package.opportunity_id, round=round, status="written", generator=session.generator,
        seed=session.seed, plan_settings={d.plan.id: plan_settings(d) for d in result.plans},
    )  # fmt: skip
    return PackageRecords(
        package=result.package, core_argument=result.core_argument, plans=[d.plan for d in result.plans],
        variants=[c.variant for c in chosen], session=row,
        attempts=[_attempt_row(session.id, c, a) for c in chosen for a in c.attempts],
        reports=[r for c in chosen for r in _reports(c)],
        usages=[PatternUsage(pattern_template_id=c.variant.pattern_template_id, content_variant_id=c.variant.id,
                             brand_id=c.variant.brand_id, channel=c.variant.channel) for c in chosen],
        card=result.card,
    )  # fmt: skip


def failure_of(result: WriteResult, *, brand_id: UUID, opportunity_id: UUID | None, generator: str, seed: int,
               package_id: UUID | None = None, round: str = "write") -> GenerationSessionRow:  # fmt: skip
    """A failed round as its session row: the generator's reason, nothing else."""
    return GenerationSessionRow(brand_id=brand_id, content_package_id=package_id, opportunity_id=opportunity_id,
                                round=round, status="failed", generator=generator, seed=seed,
                                reason=(result.reason or "failed")[:500])  # fmt: skip


LIVE = {VariantStatus.DRAFT, VariantStatus.EDITED, VariantStatus.APPROVED}


def _stored_candidate(stored: StoredPackage, variant: ContentVariant, thread: bool) -> Candidate:
    verdict = "pass" if variant.status in LIVE or variant.status is VariantStatus.PUBLISHED else "reject"
    draft = Draft(beats=[BeatText(beat="body", text=variant.body)], body=variant.body, generator=variant.origin.generated_by)
    attempt = Attempt(number=max(1, stored.attempts.get(variant.id, 1)), draft=draft,
                      grounding=GroundingReport(passed=True, checked=[], untraced=[]), verdict=verdict,
                      reasons=[] if verdict == "pass" else ["rejected"])  # fmt: skip
    return Candidate(plan_id=variant.channel_plan_id, channel=variant.channel, thread=thread,
                     variant_index=stored.variant_index.get(variant.id, 0), attempts=[attempt], variant=variant)  # fmt: skip


def current_variants(stored: StoredPackage) -> list[ContentVariant]:
    """The variant that holds each (plan, slot) now: the newest one written for it."""
    latest: dict[tuple[UUID, int], ContentVariant] = {}
    for v in stored.variants:  # oldest first
        latest[(v.channel_plan_id, stored.variant_index.get(v.id, 0))] = v
    return list(latest.values())


def written_of(stored: StoredPackage) -> WriteResult:
    """A stored package as the written result :func:`.pipeline.regenerate` works on."""
    settings = stored.plan_settings
    drafts = []
    for plan in stored.plans:
        s = settings.get(plan.id)
        if s is None:
            continue
        drafts.append(PlanDraft(plan=plan, thread=s.thread, limit=s.limit, budget=s.budget, hook_id=s.hook_id,
                                knobs=Knobs(length_mode=s.length_mode, risk_mode=s.risk_mode, tone_bias=s.tone_bias)))  # fmt: skip
    threads = {d.plan.id: d.thread for d in drafts}
    candidates = [_stored_candidate(stored, v, threads.get(v.channel_plan_id, False)) for v in current_variants(stored)]
    last = stored.sessions[-1] if stored.sessions else None
    session = GenerationSession(id=last.id if last else stored.package.id, content_package_id=stored.package.id,
                                generator=last.generator if last else "composer", seed=last.seed if last else 0,
                                candidates=candidates)  # fmt: skip
    return WriteResult(status="written", package=stored.package, core_argument=stored.core_argument, plans=drafts,
                       session=session)  # fmt: skip


__all__ = ["current_variants", "failure_of", "plan_settings", "records_of", "written_of"]
