"""The brand agent's content writing: write a package for a card (or a manual topic, or a page
at a URL: :mod:`.agent_pages`), review its variants (edit, approve, reject, regenerate) and kill it.

The agent reads what a write needs from PostgreSQL, hands the work to the writer pool
(``agent.engines.call("writer", ...)``: generation, grounding and the gates never run in the
agent), and stores what comes back in one fenced transaction (``agent.write()``): a package
lands whole, with its argument, plans, variants, every attempt, quality reports and pattern
usages, and the card moves to ``in_progress`` with it. A generator that cannot answer leaves a
``failed`` generation session with the reason and no package; the command then raises
:class:`storage.errors.UpstreamFailure` naming it.

Overwrites carry the version they were based on (package or variant ``version``): a stale one
is a Conflict, as is any action on a killed package. Each action writes an EventLog line:
``package_generated`` for a written package or round, ``feedback_recorded`` for a review
action (``meta.action``), ``error`` for a failed round.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

import structlog
from pydantic import BaseModel, ConfigDict, Field

from agents.gates import BrandRules, PriorVariant, Rubric, RubricOverride
from agents.scout import lifecycle
from agents.writer.models import (
    BrandVoice,
    ChannelRequest,
    HookRef,
    ManualTopic,
    Named,
    PageTopic,
    SourceDoc,
    WriteRequest,
    WriteResult,
)
from agents.writer.records import current_variants, failure_of, records_of, written_of
from agents.writer.review import approve_variant, kill_package, reject_variant
from storage.errors import Conflict, Invalid, NotFound, UpstreamFailure, expect_version
from storage.objects import (
    ChannelPlan,
    ContentPackage,
    ContentVariant,
    CoreArgument,
    EventType,
    OpportunityState,
    OriginType,
    PackageStatus,
    QualityReport,
    VariantStatus,
)
from storage.objects.base import utcnow
from storage.postgres import patterns as pattern_store
from storage.postgres import repositories as repo
from storage.postgres import sources as source_store
from storage.postgres import writing as store

from .agent_pages import page_focus, page_source, source_doc
from .commands import (
    ChannelAsk,
    EditVariant,
    KillPackage,
    RegenerateVariants,
    ReviewVariant,
    WritePackage,
)
from .fencing import ActivationLost
from .gateway import call_engine, pooled

if TYPE_CHECKING:  # pragma: no cover
    from .brand_agent import BrandAgent

log = structlog.get_logger(__name__)

MEMORY_LINES = 200
HISTORY = 200
MAX_ATTEMPTS = 3
DIFF_MAX = 4000  # characters of an edit's unified diff kept on its event log line
HOOKS_PER_PACKAGE = 12  # nearest hooks offered to the plans (each plan keeps the best that fits)


class VariantView(BaseModel):
    """A variant with its version, how many attempts it took and its last quality report."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    variant: ContentVariant
    version: int = Field(ge=1, description="send it back as `expected_version` to act on the variant")
    current: bool = Field(description="holds its plan's slot (false: replaced by a regeneration)")
    attempts: int = Field(ge=0, description="attempts the critic loop took (0 for a manual asset)")
    quality: QualityReport | None = Field(description="the gates' scores of its last gated attempt")


