"""A gate report as the CO-29 QualityReport row of one attempt at one variant."""

from __future__ import annotations

from uuid import UUID

from storage.objects import CriticReason, Gate, QualityReport

from .model import GateReport, Severity


def quality_report(report: GateReport, *, brand_id: UUID, content_variant_id: UUID, attempt_number: int) -> QualityReport:
    """Scores per gate, the verdict, and the rejecting findings as critic reasons (a passing
    report has none: flags stay in the report, not in the row's reasons)."""
    by_gate = {gate: [r for r in report.results if r.gate is gate] for gate in Gate}
    reasons = [
        CriticReason(gate=f.gate, score=r.score, reason=f"{f.code}: {f.message}"[:500], suggestion=None)
        for r in report.results
        for f in r.findings
        if f.severity is Severity.REJECT
    ][:20]
    hook = next(iter(by_gate[Gate.G2_HOOK]), None)
    engagement = next(iter(by_gate[Gate.G7_ENGAGEMENT]), None)
    return QualityReport(
        brand_id=brand_id,
        content_variant_id=content_variant_id,
        attempt_number=attempt_number,
        g2_hook_strength=hook.score if hook else 0.0,
        g4_voice_alignment=all(r.passed for r in by_gate[Gate.G4_VOICE]),
        g5_platform_compliance=all(r.passed for r in by_gate[Gate.G5_PLATFORM]),
        g7_engagement_prediction=engagement.score if engagement else 50.0,
        overall_pass=report.passed,
        critic_reasons=reasons,
    )
