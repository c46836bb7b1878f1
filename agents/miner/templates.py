"""From clusters to PatternTemplates, merged into the templates mined before.

A cluster of posts becomes a template when it has ``min_evidence`` posts, unless an existing
template of the same scope (the brand, or global) has a structure within the distance threshold:
then the cluster merges into it (new posts added to its evidence, stats updated exactly), so
mining the same posts again changes nothing and never duplicates a template. Evidence only
grows, and a post counts for one template only: a post some template already holds stays with
it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from uuid import UUID

from storage.objects import Channel, PatternSourcePost, PatternTemplate, UsageStats

from .naming import signature_of_structure, structure_of, template_name
from .signature import SequenceDistance, Signature
from .stats import EngagementStats
from .taxonomy import Taxonomy


@dataclass
class PostCluster:
    """Posts that share (nearly) one structure, before they become or join a template."""

    medoid: Signature
    posts: list[PatternSourcePost] = field(default_factory=list)


def evidence_stats(template: PatternTemplate) -> EngagementStats:
    u = template.usage_stats
    spread = u.engagement_rate_spread or 0.0
    return EngagementStats(
        posts=u.evidence_posts, measured=u.evidence_measured, impressions=u.evidence_impressions,
        engagements=u.evidence_engagements, variance=spread * spread,
    )


def with_evidence(stats: UsageStats, evidence: EngagementStats) -> UsageStats:
    return stats.model_copy(update={
        "avg_engagement_rate": evidence.mean,
        "engagement_rate_spread": evidence.spread,
        "evidence_posts": evidence.posts,
        "evidence_measured": evidence.measured,
        "evidence_impressions": evidence.impressions,
        "evidence_engagements": evidence.engagements,
    })


def _stats_of(posts: Sequence[PatternSourcePost]) -> EngagementStats:
    total = EngagementStats()
    for post in posts:
        total = total + EngagementStats.of_post(post.impressions, post.engagements)
    return total


def _channels(existing: Sequence[Channel | str], posts: Sequence[PatternSourcePost]) -> list[Channel]:
    found = {Channel(c) for c in existing if c != "*"} | {Channel(p.channel) for p in posts}
    return sorted(found, key=lambda c: c.value)


@dataclass(frozen=True)
class TemplateChange:
    template: PatternTemplate
    action: str  # created | updated | unchanged
    added_post_ids: tuple[UUID, ...]


class TemplateMerger:
    """Turns clusters into template changes against the existing templates of one scope."""

    def __init__(self, taxonomy: Taxonomy, distance: SequenceDistance, *, threshold: float, min_evidence: int) -> None:
        self.taxonomy = taxonomy
        self.distance = distance
        self.threshold = threshold
        self.min_evidence = min_evidence

    def nearest(self, signature: Signature, templates: Sequence[PatternTemplate]) -> tuple[PatternTemplate | None, float]:
        """The template nearest to ``signature`` within the threshold, and its distance. A stored
        structure lists each beat once without counts, so counts are dropped on both sides."""
        signature = tuple((kind, 1) for kind, _ in signature)
        best, best_d = None, float("inf")
        for template in templates:
            d = self.distance(signature, signature_of_structure(template.structure, self.taxonomy))
            if d < best_d or (d == best_d and best is not None and str(template.id) < str(best.id)):
                best, best_d = template, d
        return (best, best_d) if best is not None and best_d <= self.threshold else (None, best_d)

    def merge(
        self,
        clusters: Sequence[PostCluster],
        existing: Sequence[PatternTemplate],
        *,
        brand_id: UUID | None,
        now: datetime,
    ) -> tuple[list[TemplateChange], dict[UUID, UUID | None]]:
        """Template changes and each post's template (None: its cluster had too little evidence)."""
        current: dict[UUID, PatternTemplate] = {t.id: t for t in existing}
        # A post already counted by a template stays that template's evidence, whichever
        # template its cluster is nearest to now: evidence is never counted twice.
        holder = {post_id: t.id for t in existing for post_id in t.example_source_post_ids}
        added: dict[UUID, list[UUID]] = {}
        created: set[UUID] = set()
        assignment: dict[UUID, UUID | None] = {}
        for cluster in clusters:
            assignment.update({p.id: holder[p.id] for p in cluster.posts if p.id in holder})
            posts = [p for p in cluster.posts if p.id not in holder]
            if not posts:
                continue
            cluster = PostCluster(medoid=cluster.medoid, posts=posts)
            target, _ = self.nearest(cluster.medoid, list(current.values()))
            if target is None:
                if len(cluster.posts) < self.min_evidence:
                    assignment.update({p.id: None for p in cluster.posts})
                    continue
                target = PatternTemplate(
                    brand_id=brand_id,
                    name=template_name(cluster.medoid, self.taxonomy),
                    channel_constraints=_channels([], cluster.posts),
                    structure=structure_of(cluster.medoid),
                    example_source_post_ids=[p.id for p in cluster.posts],
                    usage_stats=with_evidence(UsageStats(), _stats_of(cluster.posts)),
                    created_at=now,
                    updated_at=now,
                )
                created.add(target.id)
                current[target.id] = target
                added[target.id] = [p.id for p in cluster.posts]
            else:
                known = set(target.example_source_post_ids)
                fresh = [p for p in cluster.posts if p.id not in known]
                if fresh:
                    target = target.model_copy(update={
                        "example_source_post_ids": [*target.example_source_post_ids, *(p.id for p in fresh)],
                        "channel_constraints": _channels(target.channel_constraints, fresh)
                        if target.channel_constraints != ["*"] else ["*"],
                        "usage_stats": with_evidence(target.usage_stats, evidence_stats(target) + _stats_of(fresh)),
                        "updated_at": max(now, target.created_at),
                    })
                    current[target.id] = target
                    added.setdefault(target.id, []).extend(p.id for p in fresh)
            assignment.update({p.id: target.id for p in cluster.posts})
        changes = []
        for template_id, template in current.items():
            action = "created" if template_id in created else "updated" if added.get(template_id) else "unchanged"
            changes.append(TemplateChange(template, action, tuple(added.get(template_id, ()))))
        return changes, assignment