class PackageView(BaseModel):
    """A package with its core argument, channel plans and variants."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    package: ContentPackage
    version: int = Field(ge=1, description="send it back as `expected_version` to regenerate or kill")
    core_argument: CoreArgument
    plans: list[ChannelPlan]
    variants: list[VariantView]


# -- reading what a write needs ---------------------------------------------------------------


async def _rubric(conn: Any, brand_id: UUID) -> Rubric:
    rows = await conn.fetch(
        "SELECT rule, threshold, severity, reason FROM gate_rubric_overrides WHERE brand_id = $1 ORDER BY rule", brand_id)
    return Rubric(overrides=[RubricOverride(**dict(r)) for r in rows])


async def brand_voice(conn: Any, agent: BrandAgent) -> BrandVoice:
    brand_id = agent.brand_id
    personas = await repo.personas.list(conn, "brand_id = $1", brand_id, order_by="created_at, id")
    pillars = await repo.pillars.list(conn, "brand_id = $1", brand_id, order_by="created_at, id")
    memory = await conn.fetch("SELECT raw_text FROM memory_fragments WHERE brand_id = $1 ORDER BY created_at, id LIMIT $2",
                              brand_id, MEMORY_LINES)  # fmt: skip
    if not personas or not pillars:
        raise Conflict("the brand needs a persona and a pillar before it writes", details={"field": "personas"})
    return BrandVoice(name=agent.brand.name, snapshot=agent.snapshot,
                      personas=[Named(id=p.id, name=p.name, about=" ".join([p.description, *p.pain_points, *p.goals])[:4000])
                                for p in personas],
                      pillars=[Named(id=p.id, name=p.name, about=p.description) for p in pillars],
                      memory=[r["raw_text"][:1000] for r in memory], rubric=await _rubric(conn, brand_id))  # fmt: skip


async def _sources(conn: Any, ids: list[UUID]) -> list[SourceDoc]:
    docs = await repo.source_docs.list(conn, "id = ANY($1::uuid[])", ids)
    return [source_doc(d) for d in docs][:20]


async def write_request(conn: Any, agent: BrandAgent, *, card_id: UUID | None, topic: ManualTopic | None,
                        channels: list[ChannelRequest], seed: int, page: PageTopic | None = None,
                        page_doc: SourceDoc | None = None, voice: BrandVoice | None = None) -> WriteRequest:  # fmt: skip
    """Everything the writer pool needs for one package, read in one connection (a page's
    document, already stored, comes in as ``page_doc``: the first and only source; the brand's
    ``voice`` when the caller has read it already)."""
    brand_id = agent.brand_id
    card = await source_store.card(conn, brand_id, card_id) if card_id is not None else None
    sources = await _sources(conn, [r.global_source_doc_id for r in card.source_refs if r.global_source_doc_id]) if card else []
    if page_doc is not None:
        sources = [page_doc]
    templates = await pattern_store.templates_in_scope(conn, brand_id) + await pattern_store.templates_in_scope(conn, None)
    if not templates:
        raise Conflict("the brand has no pattern templates yet: mine its posts or a swipe file first",
                       details={"field": "templates"})  # fmt: skip
    history = [PriorVariant(id=str(i), channel=c, text=b[:2000]) for i, c, b in await store.recent_bodies(conn, brand_id, limit=HISTORY)]
    weights = dict(agent.preferences.pattern_weights) if agent.preferences else {}
    return WriteRequest(brand=voice or await brand_voice(conn, agent), runtime=agent.context, card=card, topic=topic,
                        page=page, sources=sources, templates=templates[:500], pattern_weights=weights, channels=channels,
                        history=history, seed=seed, max_attempts=MAX_ATTEMPTS)  # fmt: skip


async def call_writer(agent: BrandAgent, op: str, payload: Any) -> Any:
    """The writer pool's answer; an error the engine raised on purpose (wrapped by Ray on the
    way) is raised as itself. The brand's sources or brain holding too few facts for a core
    argument is the brand's state, not the request: a Conflict."""
    try:
        return await call_engine(agent.engines, "writer", op, payload)
    except Invalid as exc:
        if exc.details.get("field") == "sources":
            raise Conflict(exc.message, details=exc.details) from None
        raise


async def with_library_hooks(agent: BrandAgent, request: WriteRequest) -> WriteRequest:
    """The request with model openings from the hook library near its topic (the brand's own
    best hooks and the global ones, searched in the miner pool): the plans draw a hook from
    them where one fits. A library that cannot answer leaves the request without hooks and the
    writing goes on; it is logged, never the package's failure."""
    from agents.miner.service import search_hooks

    if request.card is not None:
        topic = request.card.angle_summary
    elif request.topic is not None:
        topic = request.topic.topic
    elif request.page is not None and request.sources:  # the page's title, else its lead
        topic = request.sources[0].title or request.sources[0].text[:400]
    else:
        topic = ""
    if not topic.strip():
        return request
    try:
        found = await search_hooks(agent.db, pooled(agent.engines, "miner"), topic, brand_id=agent.brand_id, k=HOOKS_PER_PACKAGE)
    except Exception as exc:  # the library is optional input: writing does not depend on it
        log.warning("writer.hooks_unavailable", error=f"{type(exc).__name__}: {exc}"[:300])
        return request
    hooks = [HookRef(id=m.hook.id, channel=m.hook.channel, text=m.hook.text[:2000],
                     engagement_rate=min(max(m.hook.engagement_rate, 0.0), 1.0), distance=max(m.distance, 0.0),
                     template_id=m.hook.template_id) for m in found]  # fmt: skip
    return request.model_copy(update={"hooks": hooks})


