"""Card lifecycle: snooze (until a time), pin and unpin, dismiss, restore; packages move cards
to ``in_progress`` and ``used``. Pure functions over :class:`OpportunityCard`.

Which action is allowed from which state is the table ``TRANSITIONS`` (data, not branches). A
forbidden transition is :class:`storage.errors.Conflict` naming the card's state; a snooze
time that is not in the future is :class:`storage.errors.Invalid` naming ``until``.

* snooze hides a card until ``until``; :func:`wake` (and the board) bring it back after that;
* dismiss hides a card for good: the scout never re-creates it, even when its documents are
  ingested again (they join the dismissed card silently);
* restore brings a snoozed or dismissed card back to ``new``;
* pin keeps a card on top of the board; it is a flag, not a state, so a pinned card can still
  be snoozed or worked on; a dismissed card cannot be pinned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from storage.errors import Conflict, Invalid
from storage.objects import OpportunityCard, OpportunityState

S = OpportunityState
Action = Literal["snooze", "dismiss", "restore", "pin", "unpin", "start", "use"]

TRANSITIONS: dict[Action, tuple[frozenset[OpportunityState], OpportunityState | None]] = {
    # action: (states it may start from, the state it leads to; None keeps the state)
    "snooze": (frozenset({S.NEW, S.SNOOZED}), S.SNOOZED),
    "dismiss": (frozenset({S.NEW, S.SNOOZED}), S.DISMISSED),
    "restore": (frozenset({S.SNOOZED, S.DISMISSED}), S.NEW),
    "pin": (frozenset({S.NEW, S.SNOOZED, S.IN_PROGRESS, S.USED}), None),
    "unpin": (frozenset(set(S)), None),
    "start": (frozenset({S.NEW, S.SNOOZED, S.IN_PROGRESS}), S.IN_PROGRESS),
    "use": (frozenset({S.NEW, S.SNOOZED, S.IN_PROGRESS, S.USED}), S.USED),
}


def apply(card: OpportunityCard, action: Action, now: datetime, *, until: datetime | None = None) -> OpportunityCard:
    """The card after ``action`` at ``now`` (a new object; the input is not changed)."""
    allowed, target = TRANSITIONS[action]
    if card.lifecycle_state not in allowed:
        raise Conflict(
            f"cannot {action} a card that is {card.lifecycle_state}",
            details={"field": "lifecycle_state", "state": str(card.lifecycle_state), "action": action},
        )
    changes: dict[str, object] = {"updated_at": max(now, card.created_at)}
    if action == "snooze":
        if until is None or until <= now:
            raise Invalid("snooze needs an 'until' time in the future", details={"field": "until"})
        changes["snoozed_until"] = until
    elif target is not None:
        changes["snoozed_until"] = None
    if target is not None:
        changes["lifecycle_state"] = target
    if action in ("pin", "unpin"):
        changes["pinned"] = action == "pin"
    if action == "dismiss":
        changes["pinned"] = False
    return OpportunityCard.model_validate({**card.model_dump(), **changes})


def wake(card: OpportunityCard, now: datetime) -> OpportunityCard:
    """A snoozed card whose time has come is ``new`` again; any other card is unchanged."""
    if card.lifecycle_state is S.SNOOZED and card.snoozed_until is not None and card.snoozed_until <= now:
        return OpportunityCard.model_validate(
            {**card.model_dump(), "lifecycle_state": S.NEW, "snoozed_until": None,
             "updated_at": max(now, card.created_at)}  # fmt: skip
        )
    return card


def board(cards: list[OpportunityCard], now: datetime) -> list[OpportunityCard]:
    """What a brand's board shows at ``now``: woken cards, no dismissed or still-snoozed ones,
    pinned first, then by score (best first), then oldest first."""
    shown = [wake(c, now) for c in cards]
    shown = [c for c in shown if c.lifecycle_state not in (S.DISMISSED, S.SNOOZED)]
    return sorted(shown, key=lambda c: (not c.pinned, -c.score, c.created_at))
