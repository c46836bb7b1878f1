"""Choosing the generator by name (the runtime passes ``KAIRO_WRITER_GENERATOR`` and the
``KAIRO_LLM_*`` values; nothing here reads the environment)."""

from __future__ import annotations

from .composer import Composer
from .generator import TextGenerator


def make_generator(
    kind: str = "composer",
    *,
    base_url: str | None = None,
    model: str | None = None,
    api_key: str | None = None,
    timeout_seconds: float = 60.0,
    max_retries: int = 3,
    backoff_seconds: float = 1.0,
) -> TextGenerator:
    if kind == "composer":
        return Composer()
    if kind == "openai":
        if not base_url or not model:
            raise ValueError("the openai generator needs a base URL and a model")
        from .openai import OpenAIGenerator

        return OpenAIGenerator(base_url, model, api_key, timeout_seconds=timeout_seconds, max_retries=max_retries,
                               backoff_seconds=backoff_seconds)  # fmt: skip
    if kind == "local":
        from .local import INSTALL_HINT, LocalGenerator, available

        if not available():
            raise ValueError(f"the local generator is an optional extra that is not installed: {INSTALL_HINT}")
        return LocalGenerator()
    raise ValueError(f"unknown generator {kind!r}: composer, openai or local")


__all__ = ["make_generator"]