def _check_topic(asked: ManualTopic | PageTopic | None, brand: BrandVoice) -> None:
    """A topic's (or a page's) persona and pillar are the brand's; an unknown one is NotFound."""
    if asked is None:
        return
    if asked.persona_id is not None and asked.persona_id not in {p.id for p in brand.personas}:
        raise NotFound(f"persona {asked.persona_id} is not one of the brand's", details={"field": "persona_id"})
    if asked.pillar_id is not None and asked.pillar_id not in {p.id for p in brand.pillars}:
        raise NotFound(f"pillar {asked.pillar_id} is not one of the brand's", details={"field": "pillar_id"})


def _channel(ask: ChannelAsk) -> ChannelRequest:
    return ChannelRequest(channel=ask.channel, thread=ask.thread, variants=ask.variants, limit=ask.limit)


# -- views ------------------------------------------------------------------------------------


def view_of(stored: store.StoredPackage) -> PackageView:
    current = {v.id for v in current_variants(stored)}
    variants = [VariantView(variant=v, version=stored.variant_versions[v.id], current=v.id in current,
                            attempts=stored.attempts.get(v.id, 0), quality=stored.reports.get(v.id))
                for v in stored.variants]  # fmt: skip
    return PackageView(package=stored.package, version=stored.version, core_argument=stored.core_argument,
                       plans=stored.plans, variants=variants)  # fmt: skip


async def package_view(conn: Any, brand_id: UUID, package_id: UUID) -> PackageView:
    return view_of(await store.load_package(conn, brand_id, package_id))


# -- writing ----------------------------------------------------------------------------------


def _page_doc_id(request: WriteRequest) -> UUID | None:
    """The stored page a request writes about (its round records it)."""
    return request.sources[0].id if request.page is not None and request.sources else None


async def _fail(agent: BrandAgent, result: WriteResult, request: WriteRequest, *, package_id: UUID | None = None,
                round: str = "write", run_id: UUID | None = None) -> UpstreamFailure:  # fmt: skip
    session = failure_of(result, brand_id=agent.brand_id, opportunity_id=request.card.id if request.card else None,
                         generator=_generator_name(result), seed=request.seed, package_id=package_id, round=round)  # fmt: skip
    session = session.model_copy(update={"source_doc_id": _page_doc_id(request)})
    async with agent.write() as conn:
        await store.save_failure(conn, session)
        await agent._event(conn, EventType.ERROR, "generation_session", session.id, f"writing failed: {session.reason}",
                           {"round": round, "reason": session.reason}, run_id=run_id)  # fmt: skip
    log.warning("writer.failed", reason=session.reason, round=round)
    return UpstreamFailure(f"the text generator failed: {session.reason}",
                           details={"field": "generator", "reason": session.reason,
                                    "generation_session_id": str(session.id)})  # fmt: skip


def _generator_name(result: WriteResult) -> str:
    """The generator a failed result names (``generator <name>: <error>``)."""
    reason = result.reason or ""
    if reason.startswith("generator ") and ":" in reason:
        return reason.removeprefix("generator ").split(":", 1)[0] or "writer"
    return "writer"


