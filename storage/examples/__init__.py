"""The example objects of seed 000, mapped onto the canonical model.

The seed's examples are kept verbatim in ``seed000_examples.json``. Where an example breaks a
MUST of its own object, the MUST wins (see docs/data-model.md, "Seed examples"):

* ids are UUIDs: an example id such as ``b_123`` becomes ``uuid5(EXAMPLES_NAMESPACE, "b_123")``,
  the same everywhere it is referenced (fields named ``id``/``*_id``/``*_ids`` and the id keys of
  ``pattern_weights``, ``pattern_stats`` and ``persona_pillar_bias``);
* a required field an example leaves out takes its documented default (a card without
  ``lifecycle_state`` is ``new``; a brand and a user belong to the example org);
* objects an example references but the seed never shows are supplied here, marked
  ``supporting``: the org, the ``pillar_bts`` pillar, snapshots v1 and v2 before ``bbs_3``, the
  ``chp_100_x`` channel plan, the ``opp_502`` card;
* the memory fragment's ``"embedding": "[..vector..]"`` placeholder is dropped: the memory
  store computes the real vector.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from uuid import UUID, uuid5

from storage.objects import (
    Brand,
    BrandBrainSnapshot,
    BrandMembership,
    BrandPreferences,
    BrandRuntimeContext,
    ChannelConfig,
    ChannelPlan,
    ContentPackage,
    ContentVariant,
    CoreArgument,
    FeedbackEvent,
    GlobalPriors,
    GlobalSourceDoc,
    OpportunityBatch,
    OpportunityCard,
    Org,
    PatternSourcePost,
    PatternTemplate,
    PatternUsage,
    Persona,
    Pillar,
    PublishingJob,
    User,
)

EXAMPLES_NAMESPACE = UUID("6b616972-6f00-4000-8000-000000000000")
_ID_KEYED_MAPS = {"pattern_weights", "pattern_stats"}


def example_uuid(example_id: str) -> UUID:
    """The UUID an example id maps to (stable across runs and machines)."""
    return uuid5(EXAMPLES_NAMESPACE, example_id)


def map_example_ids(data: Any, key: str | None = None) -> Any:
    """Replace every example id inside ``data`` by its UUID."""
    if isinstance(data, dict):
        if key in _ID_KEYED_MAPS:
            return {str(example_uuid(k)): map_example_ids(v) for k, v in data.items()}
        if key == "persona_pillar_bias":
            return {
                "::".join(str(example_uuid(part)) for part in k.split("::")): v for k, v in data.items()
            }
        return {k: map_example_ids(v, k) for k, v in data.items()}
    if isinstance(data, list):
        return [map_example_ids(v, key) for v in data]
    if isinstance(data, str) and key is not None and (key == "id" or key.endswith(("_id", "_ids"))):
        return str(example_uuid(data))
    return data


def raw_examples() -> dict[str, dict[str, Any]]:
    """The seed's examples exactly as written, keyed by CO id."""
    text = (resources.files("storage.examples") / "seed000_examples.json").read_text()
    return {co: entry["example"] for co, entry in json.loads(text).items()}


@dataclass
class SeedExamples:
    """Every example object of seed 000 plus the supporting objects they reference."""

    org: Org
    user: User
    brand: Brand
    membership: BrandMembership
    persona: Persona
    pillars: list[Pillar]
    snapshots: list[BrandBrainSnapshot]
    runtime_context: BrandRuntimeContext
    memory_fragment: dict[str, Any]
    source_doc: GlobalSourceDoc
    opportunity_cards: list[OpportunityCard]
    opportunity_batch: OpportunityBatch
    pattern_source_post: PatternSourcePost
    pattern_templates: list[PatternTemplate]
    package: ContentPackage
    core_argument: CoreArgument
    channel_plans: list[ChannelPlan]
    variant: ContentVariant
    pattern_usage: PatternUsage
    feedback_event: FeedbackEvent
    preferences: BrandPreferences
    global_priors: GlobalPriors
    channel_config: ChannelConfig
    publishing_job: PublishingJob
    by_co: dict[str, Any] = field(default_factory=dict)


def _derive(obj: Any, **update: Any) -> Any:
    """A validated copy of ``obj`` with ``update`` applied (model_copy skips validation)."""
    return type(obj).model_validate({**obj.model_dump(), **update})


