"""Staged writing, end to end: request → package → core argument → channel plans → variants.

:func:`write_package` is what the writer pool runs for one card, manual topic or page. It builds
every object first and returns them together, so a generator that fails (timeout, 500,
garbage twice) leaves a ``failed`` result with the reason and no package at all - never a
half-built one. Each candidate goes through the critic loop (:mod:`.critic`); earlier passing
variants of the same channel join the similarity gate's history, so a plan's variants differ.
The card moves to ``in_progress`` (the scout's lifecycle table) when its package exists.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4, uuid5

from agents.gates import BrandRules, GateInput, PriorVariant
from agents.scout.lifecycle import apply as card_transition
from storage.errors import Invalid
from storage.objects import (
    ChannelScope,
    ContentPackage,
    ContentVariant,
    CoreArgument,
    OriginType,
    VariantOrigin,
    VariantStatus,
)

from .argument import argument_from_card, argument_from_topic, claim_of_card
from .critic import GateRunner, critic_loop
from .generator import GenerationError, TextGenerator
from .grounding import References
from .models import (
    Candidate,
    GenerationRequest,
    GenerationSession,
    PlanDraft,
    WriteRequest,
    WriteResult,
)
from .page import argument_from_page, origin_note
from .planning import plan_channel
from .text import near_lines

ID_NAMESPACE = UUID("5f1f6a53-2f0e-4d7b-9a55-0c7e3b1d9a21")


def _named(items: list, wanted: UUID, field: str) -> str:
    for item in items:
        if item.id == wanted:
            return item.name
    raise Invalid(f"{field} {wanted} is not one of the brand's", details={"field": field})


def references(request: WriteRequest, argument: CoreArgument) -> References:
    """Everything a variant may cite: sources, card, argument and the brand brain."""
    b, s = request.brand, request.brand.snapshot
    texts = [d.text for d in request.sources] + [d.title or "" for d in request.sources] + [d.url or "" for d in request.sources]
    if request.card:
        texts += [request.card.angle_summary] + [r.relevance_note for r in request.card.source_refs]
    if request.topic:
        texts += [request.topic.topic, request.topic.notes or ""]
    if request.page:
        texts += [request.page.notes or ""]
    texts += [argument.thesis, *argument.supporting_points, b.name, s.positioning, *s.offers, *s.tone_descriptors,
              *s.taboos, *(m.phrase for m in s.voice_markers), *(x.stance for x in s.stances), *b.memory,
              *(p.name for p in b.personas), *(p.name for p in b.pillars)]  # fmt: skip
    for c in s.competitors:
        texts += [c.name, *c.domains, *c.handles]
    return References(texts)


def _argument(request: WriteRequest, package_id: UUID) -> tuple[CoreArgument, dict]:
    brand = request.brand
    if request.card is not None:
        card = request.card
        if card.persona_id is None or card.pillar_id is None:
            raise Invalid("a global card needs a persona and a pillar before it is written", details={"field": "card"})
        pillar = _named(brand.pillars, card.pillar_id, "pillar_id")
        argument = argument_from_card(package_id, claim_of_card(card.angle_summary, pillar), card.persona_id,
                                      card.pillar_id, list(request.sources), brand)  # fmt: skip
        origin = {"opportunity_id": card.id, "origin_type": OriginType.OPPORTUNITY}
    elif request.topic is not None:
        argument = argument_from_topic(package_id, request.topic, list(request.sources), brand)
        origin = {"origin_type": OriginType.MANUAL, "origin_note": request.topic.topic}
    elif request.page is not None:
        argument = argument_from_page(package_id, request.page, list(request.sources), brand)
        origin = {"origin_type": OriginType.MANUAL, "origin_note": origin_note(request.page, request.sources[0])}
    else:
        raise Invalid("a package starts from a card, a manual topic or a page", details={"field": "card"})
    return argument, origin


def brand_lines(request: WriteRequest, argument: CoreArgument) -> int:
    """Memory lines near the argument: the lines a lesson may say (:func:`.text.near_lines`)."""
    return len(near_lines(list(request.brand.memory), [argument.thesis, *argument.supporting_points]))


def _package(request: WriteRequest, package_id: UUID, argument: CoreArgument, origin: dict,
             plan_ids: list[UUID]) -> ContentPackage:  # fmt: skip
    brand = request.brand
    single = len(request.channels) == 1
    package = ContentPackage(
        id=package_id, brand_id=brand.snapshot.brand_id, core_argument_id=argument.id, **origin,
        channel_scope=ChannelScope.SINGLE if single else ChannelScope.MULTI,
        channel=request.channels[0].channel if single else None, channel_plan_ids=plan_ids,
    )  # fmt: skip
    return package


def generation_request(request: WriteRequest, argument: CoreArgument, draft: PlanDraft, index: int) -> GenerationRequest:
    brand, snapshot = request.brand, request.brand.snapshot
    binding = draft.plan.pattern_bindings[0]
    return GenerationRequest(
        channel=draft.plan.channel, thread=draft.thread, beats=list(binding.beats), beat_notes=dict(binding.beats),
        thesis=argument.thesis, points=list(argument.supporting_points),
        topic=_named(brand.pillars, argument.pillar_id, "pillar_id"),
        persona=_named(brand.personas, argument.persona_id, "persona_id"), brand_name=brand.name,
        offers=list(snapshot.offers), voice_markers=[m.phrase for m in snapshot.voice_markers], memory=list(brand.memory),
        avoid=[w.word for w in snapshot.banned_words], tone_descriptors=list(snapshot.tone_descriptors),
        tone_profile=dict(snapshot.tone_profile), knobs=draft.knobs, budget=draft.budget,
        limit=draft.limit or _limit(draft), variant_index=index, variants=binding.target_variants, seed=request.seed,
    )  # fmt: skip


def _limit(draft: PlanDraft) -> int:
    from agents.gates import CHANNEL_LIMITS

    return CHANNEL_LIMITS[draft.plan.channel]


def brand_history(request: WriteRequest) -> list[PriorVariant]:
    """Recent variants, and the brand's own lines: the taboo gate reads them as the brand's
    ordinary voice (being on the brand's subject is not an act); their ids say they are memory."""
    memory = [PriorVariant(id=f"memory:{i}", channel=c.channel, text=line[:2000])
              for i, line in enumerate(request.brand.memory) for c in request.channels]  # fmt: skip
    return list(request.history) + memory


async def _candidate(request: WriteRequest, argument: CoreArgument, package: ContentPackage, draft: PlanDraft,
                     index: int, refs: References, history: list[PriorVariant], siblings: list[str],
                     generator: TextGenerator, gates: GateRunner, *, seed: int | None = None,
                     replaces: UUID | None = None) -> Candidate:  # fmt: skip
    """One variant slot of a plan through the critic loop."""
    plan, binding = draft.plan, draft.plan.pattern_bindings[0]
    rules = BrandRules.from_snapshot(request.brand.snapshot, brand_name=request.brand.name,
                                     number_threads=request.brand.number_threads)
    known = list(history)

    def gate_input(text: str) -> GateInput:
        return GateInput(channel=plan.channel, text=text, brand=rules, limit=draft.limit, thread=draft.thread,
                         history=known[-500:], rubric=request.brand.rubric)  # fmt: skip

    asked = generation_request(request, argument, draft, index)
    if seed is not None:
        asked = asked.model_copy(update={"seed": seed})
    attempts = await critic_loop(generator, asked, refs, gate_input, gates, request.max_attempts, siblings)
    last = attempts[-1]
    if not last.draft.body.strip():
        raise GenerationError("invalid_output", "the generator returned an empty post")
    passed = last.verdict in ("pass", "flag")
    variant = ContentVariant(
        id=uuid5(ID_NAMESPACE, f"{plan.id}:{index}") if replaces is None else uuid4(), content_package_id=package.id,
        channel_plan_id=plan.id, brand_id=package.brand_id, channel=plan.channel,
        pattern_template_id=binding.pattern_template_id, persona_id=argument.persona_id,
        pillar_id=argument.pillar_id, body=last.draft.body,
        status=VariantStatus.DRAFT if passed else VariantStatus.REJECTED,
        origin=VariantOrigin(generated_by=generator.name, source_variant_id=replaces),
    )  # fmt: skip
    return Candidate(plan_id=plan.id, channel=plan.channel, thread=draft.thread, variant_index=index,
                     attempts=attempts, variant=variant, reasons=[] if passed else last.reasons)  # fmt: skip


async def regenerate(request: WriteRequest, written: WriteResult, plan_id: UUID, generator: TextGenerator,
                     gates: GateRunner, *, variant_index: int | None = None, seed: int = 1) -> WriteResult:  # fmt: skip
    """Write one variant (``variant_index``) or every variant of one channel plan again with
    another seed; the new variants point at the ones they replace (``origin.source_variant_id``),
    the others stay. A killed package is :class:`storage.errors.Conflict`; a failing generator
    leaves the package as it was, with ``failed`` and the reason."""
    from storage.errors import Conflict, NotFound
    from storage.objects import PackageStatus

    if written.status != "written" or written.package is None or written.session is None:
        raise Conflict("only a written package can be regenerated", details={"field": "status"})
    if written.package.status is PackageStatus.ARCHIVED:
        raise Conflict("the package was killed", details={"field": "status"})
    draft = next((d for d in written.plans if d.plan.id == plan_id), None)
    if draft is None:
        raise NotFound(f"plan {plan_id} is not in this package", details={"field": "plan_id"})
    targets = [c for c in written.session.candidates if c.plan_id == plan_id
               and (variant_index is None or c.variant_index == variant_index)]  # fmt: skip
    if not targets:
        raise NotFound(f"variant {variant_index} is not in plan {plan_id}", details={"field": "variant_index"})
    refs = references(request, written.core_argument)
    replaced = {c.variant_index for c in targets}
    kept = [c for c in written.session.candidates if not (c.plan_id == plan_id and c.variant_index in replaced)]
    history = brand_history(request) + [PriorVariant(id=str(c.variant.id), channel=c.channel, text=c.variant.body)
                                        for c in kept if c.passed]  # fmt: skip
    fresh: list[Candidate] = []
    try:
        for old in targets:
            siblings = [c.variant.body for c in kept + fresh if c.plan_id == plan_id and c.passed]
            fresh.append(await _candidate(request, written.core_argument, written.package, draft, old.variant_index,
                                          refs, history, siblings, generator, gates, seed=seed,
                                          replaces=old.variant.id))  # fmt: skip
    except GenerationError as error:
        return written.model_copy(update={"status": "failed", "reason": f"generator {generator.name}: {error}"})
    order = {(c.plan_id, c.variant_index): i for i, c in enumerate(written.session.candidates)}
    candidates = sorted(kept + fresh, key=lambda c: order[(c.plan_id, c.variant_index)])
    session = GenerationSession(id=uuid4(), content_package_id=written.package.id, generator=generator.name,
                                seed=seed, candidates=candidates)  # fmt: skip
    return written.model_copy(update={"session": session})


async def write_package(request: WriteRequest, generator: TextGenerator, gates: GateRunner,
                        now: datetime | None = None) -> WriteResult:  # fmt: skip
    """Write one package. Invalid input raises :class:`storage.errors.Invalid`; a generator
    that cannot answer gives ``status: failed`` with its reason."""
    now = now or datetime.now(UTC)
    package_id = uuid4()
    snapshot = request.brand.snapshot
    argument, origin = _argument(request, package_id)
    claims = 1 + len(argument.supporting_points)
    plans = [plan_channel(package_id=package_id, snapshot_id=snapshot.id, request=channel, runtime=request.runtime,
                          templates=list(request.templates), weights=dict(request.pattern_weights),
                          hooks=list(request.hooks), claims=claims,
                          brand_lines=brand_lines(request, argument)) for channel in request.channels]  # fmt: skip
    package = _package(request, package_id, argument, origin, [p.plan.id for p in plans])
    refs = references(request, argument)
    history = brand_history(request)
    candidates: list[Candidate] = []
    try:
        for draft in plans:
            for index in range(draft.plan.pattern_bindings[0].target_variants):
                siblings = [c.variant.body for c in candidates if c.plan_id == draft.plan.id and c.passed]
                candidate = await _candidate(request, argument, package, draft, index, refs, history, siblings,
                                             generator, gates)  # fmt: skip
                candidates.append(candidate)
                if candidate.passed:
                    history.append(PriorVariant(id=str(candidate.variant.id), channel=draft.plan.channel,
                                                text=candidate.variant.body))  # fmt: skip
    except GenerationError as error:
        return WriteResult(status="failed", reason=f"generator {generator.name}: {error}")
    card = card_transition(request.card, "start", now) if request.card is not None else None
    session = GenerationSession(id=uuid4(), content_package_id=package.id, generator=generator.name,
                                seed=request.seed, candidates=candidates)  # fmt: skip
    return WriteResult(status="written", package=package, core_argument=argument, plans=plans, session=session,
                       card=card)  # fmt: skip


__all__ = ["generation_request", "references", "regenerate", "write_package"]
