"""G4 voice, meaning: a post that breaks one of the brand's taboos is rejected (``taboo``)."""

from __future__ import annotations

from storage.objects import Gate

from .model import GateResult
from .rules import Context, Rule, result

RULE = Rule(name="taboo", gate=Gate.G4_VOICE, codes=("taboo",), summary="breaks none of the brand's taboos")


async def check(ctx: Context) -> GateResult:
    return result(RULE, 100.0, [], ctx.threshold(RULE), skipped=True)
