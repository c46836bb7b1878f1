"""The brand agent's pure logic: its state machine (seed 002) and scheduling rules."""

from .lifecycle import TRANSITIONS, is_due, schedule_next, transition

__all__ = ["TRANSITIONS", "is_due", "schedule_next", "transition"]
