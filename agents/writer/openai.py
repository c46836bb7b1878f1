"""An OpenAI-compatible chat-completions generator (vLLM, Ollama, llama.cpp server, hosted
APIs) over the shared client :class:`agents.chat.ChatClient`: its timeouts, retries on
429/5xx/timeouts with backoff, and ``response_format: json_object`` (turned off with
``json_mode=False`` for servers without it).

The answer is parsed into a :class:`Draft` (:mod:`.parsing`). Invalid JSON, or beats not the
plan's, is asked for once more with the error; a second invalid answer is ``invalid_output``.
Every failure is a :class:`GenerationError` with the client's stable reason, so the package
fails cleanly.
"""

from __future__ import annotations

from typing import Any

from agents.chat import ChatClient, ChatError

from .generator import GenerationError
from .models import Draft, GenerationRequest
from .parsing import OutputError, parse_draft
from .prompts import REPAIR, messages


class OpenAIGenerator:
    """A generator over one :class:`ChatClient`; its ``session`` may be shared (the caller
    closes it)."""

    name = "openai"

    def __init__(self, base_url: str, model: str, api_key: str | None = None, *, temperature: float = 0.7,
                 **client: Any) -> None:  # fmt: skip
        """``client``: the :class:`ChatClient` options (timeout, retries, backoff, JSON mode,
        a shared session)."""
        self.client = ChatClient(base_url, model, api_key, **client)
        self.temperature = temperature

    async def generate(self, request: GenerationRequest) -> Draft:
        chat = messages(request)
        content = await self._complete(chat, request.seed)
        try:
            return parse_draft(content, list(request.beats), self.name)
        except OutputError as error:
            chat = [*chat, {"role": "assistant", "content": content[:4000]},
                    {"role": "user", "content": REPAIR.format(error=error)}]  # fmt: skip
        content = await self._complete(chat, request.seed)
        try:
            return parse_draft(content, list(request.beats), self.name)
        except OutputError as error:
            raise GenerationError("invalid_output", str(error)) from None

    async def _complete(self, chat: list[dict[str, str]], seed: int) -> str:
        try:
            return await self.client.complete(chat, temperature=self.temperature, seed=seed)
        except ChatError as error:
            raise GenerationError(error.reason, error.detail) from None


__all__ = ["OpenAIGenerator"]
