"""The writer pool builds its generator from settings: the composer by default, the
OpenAI-compatible client with the ``KAIRO_LLM_*`` values, and ``local`` only with its extra."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from agents.writer import Composer
from agents.writer.local import available
from agents.writer.openai import OpenAIGenerator
from runtime.engines import content_writer
from runtime.settings import Settings


def test_the_composer_is_the_default():
    assert isinstance(content_writer(Settings()).generator, Composer)


def test_the_openai_generator_takes_the_llm_settings():
    settings = Settings(writer_generator="openai", llm_base_url="http://127.0.0.1:8081/v1", llm_model="qwen2.5",
                        llm_api_key=SecretStr("k-1"), llm_timeout_seconds=7.5, llm_max_retries=2)  # fmt: skip
    generator = content_writer(settings).generator
    assert isinstance(generator, OpenAIGenerator)
    assert (generator.client.url, generator.client.model, generator.client.api_key) == ("http://127.0.0.1:8081/v1/chat/completions", "qwen2.5", "k-1")
    assert (generator.client.timeout_seconds, generator.client.max_retries) == (7.5, 2)


def test_local_needs_its_extra():
    if available():
        assert content_writer(Settings(writer_generator="local")).generator.name == "local"
    else:
        with pytest.raises(ValueError, match="optional extra"):
            content_writer(Settings(writer_generator="local"))