async def write(agent: BrandAgent, command: WritePackage, *, run_id: UUID | None = None) -> PackageView:
    """Write and store one package; raises UpstreamFailure (after recording it) when the
    generator failed."""
    if sum(x is not None for x in (command.card_id, command.topic, command.page)) != 1:
        raise Invalid("a package starts from exactly one of card_id, topic or page", details={"field": "card_id"})
    topic = ManualTopic(**command.topic.model_dump()) if command.topic else None
    page = PageTopic(**command.page.model_dump()) if command.page else None
    voice = None
    if page is not None:  # a foreign persona or pillar is refused before anything is fetched
        async with agent.db.connection() as conn:
            voice = await brand_voice(conn, agent)
        _check_topic(page, voice)
    page_doc = await page_source(agent, command.page) if command.page else None
    if page is not None and (page.persona_id is None or page.pillar_id is None):
        persona_id, pillar_id = await page_focus(agent, page_doc.id)  # what the scout matches the page to
        page = page.model_copy(update={"persona_id": page.persona_id or persona_id,
                                       "pillar_id": page.pillar_id or pillar_id})  # fmt: skip
    async with agent.db.connection() as conn:
        request = await write_request(conn, agent, card_id=command.card_id, topic=topic, page=page, page_doc=page_doc,
                                      channels=[_channel(c) for c in command.channels], seed=command.seed,
                                      voice=voice)  # fmt: skip
    _check_topic(request.topic or request.page, request.brand)
    request = await with_library_hooks(agent, request)
    if request.card is not None:
        if request.card.persona_id is None or request.card.pillar_id is None:
            raise Conflict("a global card needs a persona and a pillar before it is written", details={"field": "card_id"})
        lifecycle.apply(request.card, "start", utcnow())  # a dismissed card is a Conflict before any writing
    result: WriteResult = await call_writer(agent, "write", request)
    if result.status != "written":
        raise await _fail(agent, result, request, run_id=run_id)
    records = records_of(result)
    records = records.model_copy(update={"session": records.session.model_copy(
        update={"source_doc_id": _page_doc_id(request)})})  # fmt: skip
    if any(v.status is VariantStatus.DRAFT for v in records.variants):  # something waits for a person
        records = records.model_copy(update={"package": records.package.model_copy(
            update={"status": PackageStatus.IN_REVIEW})})  # fmt: skip
    async with agent.write() as conn:
        if request.card is not None:
            changed = await conn.fetchval("SELECT updated_at FROM opportunity_cards WHERE id = $1 FOR UPDATE", request.card.id)
            if changed != request.card.updated_at:
                raise Conflict("the card changed while its package was written", details={"field": "card_id"})
        await store.save_written(conn, records)
        await agent._event(conn, EventType.PACKAGE_GENERATED, "package", records.package.id,
                           f"package written: {len(records.variants)} variants on {len(records.plans)} channels",
                           {"card_id": str(request.card.id) if request.card else None,
                            "source_doc_id": str(page_doc.id) if page_doc else None,
                            "passed": sum(v.status is VariantStatus.DRAFT for v in records.variants),
                            "rejected": sum(v.status is VariantStatus.REJECTED for v in records.variants),
                            "generator": records.session.generator}, run_id=run_id)  # fmt: skip
        return await package_view(conn, agent.brand_id, records.package.id)


def _live(package: ContentPackage) -> None:
    if package.status is PackageStatus.ARCHIVED:
        raise Conflict("the package was killed", details={"field": "package_id", "state": "archived"})


async def _load(agent: BrandAgent, package_id: UUID) -> store.StoredPackage:
    async with agent.db.connection() as conn:
        return await store.load_package(conn, agent.brand_id, package_id)


APPROVABLE = {PackageStatus.DRAFT, PackageStatus.IN_REVIEW}


async def _save_one(agent: BrandAgent, stored: store.StoredPackage, variant: ContentVariant, expected: int,
                    action: str, meta: dict[str, Any], event: Any = None) -> PackageView:  # fmt: skip
    """One variant saved at its version; an approval moves a package under review to
    ``approved`` (the publisher takes it on to ``scheduled`` and ``published``)."""
    async with agent.write() as conn:
        await store.lock_package(conn, agent.brand_id, stored.package.id)
        await store.save_variant(conn, variant, expected_version=expected)
        if variant.status is VariantStatus.APPROVED and stored.package.status in APPROVABLE:
            approved = stored.package.model_copy(update={"status": PackageStatus.APPROVED, "updated_at": utcnow()})
            await store.save_package(conn, approved, expected_version=stored.version)
        if event is not None:
            await store.record_feedback(conn, event)
        await agent._event(conn, EventType.FEEDBACK_RECORDED, "variant", variant.id, f"variant {action}",
                           {"action": action, "package_id": str(stored.package.id), **meta})  # fmt: skip
        return await package_view(conn, agent.brand_id, stored.package.id)


