"""Stage 2: one ChannelPlan per requested channel.

The pattern: among the templates the channel's constraints allow (deprecated ones never),
the one with the best ``weight × predicted rate × evidence`` - the brand's ``pattern_weights``
(learned by the learner; 1 when it has none), the template's engagement rate shrunk towards
the channel norm by how much evidence it has (the G7 gate's estimate, so plan and gate agree),
and ``1 + log(1 + evidence posts)``, so a structure seen in many posts beats a lucky one.

The beats: the template's structure, with the body cut to the number of points the channel's
length mode allows (``data/lengths.json``; body beats dropped in ``data/beats.json``'s
``drop_order``), hook first and call to action last kept. Each beat is bound to a note of what
it asks; the hook's note names a model opening from the hook library when one is near the topic.

Length and risk come only from the BrandRuntimeContext's channel override.
"""

from __future__ import annotations

import math
import re
from uuid import UUID

from agents.gates import CHANNEL_LIMITS
from agents.gates.engagement import predicted_rate
from agents.gates.rules import load_json as gate_json
from storage.errors import Invalid
from storage.objects import (
    BrandRuntimeContext,
    Channel,
    ChannelPlan,
    LengthMode,
    PatternBinding,
    PatternStatus,
    PatternTemplate,
    RiskMode,
)

from .models import ChannelRequest, HookRef, Knobs, PlanDraft
from .text import load_json

HOOK_MAX_DISTANCE = 0.6
NOTE_MAX = 500
_SUFFIX = re.compile(r"_\d+$")


def kind_of(beat: str) -> str:
    """A structure's beat name without the miner's repeat suffix (``evidence_2`` → ``evidence``)."""
    return _SUFFIX.sub("", beat)


def family_of(beat: str) -> str:
    kind = kind_of(beat)
    return "hook" if kind.startswith("hook_") else "cta" if kind.startswith("cta_") else "list" if kind == "list_item" else "body"


def knobs_for(runtime: BrandRuntimeContext, channel: Channel) -> Knobs:
    """The channel's knobs; a channel without an override takes the first one's (never defaults
    invented here)."""
    override = runtime.channel_overrides.get(channel) or next(iter(runtime.channel_overrides.values()))
    return Knobs(length_mode=override.length_mode, risk_mode=override.risk_mode, tone_bias=dict(override.tone_bias))


def length_spec(channel: Channel, thread: bool, mode: LengthMode) -> dict[str, float]:
    key = "x_thread" if channel is Channel.X and thread else channel.value
    return load_json("lengths.json")["channels"][key][mode.value]


def budget_for(channel: Channel, thread: bool, mode: LengthMode, limit: int | None) -> int:
    base = limit or CHANNEL_LIMITS[channel]
    return max(40, int(base * length_spec(channel, thread, mode)["budget"]))


def template_score(template: PatternTemplate, channel: Channel, weights: dict[UUID, float]) -> float:
    stats = template.usage_stats
    prior = gate_json("engagement.json")["default_rate"][channel.value]
    pseudo = gate_json("engagement.json")["pseudo_uses"]
    rate = predicted_rate(stats.avg_engagement_rate, stats.evidence_posts, prior, pseudo)
    return weights.get(template.id, 1.0) * rate * (1.0 + math.log1p(stats.evidence_posts))


def choose_template(templates: list[PatternTemplate], channel: Channel, weights: dict[UUID, float]) -> PatternTemplate:
    usable = [t for t in templates if t.allows(channel) and t.status is not PatternStatus.DEPRECATED]
    if not usable:
        raise Invalid(f"no pattern template allows {channel.value}", details={"field": "templates"})
    return max(usable, key=lambda t: (template_score(t, channel, weights), str(t.id)))


def plan_beats(structure: list[str], max_points: int) -> list[str]:
    """The template's beats cut to ``max_points`` body beats (hook and CTA always kept)."""
    body = [b for b in structure if family_of(b) in ("body", "list")]
    drop_order = load_json("beats.json")["drop_order"]
    dropped: set[str] = set()
    while len(body) - len(dropped) > max(1, max_points):
        remaining = [b for b in body if b not in dropped]
        ranked = sorted(remaining, key=lambda b: (drop_order.index(kind_of(b)) if kind_of(b) in drop_order
                                                  else len(drop_order), -remaining.index(b)))  # fmt: skip
        dropped.add(ranked[0])
    kept = [b for b in structure if b not in dropped]
    if family_of(kept[0]) != "hook":
        kept = ["hook_announcement", *kept] if "hook_announcement" not in kept else kept
    return kept


def choose_hook(hooks: list[HookRef], channel: Channel, template: PatternTemplate) -> HookRef | None:
    near = [h for h in hooks if h.distance <= HOOK_MAX_DISTANCE]
    if not near:
        return None
    return max(near, key=lambda h: (h.template_id == template.id, h.channel is channel,
                                    h.engagement_rate * (1 - h.distance), str(h.id)))  # fmt: skip


def _note(beat: str, hook: HookRef | None) -> str:
    note = load_json("beats.json")["notes"].get(kind_of(beat), "one step of the argument")
    if hook is not None and family_of(beat) == "hook":
        model = " ".join(hook.text.split())[:300]
        note = f"{note}; a strong opening on this topic was: {model}"
    return note[:NOTE_MAX]


def plan_channel(
    *,
    package_id: UUID,
    snapshot_id: UUID,
    request: ChannelRequest,
    runtime: BrandRuntimeContext,
    templates: list[PatternTemplate],
    weights: dict[UUID, float],
    hooks: list[HookRef],
    claims: int | None = None,
    brand_lines: int = 0,
) -> PlanDraft:
    """The plan of one channel. ``claims`` (thesis and points, one of them the variant's
    opening) and the brand's memory lines cap the body beats, so each variant can say its
    beats with facts of its own instead of repeating another variant's."""
    knobs = knobs_for(runtime, request.channel)
    thread = request.thread and request.channel is Channel.X
    spec = length_spec(request.channel, thread, knobs.length_mode)
    template = choose_template(templates, request.channel, weights)
    points = int(spec["points"]) if claims is None else min(int(spec["points"]), max(1, claims // request.variants - 1 + min(1, brand_lines)))
    beats = plan_beats(list(template.structure), points)
    hook = choose_hook(hooks, request.channel, template)
    binding = PatternBinding(pattern_template_id=template.id, beats={b: _note(b, hook) for b in beats},
                             target_variants=request.variants)  # fmt: skip
    plan = ChannelPlan(content_package_id=package_id, channel=request.channel, brand_brain_snapshot_id=snapshot_id,
                       pattern_bindings=[binding])  # fmt: skip
    return PlanDraft(plan=plan, thread=thread, limit=request.limit, knobs=knobs,
                     budget=budget_for(request.channel, thread, knobs.length_mode, request.limit),
                     hook_id=hook.id if hook else None)  # fmt: skip


def risk_allows(risk: RiskMode, needed: str) -> bool:
    order = [RiskMode.SAFE, RiskMode.BALANCED, RiskMode.SPICY]
    return order.index(risk) >= order.index(RiskMode(needed))


__all__ = ["budget_for", "choose_hook", "choose_template", "family_of", "kind_of", "knobs_for", "length_spec",
           "plan_beats", "plan_channel", "risk_allows", "template_score"]
