"""The critic loop: a candidate that fails is regenerated with the reasons as instructions.

One attempt is: generate → grounding (an untraceable figure, name or quote rejects before the
gates run) → all gates. An attempt that rejects, or only passes with a soft banned word
flagged, is followed by another with the findings turned into :class:`Instruction`s (the
over-length count, the weak first line, the banned word, the taboo sentence, the duplicated
variant, the untraced claim; cumulative, so a fix is not undone the round after), at most ``max_attempts`` in all. Every attempt is kept; after
the last failing one the candidate is ``rejected`` with its reasons. A soft flag that survives
the last attempt passes (a flag is a note, not a refusal). A passing attempt that shares half
its words with an earlier variant of the same plan is sent back too (``sibling_overlap``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from agents.gates import GateInput, GateReport

from .generator import TextGenerator
from .grounding import References, check_grounding
from .models import Attempt, Draft, GenerationRequest, GroundingReport, Instruction
from .text import jaccard

GateRunner = Callable[[GateInput], Awaitable[GateReport]]
_QUOTED = re.compile(r": ['\"](.+?)['\"]$")
MAX_SIBLING_OVERLAP = 0.5
"""Two variants of one plan share less than this share of their word sets (Jaccard): a
reviewer gets two takes, not one take twice. Stricter than the similarity gate, which guards
the brand's feed against near-duplicates."""
RETRY_FLAGS = ("banned_word_soft_flag",)
"""Flags worth one more attempt: a soft word the brand avoids is fixable, a low engagement
prediction (the template's, not the text's) is not."""


def instructions_from(report: GateReport | None, grounding: GroundingReport,
                      history: dict[str, str] | None = None) -> list[Instruction]:  # fmt: skip
    """What the next attempt must fix, from this attempt's grounding and gate findings. A
    near-duplicate's evidence is the earlier variant's text, so the next attempt can steer
    away from what that one said."""
    out = [Instruction(code="ungrounded", message=f"remove the {c.kind} {c.text!r}: no source gives it", evidence=c.text)
           for c in grounding.untraced]  # fmt: skip
    if report is None:
        return out
    for result in report.results:
        for f in result.findings:
            if f.severity == "reject" or f.code in RETRY_FLAGS:
                if f.code.startswith("near_duplicate_of:"):
                    prior = (history or {}).get(f.evidence or "", f.evidence)
                    out.append(Instruction(code="near_duplicate", message=f.message, evidence=prior))
                elif f.code == "taboo":  # the gate names the taboo; the sentence is in its message
                    quoted = _QUOTED.search(f.message)
                    out.append(Instruction(code="taboo", message=f.message, evidence=quoted.group(1) if quoted else None))
                else:
                    limit = report.limit if f.code == "over_length" else None
                    out.append(Instruction(code=f.code, message=f.message, evidence=f.evidence, limit=limit))
    return out


def verdict_of(report: GateReport | None, grounding: GroundingReport) -> tuple[str, list[str]]:
    if not grounding.passed:
        return "ungrounded", [f"ungrounded_{c.kind}:{c.text}" for c in grounding.untraced]
    assert report is not None
    return report.verdict, list(report.reasons)


def needs_retry(attempt: Attempt) -> bool:
    if attempt.verdict in ("reject", "ungrounded"):
        return True
    return attempt.report is not None and any(code in RETRY_FLAGS for code in attempt.report.flags)


def sibling_overlap(body: str, siblings: list[str]) -> tuple[float, str | None]:
    """The largest share of words ``body`` has in common with a sibling variant, and which."""
    best = max(((jaccard(body, s), s) for s in siblings), default=(0.0, None))
    return best


async def run_attempt(
    number: int,
    draft: Draft,
    refs: References,
    gate_input: Callable[[str], GateInput],
    gates: GateRunner,
    instructions: list[Instruction],
    siblings: list[str] | None = None,
    max_overlap: float = MAX_SIBLING_OVERLAP,
) -> Attempt:
    grounding = check_grounding(draft.body, refs)
    report = await gates(gate_input(draft.body)) if grounding.passed else None
    verdict, reasons = verdict_of(report, grounding)
    share, _ = sibling_overlap(draft.body, siblings or [])
    if verdict in ("pass", "flag") and share >= max_overlap:
        verdict, reasons = "reject", [f"sibling_overlap:{share:.2f}"]
    return Attempt(number=number, draft=draft, grounding=grounding, report=report, verdict=verdict,  # type: ignore[arg-type]
                   reasons=reasons, instructions=instructions)  # fmt: skip


async def critic_loop(
    generator: TextGenerator,
    request: GenerationRequest,
    refs: References,
    gate_input: Callable[[str], GateInput],
    gates: GateRunner,
    max_attempts: int = 3,
    siblings: list[str] | None = None,
) -> list[Attempt]:
    """Every attempt of one candidate, the last one the candidate's state. A generator error
    (:class:`~.generator.GenerationError`) propagates: the package fails, nothing half-built."""
    attempts: list[Attempt] = []
    instructions: list[Instruction] = []
    for number in range(1, max_attempts + 1):
        asked = request.model_copy(update={
            "attempt": number, "instructions": instructions,
            "previous": attempts[-1].draft.body if attempts else None,
        })  # fmt: skip
        draft = await generator.generate(asked)
        attempt = await run_attempt(number, draft, refs, gate_input, gates, instructions, siblings)
        attempts.append(attempt)
        if not needs_retry(attempt):
            break
        history = {p.id: p.text for p in gate_input(draft.body).history}
        instructions = instructions + instructions_from(attempt.report, attempt.grounding, history)
        if any(r.startswith("sibling_overlap:") for r in attempt.reasons):
            _, sibling = sibling_overlap(draft.body, siblings or [])
            instructions.append(Instruction(code="near_duplicate", message="too close to another variant of this plan",
                                            evidence=sibling))  # fmt: skip
    return attempts


__all__ = ["critic_loop", "instructions_from", "needs_retry", "run_attempt", "verdict_of"]