async def edit(agent: BrandAgent, command: EditVariant) -> PackageView:
    """A person's edit, re-checked by the platform gate in the writer pool; refused (Invalid,
    naming the gate's reasons) when the text breaks the channel's rules."""
    from agents.engines.writer import EditInput

    stored = await _load(agent, command.package_id)
    _live(stored.package)
    variant = stored.variant(command.variant_id)
    expect_version("variant", command.expected_version, stored.variant_versions[variant.id])
    settings = stored.plan_settings.get(variant.channel_plan_id)
    outcome = await call_writer(agent, "edit", EditInput(
        package=stored.package, variant=variant, text=command.text, brand=BrandRules.from_snapshot(agent.snapshot, brand_name=agent.brand.name),
        limit=settings.limit if settings else None, thread=settings.thread if settings else False,
        user_id=command.user_id))  # fmt: skip
    if not outcome.accepted:
        raise Invalid(f"the edit breaks the channel's rules: {', '.join(outcome.reasons)}",
                      details={"field": "text", "reasons": outcome.reasons, "length": outcome.report.length,
                               "limit": outcome.report.limit})  # fmt: skip
    distance = outcome.event.payload.edit_distance if outcome.event else None
    # The feedback event keeps both texts and the distance (its schema, seed 004); the event
    # log line carries the readable diff for a person looking at what changed.
    return await _save_one(agent, stored, outcome.variant, command.expected_version, "edited",
                           {"edit_distance": distance, "diff": (outcome.diff or "")[:DIFF_MAX]}, outcome.event)  # fmt: skip


async def review(agent: BrandAgent, command: ReviewVariant) -> PackageView:
    stored = await _load(agent, command.package_id)
    _live(stored.package)
    variant = stored.variant(command.variant_id)
    expect_version("variant", command.expected_version, stored.variant_versions[variant.id])
    decided = (approve_variant if command.action == "approve" else reject_variant)(stored.package, variant)
    return await _save_one(agent, stored, decided, command.expected_version, f"{command.action}d", {})


async def kill(agent: BrandAgent, command: KillPackage) -> PackageView:
    """The kill chain in one transaction: unedited variants rejected, edited ones kept as
    manual assets, the package archived."""
    stored = await _load(agent, command.package_id)
    _live(stored.package)
    expect_version("package", command.expected_version, stored.version)
    async with agent.db.connection() as conn:
        edited = {r["content_variant_id"] for r in await conn.fetch(
            "SELECT DISTINCT content_variant_id FROM feedback_events WHERE feedback_type = 'edit_applied'"
            " AND content_variant_id = ANY($1::uuid[])", [v.id for v in stored.variants])}  # fmt: skip
    plan = kill_package(stored.package, stored.variants, command.reason, edited)
    before = {v.id: v for v in stored.variants}
    changed = [v for v in plan.killed + plan.surviving
               if (v.status, v.origin) != (before[v.id].status, before[v.id].origin)]  # fmt: skip
    async with agent.write() as conn:
        await store.lock_package(conn, agent.brand_id, stored.package.id)
        for v in changed:  # variants first: the archived package refuses changes to its variants
            await store.save_variant(conn, v, expected_version=stored.variant_versions[v.id])
        await store.save_package(conn, plan.package, expected_version=command.expected_version)
        await agent._event(conn, EventType.FEEDBACK_RECORDED, "package", stored.package.id, "package killed",
                           {"action": "killed", "reason": plan.reason, "killed": len(plan.killed),
                            "surviving": [str(v.id) for v in plan.surviving]})  # fmt: skip
        return await package_view(conn, agent.brand_id, stored.package.id)


