"""Threads: a post longer than its platform allows goes out as a reply chain, part 1 first, each
next part replying to the one before (X ``reply.in_reply_to_tweet_id``, Mastodon
``in_reply_to_id``, Bluesky ``reply`` strong refs to the first part and the previous one, which
need each part's CID: kept from its attempt's stored answer).

The parts are a pure function of the text (the gates' ``split_thread``: sentence boundaries,
numbered "1/3"), so a publisher that resumes a thread after a crash splits it the same way; each
part's create is its own attempt row, and a part's remote id is committed before the next part
is sent, so a confirmed part is never sent again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from storage.objects.enums import AttemptStatus, Channel
from storage.objects.publishing import PublishAttempt

from agents.gates.counting import measure
from agents.gates.threads import split_thread

from .adapters.base import ReplyRef

THREAD_ADAPTERS = frozenset({"x", "mastodon", "bluesky"})
"""Deliveries that can post a reply chain (the outbox and webhooks get the whole text)."""
THREAD_PARTS_MAX = 10
"""Parts a published thread may have: each is an attempt row, and a job keeps at most 20."""


def thread_parts(channel: Channel, adapter: str, text: str) -> list[str]:
    """``[text]`` when it fits (or the delivery cannot thread); the parts when a thread can hold
    it; ``[]`` when even a thread of ``THREAD_PARTS_MAX`` parts cannot."""
    counted = measure(channel, text)
    if counted.within or adapter not in THREAD_ADAPTERS:
        return [text]
    parts = split_thread(text, counted.limit, lambda part: measure(channel, part).length)
    if not parts or len(parts) > THREAD_PARTS_MAX or not all(measure(channel, p).within for p in parts):
        return []
    return parts


def cid_of(raw: dict | None) -> str | None:
    """A Bluesky content id from an attempt's stored answer (``body.cid``)."""
    body = (raw or {}).get("body")
    cid = body.get("cid") if isinstance(body, dict) else None
    return cid if isinstance(cid, str) else None


@dataclass
class Thread:
    """Where a job's reply chain stands: its parts and the remote ids of the confirmed ones."""

    parts: list[str]
    confirmed: list[str] = field(default_factory=list)
    cids: list[str | None] = field(default_factory=list)
    """Bluesky's content id of each confirmed part (its reply refs need them)."""

    @classmethod
    def of(cls, parts: list[str], attempts: list[PublishAttempt]) -> Thread:
        """Confirmed parts are the job's successful attempts, in order (parts are sent one at a
        time, each only after the one before was confirmed)."""
        done = [a for a in attempts if a.status is AttemptStatus.SUCCESS and a.external_post_id][: len(parts or [""])]
        return cls(parts=parts or [""], confirmed=[a.external_post_id for a in done], cids=[cid_of(a.raw_response) for a in done])

    def confirm(self, external_id: str, raw: dict | None) -> None:
        self.confirmed.append(external_id)
        self.cids.append(cid_of(raw))

    @property
    def reply(self) -> ReplyRef | None:
        """The reply refs of the next part: the previous part and the first."""
        if not self.confirmed:
            return None
        return ReplyRef(parent_id=self.confirmed[-1], parent_cid=self.cids[-1],  # cids grow with confirmed
                        root_id=self.confirmed[0], root_cid=self.cids[0])

    @property
    def complete(self) -> bool:
        return len(self.confirmed) >= len(self.parts)

    @property
    def index(self) -> int:
        """The part to send next (0-based)."""
        return len(self.confirmed)

    @property
    def text(self) -> str:
        return self.parts[min(self.index, len(self.parts) - 1)]

    @property
    def reply_to(self) -> str | None:
        return self.confirmed[-1] if self.confirmed else None

    @property
    def last_part(self) -> bool:
        return self.index >= len(self.parts) - 1


__all__ = ["THREAD_ADAPTERS", "THREAD_PARTS_MAX", "Thread", "thread_parts"]
