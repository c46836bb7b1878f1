"""A fake OpenAI-compatible chat-completions server on loopback, for the writer's tests and an
offline demo: ``POST /v1/chat/completions`` answers in the real shape (``choices[0].message
.content``, ``usage``), errors in the real error envelope.

What it answers is a script of modes, one per request (then ``default``):

* ``good``: a valid JSON draft built from the prompt itself - the plan's beats (read from the
  "Beats, in order" lines), the thesis for the hook, the facts for the body - so it is grounded;
* ``over_length``: valid JSON, but every beat several times too long for any channel;
* ``malformed``: text that is not JSON;
* ``rate_limited``: 429 with ``Retry-After: 0``; ``server_error``: 500;
* ``delay``: the good answer, held back ``delay_seconds`` (past a client's timeout);
* ``reply``: the next content queued with :meth:`FakeChatCompletions.push_reply`, verbatim
  (what a test has a judge answer: the fake reads no post).

``requests`` keeps every request body. Not a model: it never writes anything the prompt
did not hold.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import deque
from typing import Any

from aiohttp import web

MODES = ("good", "over_length", "malformed", "rate_limited", "server_error", "delay", "reply")
_BEAT_LINE = re.compile(r"^- ([a-z][a-z0-9_]*)(?::|$)", re.MULTILINE)


def _section(prompt: str, start: str, end: str) -> str:
    head = prompt.split(start, 1)[-1]
    return head.split(end, 1)[0] if end in head else head


def draft_from_prompt(prompt: str, *, stretch: int = 1) -> dict[str, Any]:
    """A grounded draft of the beats the prompt asks for, from its thesis and facts."""
    beats = _BEAT_LINE.findall(_section(prompt, "Beats, in order:", "Thesis:"))
    thesis = _section(prompt, "Thesis:", "\n").strip()
    facts = [line[2:].strip() for line in _section(prompt, "Facts you may use:", "The brand's own").splitlines()
             if line.startswith("- ")]  # fmt: skip
    out = []
    for i, beat in enumerate(beats):
        if beat.startswith("hook"):
            text = thesis
        elif beat.startswith("cta"):
            text = "What would you add?"
        else:
            text = facts[(i - 1) % len(facts)] if facts else thesis
        out.append({"beat": beat, "text": " ".join([text] * stretch)})
    return {"beats": out}


class FakeChatCompletions:
    def __init__(self, default: str = "good", delay_seconds: float = 2.0) -> None:
        self.default = default
        self.delay_seconds = delay_seconds
        self.script: deque[str] = deque()
        self.replies: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []
        self.url = ""
        self.app = web.Application()
        self.app.router.add_post("/v1/chat/completions", self._complete)
        self._runner: web.AppRunner | None = None

    def push(self, *modes: str) -> None:
        for mode in modes:
            if mode not in MODES:
                raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
            if mode == "reply":
                raise ValueError("queue a reply with push_reply(content)")
        self.script.extend(modes)

    def push_reply(self, *contents: str) -> None:
        """Answer the next requests with these contents, one each."""
        self.replies.extend(contents)
        self.script.extend("reply" for _ in contents)

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sock = site._server.sockets[0]  # noqa: SLF001 - the bound port when 0 was asked for
        self.url = f"http://{host}:{sock.getsockname()[1]}/v1"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @staticmethod
    def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
        return web.json_response({"error": {"message": message, "type": kind, "code": None}}, status=status,
                                 headers=headers)  # fmt: skip

    async def _complete(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
            prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
        except (ValueError, KeyError, StopIteration, TypeError):
            return self._error(400, "invalid_request_error", "messages with a user message are required")
        self.requests.append(body)
        mode = self.script.popleft() if self.script else self.default
        if mode == "rate_limited":
            return self._error(429, "rate_limit_exceeded", "Rate limit reached", {"Retry-After": "0"})
        if mode == "server_error":
            return self._error(500, "server_error", "The server had an error while processing your request")
        if mode == "delay":
            await asyncio.sleep(self.delay_seconds)
        if mode == "malformed":
            content = "Sure! Here is your post: beats -> hook, then the rest {not json"
        elif mode == "reply":
            content = self.replies.popleft()
        else:
            content = json.dumps(draft_from_prompt(prompt, stretch=12 if mode == "over_length" else 1))
        return web.json_response({
            "id": f"chatcmpl-{len(self.requests)}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": len(prompt) // 4, "completion_tokens": len(content) // 4,
                      "total_tokens": (len(prompt) + len(content)) // 4},
        })  # fmt: skip


__all__ = ["MODES", "FakeChatCompletions", "draft_from_prompt"]
