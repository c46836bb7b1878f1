"""One mining pass: posts → beats → signatures → clusters → template changes.

Posts are grouped by distinct signature before clustering, so the clusterer's cost depends on
how many different structures there are, not on how many posts. A post in which no beat is found
(only hashtags and links, say) has no structure: it is left out of clustering and reported as a
failure of the run, never made into a template.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from storage.objects import PatternSourcePost, PatternTemplate

from .clustering import SignatureClusterer
from .labelling import BeatLabeller
from .signature import SequenceDistance, Signature, signature_of
from .templates import PostCluster, TemplateChange, TemplateMerger


@dataclass(frozen=True)
class MiningOutcome:
    changes: list[TemplateChange]
    assignment: dict[UUID, UUID | None]
    signatures: dict[UUID, Signature]
    distinct_signatures: int
    clusters: int
    beats: int = 0  # beats labelled over all posts
    failed: tuple[UUID, ...] = ()  # posts in which no beat was found


class MiningPass:
    def __init__(self, labeller: BeatLabeller, *, threshold: float, canopy_radius: float,
                 min_evidence: int, max_leaders: int) -> None:
        self.labeller = labeller
        self.distance = SequenceDistance(labeller.taxonomy)
        self.clusterer = SignatureClusterer(self.distance, threshold=threshold, canopy_radius=canopy_radius,
                                            max_leaders=max_leaders)
        self.merger = TemplateMerger(labeller.taxonomy, self.distance, threshold=threshold, min_evidence=min_evidence)

    def signature(self, text: str) -> Signature:
        return signature_of(beat.kind for beat in self.labeller.label(text))

    def run(self, posts: Sequence[PatternSourcePost], templates: Sequence[PatternTemplate], *,
            brand_id: UUID | None, now: datetime) -> MiningOutcome:
        by_signature: dict[Signature, list[PatternSourcePost]] = defaultdict(list)
        signatures: dict[UUID, Signature] = {}
        failed: list[UUID] = []
        beats = 0
        for post in posts:
            sig = self.signature(post.raw_text)
            signatures[post.id] = sig
            beats += sum(count for _, count in sig)
            if sig:
                by_signature[sig].append(post)
            else:
                failed.append(post.id)
        clusters = self.clusterer.fit({sig: len(group) for sig, group in by_signature.items()}) if by_signature else []
        post_clusters = [
            PostCluster(medoid=c.medoid, posts=[p for sig in c.members for p in by_signature[sig]])
            for c in clusters
        ]
        changes, assignment = self.merger.merge(post_clusters, templates, brand_id=brand_id, now=now)
        assignment.update({post_id: None for post_id in failed})
        return MiningOutcome(changes, assignment, signatures, len(by_signature), len(clusters), beats, tuple(failed))
