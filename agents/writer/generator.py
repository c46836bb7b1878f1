"""The one interface every text generator implements, and how a generator fails.

``TextGenerator.generate(request) -> Draft``: one candidate, beat by beat. The composer
(:mod:`.composer`, the embedded default), the OpenAI-compatible client (:mod:`.openai`) and
any local model take the same :class:`GenerationRequest`, so the gates judge them alike. A
generator that cannot answer raises :class:`GenerationError` with a stable ``reason``
(``timeout``, ``rate_limited``, ``server_error``, ``invalid_output``, ``http_<status>``,
``connection``); the writer turns it into a ``failed`` package, never a half-built one.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from agents.chat import ChatError

from .models import Draft, GenerationRequest


class GenerationError(ChatError):
    """A generator gave no usable answer; ``reason`` is a stable code, ``detail`` for people."""


@runtime_checkable
class TextGenerator(Protocol):
    name: str

    async def generate(self, request: GenerationRequest) -> Draft: ...


def join_beats(beats: list[tuple[str, str]]) -> str:
    """The post as published: beats as paragraphs, consecutive list lines as one block."""
    out: list[str] = []
    previous_list = False
    for kind, text in beats:
        text = text.strip()
        if not text:
            continue
        is_list = kind.startswith("list_item")
        if out and is_list and previous_list:
            out[-1] = out[-1] + "\n" + text
        else:
            out.append(text)
        previous_list = is_list
    return "\n\n".join(out)


__all__ = ["GenerationError", "TextGenerator", "join_beats"]