def load_seed_examples() -> SeedExamples:
    raw = {co: map_example_ids(example) for co, example in raw_examples().items()}
    org = Org(id=example_uuid("org_acme"), name="Acme Agency", slug="acme-agency",
              created_at="2025-01-01T08:00:00Z")
    user = User.model_validate({**raw["CO-04"], "org_id": org.id})
    brand = Brand.model_validate({**raw["CO-01"], "org_id": org.id})
    membership = BrandMembership(id=example_uuid("membership_u_1_b_123"), brand_id=brand.id, user_id=user.id,
                                 role=user.role, created_at=brand.created_at)
    persona = Persona.model_validate(raw["CO-02"])
    pillar_strategy = Pillar.model_validate(raw["CO-03"])
    pillar_bts = Pillar(  # supporting: referenced by bbs_3, named in CO-03's MUSTs
        id=example_uuid("pillar_bts"), brand_id=brand.id, name="Behind the Scenes",
        description="How the team actually works: tools, rituals, mistakes and fixes.",
        created_at="2025-01-01T10:11:00Z", updated_at="2025-01-01T10:11:00Z",
    )
    snapshot_3 = BrandBrainSnapshot.model_validate(raw["CO-05"])
    earlier = [  # supporting: bbs_3 is version 3, so versions 1 and 2 came first
        _derive(snapshot_3, **{"id": example_uuid(f"bbs_{v}"), "version": v,
                                      "created_at": snapshot_3.created_at.replace(month=1, day=v)})
        for v in (1, 2)
    ]
    fragment = {k: v for k, v in raw["CO-07"].items() if k != "embedding"}
    card = OpportunityCard.model_validate(raw["CO-09"])
    card_2 = _derive(card, **{  # supporting: opp_502 is listed in the batch
        "id": example_uuid("opp_502"), "opportunity_type": "evergreen", "score": 64.0,
        "angle_summary": "A checklist for auditing your attribution model before the next board meeting.",
        "created_at": card.created_at.replace(minute=31), "updated_at": card.created_at.replace(minute=31),
    })
    plan_lk = ChannelPlan.model_validate(raw["CO-16"])
    plan_x = _derive(plan_lk, **{  # supporting: the package's second plan
        "id": example_uuid("chp_100_x"), "channel": "x",
        "pattern_bindings": [{
            "pattern_template_id": example_uuid("pt_listicle_1"), "target_variants": 1,
            "beats": {"hook": "One number the board actually asks about", "list": "Three pipeline charts that matter",
                      "cta": "Reply with the chart you'd add"},
        }],
    })
    template = PatternTemplate.model_validate(raw["CO-12"])
    listicle = PatternTemplate(  # supporting: weighted in CO-19 and CO-20, used by chp_100_x
        id=example_uuid("pt_listicle_1"), name="Numbered list → takeaway", channel_constraints=["*"],
        structure=["hook", "list", "cta"], example_source_post_ids=[example_uuid("psp_77")], status="active",
    )
    examples = SeedExamples(
        org=org,
        user=user,
        brand=brand,
        membership=membership,
        persona=persona,
        pillars=[pillar_strategy, pillar_bts],
        snapshots=[*earlier, snapshot_3],
        runtime_context=BrandRuntimeContext.model_validate(raw["CO-06"]),
        memory_fragment=fragment,
        source_doc=GlobalSourceDoc.model_validate(raw["CO-08"]),
        opportunity_cards=[card, card_2],
        opportunity_batch=OpportunityBatch.model_validate(raw["CO-10"]),
        pattern_source_post=PatternSourcePost.model_validate(raw["CO-11"]),
        pattern_templates=[template, listicle],
        package=ContentPackage.model_validate(raw["CO-14"]),
        core_argument=CoreArgument.model_validate(raw["CO-15"]),
        channel_plans=[plan_lk, plan_x],
        variant=ContentVariant.model_validate(raw["CO-17"]),
        pattern_usage=PatternUsage.model_validate(raw["CO-13"]),
        feedback_event=FeedbackEvent.model_validate(raw["CO-18"]),
        preferences=BrandPreferences.model_validate(raw["CO-19"]),
        global_priors=GlobalPriors.model_validate(raw["CO-20"]),
        channel_config=ChannelConfig.model_validate(raw["CO-21"]),
        publishing_job=PublishingJob.model_validate(raw["CO-22"]),
    )
    examples.by_co = {
        "CO-01": examples.brand, "CO-02": persona, "CO-03": pillar_strategy, "CO-04": user,
        "CO-05": snapshot_3, "CO-06": examples.runtime_context, "CO-07": fragment,
        "CO-08": examples.source_doc, "CO-09": card, "CO-10": examples.opportunity_batch,
        "CO-11": examples.pattern_source_post, "CO-12": template, "CO-13": examples.pattern_usage,
        "CO-14": examples.package, "CO-15": examples.core_argument, "CO-16": plan_lk,
        "CO-17": examples.variant, "CO-18": examples.feedback_event, "CO-19": examples.preferences,
        "CO-20": examples.global_priors, "CO-21": examples.channel_config, "CO-22": examples.publishing_job,
    }  # fmt: skip
    return examples