async def regenerate(agent: BrandAgent, command: RegenerateVariants) -> PackageView:
    """One variant or a whole channel again, in the writer pool, with another seed; the
    replaced variants become ``rejected`` and the new ones point at them."""
    from agents.engines.writer import RegenerateInput

    stored = await _load(agent, command.package_id)
    _live(stored.package)
    expect_version("package", command.expected_version, stored.version)
    if (command.variant_id is None) == (command.plan_id is None):
        raise Invalid("regenerate exactly one of variant_id or plan_id", details={"field": "variant_id"})
    written = written_of(stored)
    if command.variant_id is not None:
        variant = stored.variant(command.variant_id)
        if variant.id not in {c.variant.id for c in written.session.candidates}:
            raise Conflict("the variant was already replaced by a regeneration", details={"field": "variant_id"})
        plan_id, index = variant.channel_plan_id, stored.variant_index.get(variant.id, 0)
    else:
        plan_id, index = command.plan_id, None
        if plan_id not in {p.id for p in stored.plans}:
            raise NotFound(f"plan {plan_id} is not in this package", details={"field": "plan_id"})
    targets = [c.variant for c in written.session.candidates if c.plan_id == plan_id and (index is None or c.variant_index == index)]
    if any(v.status is VariantStatus.PUBLISHED for v in targets):
        raise Conflict("a published variant cannot be regenerated", details={"field": "variant_id"})
    request = await _request_for(agent, stored, written)
    result: WriteResult = await call_writer(agent, "regenerate", RegenerateInput(
        request=request, written=written, plan_id=plan_id, variant_index=index, seed=command.seed))  # fmt: skip
    if result.status != "written":
        raise await _fail(agent, result, request, package_id=stored.package.id, round="regenerate")
    replaced_ids = {v.id for v in targets}
    fresh = [c for c in result.session.candidates if c.variant.origin.source_variant_id in replaced_ids]
    records = records_of(result, candidates=fresh, round="regenerate")
    records = records.model_copy(update={"session": records.session.model_copy(
        update={"source_doc_id": _page_doc_id(request)})})  # fmt: skip
    now = utcnow()
    replaced = [v.model_copy(update={"status": VariantStatus.REJECTED, "updated_at": now}) for v in targets
                if v.status is not VariantStatus.REJECTED]  # fmt: skip
    async with agent.write() as conn:
        await store.lock_package(conn, agent.brand_id, stored.package.id)
        await store.save_regenerated(conn, records, replaced, stored.variant_versions)
        await store.save_package(conn, stored.package.model_copy(update={"updated_at": now}),
                                 expected_version=command.expected_version)  # fmt: skip
        await agent._event(conn, EventType.PACKAGE_GENERATED, "package", stored.package.id,
                           f"regenerated {len(fresh)} variants", {"round": "regenerate", "plan_id": str(plan_id),
                                                                 "replaced": [str(i) for i in replaced_ids]})  # fmt: skip
        return await package_view(conn, agent.brand_id, stored.package.id)


async def _request_for(agent: BrandAgent, stored: store.StoredPackage, written: WriteResult) -> WriteRequest:
    """The write request a stored package was written from, rebuilt (same card or topic,
    same channels and settings)."""
    package, argument = stored.package, stored.core_argument
    topic = page = page_doc = None
    channels = [ChannelRequest(channel=d.plan.channel, thread=d.thread, limit=d.limit,
                               variants=d.plan.pattern_bindings[0].target_variants) for d in written.plans]  # fmt: skip
    async with agent.db.connection() as conn:
        if package.origin_type is not OriginType.OPPORTUNITY:
            doc_id = await store.page_source(conn, package.id)
            docs = await repo.source_docs.list(conn, "id = $1", doc_id) if doc_id else []
            if docs:  # written about a page: grounded on the same page again
                page_doc = source_doc(docs[0])
                page = PageTopic(url=docs[0].source_url or package.origin_note or "page", persona_id=argument.persona_id,
                                 pillar_id=argument.pillar_id)  # fmt: skip
            else:
                topic = ManualTopic(topic=package.origin_note or argument.thesis[:400], persona_id=argument.persona_id,
                                    pillar_id=argument.pillar_id)  # fmt: skip
        request = await write_request(conn, agent, card_id=package.opportunity_id, topic=topic, channels=channels,
                                      seed=written.session.seed, page=page, page_doc=page_doc)  # fmt: skip
    return await with_library_hooks(agent, request)


# -- the autonomous cycle's creating phase ----------------------------------------------------


async def create(agent: BrandAgent, run_id: UUID, channels: list[ChannelAsk] | None = None) -> str | None:
    """Write a package for the brand's best new card (pinned first) on its primary channels;
    its variants wait for a person's approval (no brand auto-approves yet). A note for the
    run's summary, None when there was no new card."""
    async with agent.db.connection() as conn:
        cards = await source_store.brand_cards(conn, agent.brand_id, states=[OpportunityState.NEW], limit=20)
    cards = sorted(cards, key=lambda c: (not c.pinned, -c.score))
    if not cards:
        return None
    asks = channels or [ChannelAsk(channel=c) for c in agent.brand.primary_channels[:3]]
    try:
        view = await write(agent, WritePackage(card_id=cards[0].id, channels=asks), run_id=run_id)
    except ActivationLost:
        raise
    except (UpstreamFailure, Conflict, Invalid, NotFound) as exc:  # the brand is not ready to write: a note, not an error
        return f"creating: {exc.message}"
    passed = sum(v.variant.status is VariantStatus.DRAFT for v in view.variants)
    return f"creating: package {view.package.id} with {passed}/{len(view.variants)} variants awaiting approval"


__all__ = ["PackageView", "VariantView", "create", "edit", "kill", "package_view", "regenerate", "review",
           "view_of", "write", "write_request"]
