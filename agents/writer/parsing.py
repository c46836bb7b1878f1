"""Parsing a model's answer into a :class:`Draft`: JSON (optionally inside a code fence or
after some chatter), validated with pydantic, the beats matched to the plan's.

A beat the plan does not have, a missing or empty beat, or text that is not JSON is
:class:`OutputError` with what was wrong - the generator then asks once more with the error.
"""

from __future__ import annotations

import json
import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .generator import join_beats
from .models import BeatText, Draft

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.DOTALL)


class OutputError(ValueError):
    pass


class _Beat(BaseModel):
    model_config = ConfigDict(extra="ignore")
    beat: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=10_000)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    beats: list[_Beat] = Field(min_length=1, max_length=40)


def _json_text(content: str) -> str:
    fenced = _FENCE.search(content)
    if fenced:
        return fenced.group(1).strip()
    start, end = content.find("{"), content.rfind("}")
    return content[start : end + 1] if start != -1 and end > start else content


def parse_draft(content: str, beats: list[str], generator: str) -> Draft:
    """The answer as a Draft whose beats are exactly the plan's, in its order."""
    try:
        answer = _Answer.model_validate(json.loads(_json_text(content)))
    except (json.JSONDecodeError, ValidationError) as error:
        raise OutputError(str(error).splitlines()[0][:300]) from None
    got = [b.beat for b in answer.beats]
    if got != beats:
        raise OutputError(f"beats {got} are not the plan's {beats}")
    texts = [(b.beat, b.text.strip()) for b in answer.beats]
    if any(not t for _, t in texts):
        raise OutputError("a beat is empty")
    return Draft(beats=[BeatText(beat=b, text=t) for b, t in texts], body=join_beats(texts), generator=generator)


__all__ = ["OutputError", "parse_draft"]
