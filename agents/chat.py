"""An OpenAI-compatible chat-completions client over aiohttp (vLLM, Ollama, llama.cpp server,
hosted APIs): ``POST {base_url}/chat/completions``, shared by the writer's generator
(:mod:`agents.writer.openai`) and the taboo gate's judge (:mod:`agents.gates.judge`).

* **Timeouts**: one total timeout per request (``timeout_seconds``).
* **Retries**: 429 and 5xx answers, timeouts and dropped connections are retried up to
  ``max_retries`` times with exponential backoff (``backoff_seconds × 2^n``, capped, or the
  server's ``Retry-After`` when it sends one). Other 4xx answers are not retried.
* **Structured output**: ``response_format: json_object`` unless ``json_mode=False`` (for
  servers without it).

Every failure is a :class:`ChatError` with a stable ``reason`` (``timeout``, ``rate_limited``,
``server_error``, ``http_<status>``, ``connection``, ``invalid_output``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp

RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
BACKOFF_MAX = 30.0


class ChatError(Exception):
    """No usable answer; ``reason`` is a stable code, ``detail`` for people."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class ChatClient:
    """Configuration as plain fields; ``session`` may be shared (the caller closes it)."""

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        *,
        timeout_seconds: float = 60.0,
        max_retries: int = 3,
        backoff_seconds: float = 1.0,
        json_mode: bool = True,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout_seconds = timeout_seconds
        self.max_retries = max_retries
        self.backoff_seconds = backoff_seconds
        self.json_mode = json_mode
        self._session = session

    def body(self, chat: list[dict[str, str]], *, temperature: float, seed: int | None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.model, "messages": chat, "temperature": temperature}
        if seed is not None:
            body["seed"] = seed
        if self.json_mode:
            body["response_format"] = {"type": "json_object"}
        return body

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(BACKOFF_MAX, max(0.0, float(retry_after)))
            except ValueError:
                pass
        return min(BACKOFF_MAX, self.backoff_seconds * 2**attempt)

    async def complete(self, chat: list[dict[str, str]], *, temperature: float = 0.0, seed: int | None = None) -> str:
        """The assistant's answer to ``chat``, retried as the module says."""
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body = self.body(chat, temperature=temperature, seed=seed)
        session = self._session or aiohttp.ClientSession()
        last = ChatError("connection", "no attempt made")
        try:
            for attempt in range(self.max_retries + 1):
                retry_after = None
                try:
                    timeout = aiohttp.ClientTimeout(total=self.timeout_seconds)
                    async with session.post(self.url, json=body, headers=headers, timeout=timeout) as resp:
                        if resp.status == 200:
                            return _content(await resp.json(content_type=None))
                        text = (await resp.text())[:300]
                        retry_after = resp.headers.get("Retry-After")
                        reason = "rate_limited" if resp.status == 429 else "server_error" if resp.status >= 500 else f"http_{resp.status}"
                        last = ChatError(reason, f"{resp.status}: {text}")
                        if resp.status not in RETRY_STATUS:
                            raise last
                except TimeoutError:
                    last = ChatError("timeout", f"no answer within {self.timeout_seconds}s")
                except aiohttp.ClientError as error:
                    last = ChatError("connection", str(error)[:300])
                except ValueError as error:  # a 200 whose body is not JSON
                    raise ChatError("invalid_output", f"not a chat completion: {error}") from None
                if attempt < self.max_retries:
                    await asyncio.sleep(self._delay(attempt, retry_after))
            raise last
        finally:
            if self._session is None:
                await session.close()


def _content(payload: Any) -> str:
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise ChatError("invalid_output", "the answer has no choices[0].message.content") from None
    if not isinstance(content, str) or not content.strip():
        raise ChatError("invalid_output", "the answer's content is empty")
    return content


__all__ = ["ChatClient", "ChatError"]
