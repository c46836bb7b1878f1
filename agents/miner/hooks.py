"""The hook library: the opening beats of the best-performing posts, searchable by topic.

Which hooks: per channel, the measured posts whose engagement rate (shrunk towards the channel's
rate with ``prior_impressions``, so a lucky post seen by 40 people does not win) is in the top
``top_fraction``; the hook is the post's first beat.

Where: vectors in Chroma through :class:`storage.memory.VectorIndex`, in a space of their own
beside the brands' memory collections. Global hooks (swipe files) live in one shared space and
carry no brand id; a brand's own hooks live in that brand's hook space, which no other brand's
search reads. A hook's id is its source post's id, so the post row in PostgreSQL is the truth
and re-adding a hook is harmless. A search for a brand reads its own space and the global one
and merges them by distance.

Who opens it: the miner pool (:func:`open_hook_library`, from the engine on its first hook
operation), so topics are embedded there and never in an API replica. The library is a Chroma
store of its own (never the memory service's files): a Chroma server by URL, or embedded Chroma
in a directory only the miner opens.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID, uuid5

from storage.objects import Channel, PatternSourcePost

if TYPE_CHECKING:  # storage.memory pulls in chromadb: only the process that opens a library needs it
    from storage.memory import TextEmbedder, VectorIndex

from .labelling import BeatLabeller

HOOK_SPACE_NAMESPACE = UUID("b7e0c1a2-94d3-4f57-8e2b-6a1d0c9f3e48")


def hook_space(brand_id: UUID | None) -> UUID:
    """The id of the vector space holding global hooks (None) or one brand's own hooks."""
    return uuid5(HOOK_SPACE_NAMESPACE, f"hooks:{brand_id}" if brand_id else "hooks:global")


@dataclass(frozen=True)
class Hook:
    id: UUID  # the source post's id
    brand_id: UUID | None
    channel: Channel
    text: str
    engagement_rate: float
    impressions: int
    template_id: UUID | None = None


@dataclass(frozen=True)
class HookHit:
    hook_id: UUID
    distance: float
    is_global: bool


def hook_of(post: PatternSourcePost, labeller: BeatLabeller, template_id: UUID | None = None) -> Hook | None:
    """The hook of one measured post (None without metrics or beats)."""
    if not post.impressions or post.engagements is None:
        return None
    beats = labeller.label(post.raw_text)
    if not beats:
        return None
    return Hook(id=post.id, brand_id=post.brand_id, channel=post.channel, text=beats[0].text,
                engagement_rate=post.engagements / post.impressions, impressions=post.impressions,
                template_id=template_id)


def select_hooks(
    posts: Sequence[PatternSourcePost],
    labeller: BeatLabeller,
    *,
    templates_of: Mapping[UUID, UUID] | None = None,
    top_fraction: float = 0.25,
    prior_impressions: float = 2000.0,
) -> list[Hook]:
    """The hooks of the best performers of each channel, best first."""
    by_channel: dict[Channel, list[PatternSourcePost]] = defaultdict(list)
    for post in posts:
        if post.impressions and post.engagements is not None:
            by_channel[Channel(post.channel)].append(post)
    chosen: list[Hook] = []
    for channel_posts in by_channel.values():
        channel_rate = sum(p.engagements or 0 for p in channel_posts) / sum(p.impressions or 0 for p in channel_posts)

        def score(p: PatternSourcePost, rate: float = channel_rate) -> float:
            return ((p.engagements or 0) + rate * prior_impressions) / ((p.impressions or 0) + prior_impressions)

        ranked = sorted(channel_posts, key=lambda p: (-score(p), str(p.id)))
        keep = max(1, round(len(ranked) * top_fraction))
        for post in ranked[:keep]:
            hook = hook_of(post, labeller, (templates_of or {}).get(post.id))
            if hook is not None:
                chosen.append(hook)
    return sorted(chosen, key=lambda h: (-h.engagement_rate, str(h.id)))


class HookLibrary:
    """Adds hooks to their spaces and finds the nearest to a topic."""

    def __init__(self, index: VectorIndex, embedder: TextEmbedder) -> None:
        self.index = index
        self.embedder = embedder

    async def add(self, hooks: Sequence[Hook]) -> int:
        """Store the vectors of the hooks not stored yet (only those are embedded: a hook already
        stored keeps its vector); returns how many were new."""
        by_space: dict[UUID | None, dict[UUID, Hook]] = defaultdict(dict)
        for hook in hooks:
            by_space[hook.brand_id][hook.id] = hook
        added = 0
        for brand_id, group in by_space.items():
            space = hook_space(brand_id)
            known = await self.index.ids(space)
            fresh = [h for h in group.values() if h.id not in known]
            if not fresh:
                continue
            vectors = await self.embedder.aembed([h.text for h in fresh])
            metadatas = [
                {"channel": h.channel.value, "engagement_rate": h.engagement_rate, "impressions": h.impressions,
                 "template_id": str(h.template_id) if h.template_id else None,
                 **({"brand_id": str(brand_id)} if brand_id else {})}
                for h in fresh
            ]
            await self.index.add(space, [h.id for h in fresh], vectors, documents=[h.text for h in fresh],
                                 metadatas=metadatas)
            added += len(fresh)
        return added

    async def sync(self, brand_id: UUID | None, hooks: Sequence[Hook]) -> tuple[int, int]:
        """Make one scope's space hold exactly ``hooks`` (the scope's current best performers):
        new ones embedded and added, ones no longer chosen removed. Returns (added, removed)."""
        if any(h.brand_id != brand_id for h in hooks):
            raise ValueError("every hook of a sync belongs to the synced scope")
        space = hook_space(brand_id)
        stale = await self.index.ids(space) - {h.id for h in hooks}
        added = await self.add(hooks)
        await self.index.delete(space, sorted(stale, key=str))
        return added, len(stale)

    async def search(self, topic: str, *, brand_id: UUID | None = None, k: int = 5) -> list[HookHit]:
        """The ``k`` hooks nearest to ``topic``: the brand's own and the global ones (only global
        when ``brand_id`` is None). Ids are source post ids; resolve them in PostgreSQL."""
        vector = (await self.embedder.aembed([topic]))[0]
        hits = [HookHit(i, d, True) for i, d in await self.index.query(hook_space(None), vector, k)]
        if brand_id is not None:
            hits += [HookHit(i, d, False) for i, d in await self.index.query(hook_space(brand_id), vector, k)]
        return sorted(hits, key=lambda h: (h.distance, str(h.hook_id)))[:k]

    async def close(self) -> None:
        await self.index.close()


async def open_hook_library(*, path: Path | None = None, url: str | None = None, num_threads: int = 1) -> HookLibrary:
    """The hook library with the MiniLM embedder (loaded off the event loop) over embedded Chroma
    at ``path`` or a Chroma server at ``url`` (exactly one)."""
    from storage.memory import Embedder, VectorIndex

    embedder = Embedder(num_threads=num_threads)
    await asyncio.to_thread(embedder.load)
    return HookLibrary(await VectorIndex.open(path=path, url=url, embedder=embedder), embedder)
