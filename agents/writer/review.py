"""Review of a written package as pure logic: edit, approve, reject a variant; kill a package.

* **Edit**: the edited text is checked by the platform gate (G5) again - an edit that breaks
  the channel's limit or uses a character the platform refuses is refused with the gate's
  reasons, and nothing changes. An accepted edit makes the variant ``edited`` and yields an
  ``edit_applied`` FeedbackEvent with both texts, a unified diff and the normalized
  Levenshtein distance (0 = unchanged, 1 = rewritten), which the learner reads.
* **Approve / reject**: a draft or edited variant may be approved; a rejected one only after
  an edit (a person fixed it); anything not yet published may be rejected.
* **Kill** (seed 004's kill chain): the package is archived; variants no one edited are
  rejected with the kill's reason; edited variants survive as manual assets (their origin
  becomes ``manual``, pointing at themselves no more), because a person's work is never
  thrown away with the machine's. One plan, applied by the caller in one transaction.

An action on a killed (archived) package is :class:`storage.errors.Conflict`; an unknown
variant :class:`storage.errors.NotFound`.
"""

from __future__ import annotations

import difflib
from uuid import UUID

from pydantic import Field
from rapidfuzz.distance import Levenshtein

from agents.gates import BrandRules, GateInput, GateReport, run_gates
from agents.gates.model import EngineModel
from storage.errors import Conflict, Invalid, NotFound
from storage.objects import (
    ContentPackage,
    ContentVariant,
    FeedbackEvent,
    FeedbackType,
    PackageStatus,
    VariantOrigin,
    VariantStatus,
)
from storage.objects.base import utcnow

EDITABLE = {VariantStatus.DRAFT, VariantStatus.EDITED, VariantStatus.REJECTED, VariantStatus.APPROVED}
KILLED = PackageStatus.ARCHIVED


def edit_distance(original: str, edited: str) -> float:
    """Normalized Levenshtein distance in [0, 1]."""
    return float(Levenshtein.normalized_distance(original, edited))


def unified_diff(original: str, edited: str) -> str:
    return "\n".join(difflib.unified_diff(original.splitlines(), edited.splitlines(), "original", "edited", lineterm=""))


class EditOutcome(EngineModel):
    accepted: bool
    variant: ContentVariant
    report: GateReport
    reasons: list[str] = Field(description="the platform gate's reasons when refused")
    diff: str = ""
    event: FeedbackEvent | None = None


class KillPlan(EngineModel):
    package: ContentPackage
    killed: list[ContentVariant]
    surviving: list[ContentVariant] = Field(description="edited variants, kept as manual assets")
    reason: str


def _live(package: ContentPackage) -> None:
    if package.status is KILLED:
        raise Conflict("the package was killed", details={"field": "status", "state": str(package.status)})


def find_variant(variants: list[ContentVariant], variant_id: UUID) -> ContentVariant:
    for v in variants:
        if v.id == variant_id:
            return v
    raise NotFound(f"variant {variant_id} is not in this package", details={"field": "variant_id"})


async def edit_variant(
    package: ContentPackage,
    variant: ContentVariant,
    text: str,
    *,
    brand: BrandRules | None = None,
    limit: int | None = None,
    thread: bool = False,
    user_id: UUID | None = None,
) -> EditOutcome:
    """Apply a person's edit if the platform gate accepts the edited text."""
    _live(package)
    if variant.content_package_id != package.id:
        raise NotFound("the variant belongs to another package", details={"field": "variant_id"})
    if variant.status not in EDITABLE:
        raise Conflict(f"a {variant.status} variant cannot be edited", details={"field": "status"})
    if text == variant.body:
        raise Invalid("the edited text is the same as the variant's", details={"field": "text"})
    report = await run_gates(GateInput(channel=variant.channel, text=text, brand=brand or BrandRules(), limit=limit,
                                       thread=thread))  # fmt: skip
    platform = report.result("platform")
    reasons = [f.code for f in platform.findings if f.severity == "reject"]
    if reasons:
        return EditOutcome(accepted=False, variant=variant, report=report, reasons=reasons)
    distance = edit_distance(variant.body, text)
    diff = unified_diff(variant.body, text)
    edited = variant.model_copy(update={"body": text.strip(), "status": VariantStatus.EDITED, "updated_at": utcnow()})
    event = FeedbackEvent(brand_id=variant.brand_id, user_id=user_id, content_variant_id=variant.id,
                          pattern_template_id=variant.pattern_template_id, opportunity_id=package.opportunity_id,
                          feedback_type=FeedbackType.EDIT_APPLIED,
                          payload={"original_text": variant.body, "edited_text": text, "edit_distance": distance})  # fmt: skip
    return EditOutcome(accepted=True, variant=ContentVariant.model_validate(edited.model_dump()), report=report,
                       reasons=[], diff=diff, event=event)  # fmt: skip


def approve_variant(package: ContentPackage, variant: ContentVariant) -> ContentVariant:
    _live(package)
    if variant.status not in (VariantStatus.DRAFT, VariantStatus.EDITED):
        raise Conflict(f"a {variant.status} variant cannot be approved", details={"field": "status"})
    return variant.model_copy(update={"status": VariantStatus.APPROVED, "updated_at": utcnow()})


def reject_variant(package: ContentPackage, variant: ContentVariant) -> ContentVariant:
    _live(package)
    if variant.status is VariantStatus.PUBLISHED:
        raise Conflict("a published variant cannot be rejected", details={"field": "status"})
    return variant.model_copy(update={"status": VariantStatus.REJECTED, "updated_at": utcnow()})


def kill_package(package: ContentPackage, variants: list[ContentVariant], reason: str,
                 edited_ids: set[UUID] | None = None) -> KillPlan:  # fmt: skip
    """The kill chain: unedited variants rejected, edited ones kept as manual assets, the
    package archived. ``edited_ids`` adds variants the FeedbackLog shows as edited (a later
    approval keeps its edit)."""
    _live(package)
    if not reason.strip():
        raise Invalid("a kill needs a reason", details={"field": "reason"})
    edited_ids = edited_ids or set()
    now = utcnow()
    killed, surviving = [], []
    for v in variants:
        if v.content_package_id != package.id:
            raise Invalid(f"variant {v.id} belongs to another package", details={"field": "variants"})
        if v.status is VariantStatus.EDITED or v.id in edited_ids:
            surviving.append(v.model_copy(update={"origin": VariantOrigin(generated_by="manual"), "updated_at": now}))
        elif v.status is VariantStatus.PUBLISHED:
            surviving.append(v)  # what is out cannot be unsaid; the kill leaves it alone
        else:
            killed.append(v.model_copy(update={"status": VariantStatus.REJECTED, "updated_at": now}))
    archived = package.model_copy(update={"status": KILLED, "updated_at": now})
    return KillPlan(package=archived, killed=killed, surviving=surviving, reason=reason.strip())


__all__ = ["EditOutcome", "KillPlan", "approve_variant", "edit_distance", "edit_variant", "find_variant",
           "kill_package", "reject_variant", "unified_diff"]
