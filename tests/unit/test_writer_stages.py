"""The writer's stages as pure logic: the extractive core argument, plan choice by pattern
weights and channel constraints, knobs only from the runtime context, a manual topic, a
failing generator, and review (edit, approve, kill chain)."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import pytest

from agents.gates import BrandRules, run_gates
from agents.writer import ChannelRequest, GenerationError, ManualTopic, write_package
from agents.writer.argument import claim_of_card
from agents.writer.planning import choose_template, plan_beats
from agents.writer.review import (
    approve_variant,
    edit_distance,
    edit_variant,
    kill_package,
    reject_variant,
)
from agents.writer.text import sentences, words
from storage.errors import Conflict, Invalid, NotFound
from storage.objects import (
    Channel,
    ChannelOverride,
    LengthMode,
    PackageStatus,
    VariantStatus,
)
from tests.data.writer.corpus import requests, templates, uid, written


def _norm(text: str) -> str:
    return " ".join(words(text))


def test_the_core_argument_is_extracted_from_the_card_and_its_source():
    for req, res in written():
        arg = res.core_argument
        source = " ".join(_norm(s) for d in req.sources for s in sentences(d.text))
        memory = " ".join(_norm(m) for m in req.brand.memory) + _norm(req.brand.snapshot.positioning)
        assert 3 <= len(arg.supporting_points) <= 7
        for point in arg.supporting_points:
            assert _norm(point) in source or _norm(point) in memory, point
        assert _norm(arg.thesis) == _norm(claim_of_card(req.card.angle_summary, None))
        assert (arg.persona_id, arg.pillar_id) == (req.card.persona_id, req.card.pillar_id)
        assert res.package.core_argument_id == arg.id


def test_the_claim_is_the_angle_without_the_scouts_prefix():
    assert claim_of_card("Marketing attribution: Last-click misses podcasts", "Marketing attribution") == (
        "Last-click misses podcasts")
    assert claim_of_card("Sourcing · Bluebird Roasters: Bluebird publishes prices", "Sourcing") == "Bluebird publishes prices"
    assert claim_of_card("No prefix here at all", "Sourcing") == "No prefix here at all"


def test_the_template_follows_the_weights_the_channel_and_never_a_deprecated_one():
    tpl = templates()
    by_key = {t.name: t for t in tpl}
    assert all(choose_template(tpl, ch, {}).status != "deprecated" for ch in Channel)
    for ch in Channel:
        chosen = choose_template(tpl, ch, {})
        assert chosen.allows(ch)
    story = next(t for t in tpl if t.name.startswith("Story"))
    assert choose_template(tpl, Channel.LINKEDIN, {story.id: 10.0}).id == story.id
    assert choose_template(tpl, Channel.X, {story.id: 10.0}).id != story.id  # story does not allow X
    with pytest.raises(Invalid):
        choose_template([by_key["Story hook → context → turning point → lesson → CTA"]], Channel.X, {})


def test_a_tight_channel_keeps_the_hook_and_the_cta_and_drops_context_first():
    structure = ["hook_story", "context", "turning_point", "lesson", "cta_plain"]
    assert plan_beats(structure, 1) == ["hook_story", "lesson", "cta_plain"]
    assert plan_beats(structure, 2) == ["hook_story", "turning_point", "lesson", "cta_plain"]
    assert plan_beats(structure, 5) == structure


def test_length_and_risk_come_only_from_the_runtime_context():
    req = requests()[0]
    linkedin = Channel.LINKEDIN
    knobs = req.runtime.channel_overrides[linkedin]

    def with_mode(mode: LengthMode):
        overrides = dict(req.runtime.channel_overrides)
        overrides[linkedin] = ChannelOverride(tone_bias=knobs.tone_bias, length_mode=mode, risk_mode=knobs.risk_mode)
        runtime = req.runtime.model_copy(update={"channel_overrides": overrides})
        one = [ChannelRequest(channel=linkedin, variants=1)]  # one variant: the argument is all its own
        return asyncio.run(write_package(req.model_copy(update={"runtime": runtime, "channels": one}), _composer(), run_gates))

    short, long = with_mode(LengthMode.SHORT), with_mode(LengthMode.LONG)
    plan = lambda r: next(p for p in r.plans if p.plan.channel is linkedin)
    assert plan(short).budget < plan(long).budget
    assert plan(short).knobs.length_mode == "short" and plan(long).knobs.length_mode == "long"
    body = lambda r: next(c.variant.body for c in r.session.candidates if c.channel is linkedin)
    assert len(body(short)) < len(body(long))


def _composer():
    from agents.writer import Composer

    return Composer()


def test_a_manual_topic_becomes_a_manual_package():
    req = requests()[0]
    voice = req.brand
    topic = ManualTopic(topic="Why a tracking plan is a contract between marketing and engineering",
                        notes=req.sources[0].text, persona_id=voice.personas[0].id, pillar_id=voice.pillars[1].id)
    res = asyncio.run(write_package(req.model_copy(update={"card": None, "topic": topic}), _composer(), run_gates))
    assert res.status == "written" and res.card is None
    assert res.package.origin_type == "manual" and res.package.opportunity_id is None
    assert res.core_argument.pillar_id == voice.pillars[1].id


def test_a_failing_generator_leaves_a_failed_result_and_nothing_half_built():
    class Broken:
        name = "broken"
        calls = 0

        async def generate(self, request):
            Broken.calls += 1
            if Broken.calls > 1:
                raise GenerationError("server_error", "500 from the model server")
            return _composer().compose(request)

    res = asyncio.run(write_package(requests()[0], Broken(), run_gates))
    assert res.status == "failed" and "server_error" in res.reason
    assert res.package is None and res.session is None and res.plans == [] and res.card is None


def test_an_edit_is_measured_and_rechecked_by_the_platform_gate():
    req, res = written()[0]
    package = res.package
    variant = next(c.variant for c in res.session.candidates if c.channel is Channel.X and c.passed)
    rules = BrandRules.from_snapshot(req.brand.snapshot)
    edited = variant.body.replace("\n\n", "\n", 1)
    ok = asyncio.run(edit_variant(package, variant, edited, brand=rules))
    assert ok.accepted and ok.variant.status is VariantStatus.EDITED
    assert ok.event.feedback_type == "edit_applied"
    assert ok.event.payload.edit_distance == pytest.approx(edit_distance(variant.body, edited))
    assert 0 < ok.event.payload.edit_distance < 0.05 and ok.diff.startswith("--- original")
    refused = asyncio.run(edit_variant(package, variant, variant.body + " " + "More words here. " * 30, brand=rules))
    assert not refused.accepted and "over_length" in refused.reasons and refused.variant == variant
    with pytest.raises(Invalid):
        asyncio.run(edit_variant(package, variant, variant.body, brand=rules))


def test_edit_distance_is_normalized():
    assert edit_distance("abc", "abc") == 0
    assert edit_distance("abc", "xyz") == 1
    assert 0 < edit_distance("the post", "the posts") < 0.2


def test_the_kill_chain_keeps_edited_variants_as_manual_assets():
    _, res = written()[1]
    package = res.package
    variants = [c.variant for c in res.session.candidates]
    edited = variants[0].model_copy(update={"status": VariantStatus.EDITED})
    approved_after_edit = approve_variant(package, variants[1])
    plan = kill_package(package, [edited, approved_after_edit, *variants[2:]], "campaign cancelled",
                        edited_ids={approved_after_edit.id})
    assert plan.package.status is PackageStatus.ARCHIVED
    assert {v.id for v in plan.surviving} == {edited.id, approved_after_edit.id}
    assert all(v.origin.generated_by == "manual" for v in plan.surviving)
    assert {v.id for v in plan.killed} == {v.id for v in variants[2:]}
    assert all(v.status is VariantStatus.REJECTED for v in plan.killed)
    with pytest.raises(Conflict):
        kill_package(plan.package, variants, "again")
    with pytest.raises(Conflict):
        asyncio.run(edit_variant(plan.package, edited, edited.body + " Yes."))
    with pytest.raises(Conflict):
        approve_variant(plan.package, variants[2])


def test_review_refuses_what_its_state_does_not_allow():
    _, res = written()[2]
    package, variant = res.package, res.session.candidates[0].variant
    rejected = reject_variant(package, variant)
    with pytest.raises(Conflict):
        approve_variant(package, rejected)
    from agents.writer.review import find_variant

    with pytest.raises(NotFound):
        find_variant([variant], uuid4())
    other = written()[3][1].package
    with pytest.raises(NotFound):
        asyncio.run(edit_variant(other, variant, variant.body + " Yes."))


def test_the_engine_runs_write_through_dispatch():
    from agents.engines import ContentWriter, dispatch

    req = requests()[5]
    result = asyncio.run(dispatch(ContentWriter(), "write", req.model_dump(mode="json")))
    assert result.status == "written" and result.package.brand_id == req.brand.snapshot.brand_id
    assert result.card.id == uid("card", "fern-src-1") or result.card.id == req.card.id


def test_one_variant_or_a_whole_channel_is_regenerated_and_points_at_what_it_replaces():
    from agents.writer.pipeline import regenerate

    req, res = written()[4]
    plan = res.plans[0].plan
    old = {c.variant_index: c.variant for c in res.session.candidates if c.plan_id == plan.id}
    one = asyncio.run(regenerate(req, res, plan.id, _composer(), run_gates, variant_index=1, seed=11))
    new = {c.variant_index: c.variant for c in one.session.candidates if c.plan_id == plan.id}
    assert new[0] == old[0]
    assert new[1].id != old[1].id and new[1].origin.source_variant_id == old[1].id
    assert len(one.session.candidates) == len(res.session.candidates)
    whole = asyncio.run(regenerate(req, res, plan.id, _composer(), run_gates, seed=12))
    assert all(c.variant.origin.source_variant_id == old[c.variant_index].id
               for c in whole.session.candidates if c.plan_id == plan.id)
    with pytest.raises(NotFound):
        asyncio.run(regenerate(req, res, uuid4(), _composer(), run_gates))
    killed = res.model_copy(update={"package": res.package.model_copy(update={"status": PackageStatus.ARCHIVED})})
    with pytest.raises(Conflict):
        asyncio.run(regenerate(req, killed, plan.id, _composer(), run_gates))
