"""The ``local`` generator's logic with an injected model (the optional extra's runtime is not
part of the suite): the shared prompts go in, a JSON answer is parsed into the plan's beats,
one invalid answer is repaired, two are ``invalid_output``, a failing runtime is
``model_error``; without the extra the factory refuses ``local`` with the install hint."""

from __future__ import annotations

import asyncio
import json

import pytest

from agents.writer import GenerationError, make_generator
from agents.writer.local import INSTALL_HINT, LocalGenerator, available
from agents.writer.pipeline import generation_request
from tests.data.writer.corpus import written


class ScriptedModel:
    """Answers like llama-cpp-python's ``create_chat_completion``, from a script of contents."""

    def __init__(self, *contents) -> None:
        self.contents = list(contents)
        self.calls: list[list[dict]] = []

    def create_chat_completion(self, *, messages, **_: object) -> dict:
        self.calls.append(messages)
        content = self.contents.pop(0)
        if isinstance(content, Exception):
            raise content
        return {"choices": [{"message": {"role": "assistant", "content": content}}]}


@pytest.fixture(scope="module")
def asked():
    req, res = written()[0]
    return generation_request(req, res.core_argument, res.plans[0], 0)


def answer(beats: list[str]) -> str:
    return json.dumps({"beats": [{"beat": b, "text": f"Line for {b.replace('_', ' ')}."} for b in beats]})


def test_an_answer_becomes_the_plans_beats(asked):
    model = ScriptedModel(answer(asked.beats))
    draft = asyncio.run(LocalGenerator(llama=model).generate(asked))
    assert [b.beat for b in draft.beats] == asked.beats and draft.generator == "local"
    assert model.calls[0][0]["role"] == "system" and asked.thesis in json.dumps(model.calls[0])


def test_one_invalid_answer_is_repaired_and_two_fail(asked):
    model = ScriptedModel("Sure! Here is your post: not json", answer(asked.beats))
    assert asyncio.run(LocalGenerator(llama=model).generate(asked)).beats
    assert len(model.calls) == 2 and "not json" in model.calls[1][-2]["content"]
    with pytest.raises(GenerationError) as failed:
        asyncio.run(LocalGenerator(llama=ScriptedModel("{}", '{"beats": []}')).generate(asked))
    assert failed.value.reason == "invalid_output"


def test_a_failing_runtime_is_a_model_error(asked):
    with pytest.raises(GenerationError) as failed:
        asyncio.run(LocalGenerator(llama=ScriptedModel(RuntimeError("context window exceeded"))).generate(asked))
    assert failed.value.reason == "model_error" and "context window" in failed.value.detail


def test_the_factory_builds_local_only_when_the_extra_is_installed():
    if available():
        assert isinstance(make_generator("local"), LocalGenerator)
    else:
        with pytest.raises(ValueError, match="optional extra") as refused:
            make_generator("local")
        assert INSTALL_HINT in str(refused.value)
        with pytest.raises(GenerationError) as unavailable:
            LocalGenerator().load()
        assert unavailable.value.reason == "unavailable"
