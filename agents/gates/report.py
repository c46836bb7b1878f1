"""A gate report as the rows that keep it (``storage.postgres.quality``): the CO-29
QualityReport of one writing attempt at one variant, or the check of a draft not stored.

Both carry the seed's four summary scores (G2 hook strength, G4 voice and G5 platform passed,
G7 predicted engagement), the rejecting findings as critic reasons, and the detail that explains
the verdict later: each gate's score, pass, threshold and findings, the thresholds in force and
the snapshot whose rules applied.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from storage.objects import CriticReason, Gate
from storage.postgres.quality import (
    FINDINGS_MAX,
    AttemptQualityReport,
    DraftCheck,
    StoredFinding,
    StoredGateResult,
)

from .model import Finding, GateReport, Severity


def _summary(report: GateReport) -> dict[str, Any]:
    by_gate = {gate: [r for r in report.results if r.gate is gate] for gate in Gate}
    reasons = [
        CriticReason(gate=f.gate, score=r.score, reason=f"{f.code}: {f.message}"[:500], suggestion=None)
        for r in report.results
        for f in r.findings
        if f.severity is Severity.REJECT
    ][:20]
    hook = next(iter(by_gate[Gate.G2_HOOK]), None)
    engagement = next(iter(by_gate[Gate.G7_ENGAGEMENT]), None)
    return {
        "g2_hook_strength": hook.score if hook else 0.0,
        "g4_voice_alignment": all(r.passed for r in by_gate[Gate.G4_VOICE]),
        "g5_platform_compliance": all(r.passed for r in by_gate[Gate.G5_PLATFORM]),
        "g7_engagement_prediction": engagement.score if engagement else 50.0,
        "overall_pass": report.passed,
        "critic_reasons": reasons,
    }


def _finding(f: Finding) -> StoredFinding:
    return StoredFinding(code=f.code[:200], severity=f.severity.value, message=f.message[:500],
                         evidence=None if f.evidence is None else f.evidence[:500])  # fmt: skip


def _detail(report: GateReport) -> dict[str, Any]:
    results = [
        StoredGateResult(rule=r.rule, gate=r.gate, score=r.score, passed=r.passed, threshold=r.threshold,
                         skipped=r.skipped, findings=[_finding(f) for f in r.findings[:FINDINGS_MAX]])
        for r in report.results
    ]  # fmt: skip
    return {
        "channel": report.channel,
        "verdict": report.verdict,
        "gate_results": results,
        "thresholds": {rule: value for rule, value in report.thresholds.items() if rule != "platform"},
        "brand_brain_snapshot_id": report.snapshot_id,
    }


def quality_report(
    report: GateReport, *, brand_id: UUID, content_variant_id: UUID, attempt_number: int
) -> AttemptQualityReport:
    """The CO-29 row of one attempt: the summary scores, the rejecting findings as critic
    reasons (a passing report has none: flags stay in the detail), and the detail."""
    return AttemptQualityReport(brand_id=brand_id, content_variant_id=content_variant_id, attempt_number=attempt_number,
                                **_summary(report), **_detail(report))  # fmt: skip


def draft_check(report: GateReport, *, brand_id: UUID, text: str, spoiler_text: str | None = None,
                thread: bool = False) -> DraftCheck:  # fmt: skip
    """The stored check of a draft that is not a variant (the check API's lint), with what it
    was checked with, so that the check can be run again."""
    return DraftCheck(brand_id=brand_id, text=text, spoiler_text=spoiler_text, thread=thread, length=report.length,
                      char_limit=report.limit, **_summary(report), **_detail(report))  # fmt: skip
