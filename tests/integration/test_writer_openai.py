"""The OpenAI-compatible generator against a fake chat-completions server over real HTTP on
127.0.0.1: prepared good, over-length, malformed, 429, 500 and slow answers, each ending in
the right state (written and passing, rejected with its reasons, retried, failed with why)."""

from __future__ import annotations

import pytest

from agents.gates import run_gates
from agents.writer import ChannelRequest, write_package
from agents.writer.openai import OpenAIGenerator
from runtime.fakes.openai import FakeChatCompletions
from storage.objects import Channel
from tests.data.writer.corpus import requests


@pytest.fixture
async def fake():
    server = FakeChatCompletions(delay_seconds=1.5)
    await server.start()
    yield server
    await server.stop()


def _generator(fake, **kw) -> OpenAIGenerator:
    options = {"timeout_seconds": 5.0, "max_retries": 2, "backoff_seconds": 0.01, **kw}
    return OpenAIGenerator(fake.url, "fake-model", "sk-test", **options)


def _request(variants: int = 1):
    req = requests()[0]
    return req.model_copy(update={"channels": [ChannelRequest(channel=Channel.LINKEDIN, variants=variants)]})


async def test_a_good_answer_is_written_grounded_and_passes(fake):
    res = await write_package(_request(), _generator(fake), run_gates)
    assert res.status == "written"
    cand = res.session.candidates[0]
    assert cand.passed and len(cand.attempts) == 1 and cand.attempts[0].grounding.passed
    assert cand.variant.origin.generated_by == "openai"
    sent = fake.requests[0]
    assert sent["model"] == "fake-model" and sent["response_format"] == {"type": "json_object"}
    assert "Never add a number" in sent["messages"][0]["content"]
    assert res.core_argument.thesis in sent["messages"][1]["content"]


async def test_over_length_answers_are_retried_with_the_reason_then_rejected(fake):
    fake.default = "over_length"
    res = await write_package(_request(), _generator(fake), run_gates)
    assert res.status == "written"
    cand = res.session.candidates[0]
    assert len(cand.attempts) == 3 and not cand.passed
    assert cand.variant.status == "rejected" and "over_length" in cand.reasons
    assert "over_length" in fake.requests[1]["messages"][1]["content"]  # the critic's instruction


async def test_over_length_once_then_good_passes_on_the_second_attempt(fake):
    fake.push("over_length")
    res = await write_package(_request(), _generator(fake), run_gates)
    cand = res.session.candidates[0]
    assert [a.verdict for a in cand.attempts][0] == "reject" and cand.passed and len(cand.attempts) == 2


async def test_malformed_json_is_asked_for_again_once(fake):
    fake.push("malformed")
    res = await write_package(_request(), _generator(fake), run_gates)
    assert res.status == "written" and res.session.candidates[0].passed
    assert len(fake.requests) == 2
    assert "not valid JSON" in fake.requests[1]["messages"][-1]["content"]


async def test_malformed_json_twice_fails_the_package_with_the_reason(fake):
    fake.default = "malformed"
    res = await write_package(_request(), _generator(fake), run_gates)
    assert res.status == "failed" and "invalid_output" in res.reason
    assert res.package is None and res.session is None


async def test_a_429_is_retried_with_backoff(fake):
    fake.push("rate_limited", "rate_limited")
    res = await write_package(_request(), _generator(fake), run_gates)
    assert res.status == "written" and res.session.candidates[0].passed
    assert len(fake.requests) == 3


async def test_500s_past_the_retries_fail_the_package(fake):
    fake.default = "server_error"
    res = await write_package(_request(), _generator(fake, max_retries=2), run_gates)
    assert res.status == "failed" and "server_error" in res.reason
    assert len(fake.requests) == 3


async def test_a_timeout_fails_the_package_with_the_reason(fake):
    fake.default = "delay"
    res = await write_package(_request(), _generator(fake, timeout_seconds=0.3, max_retries=1), run_gates)
    assert res.status == "failed" and "timeout" in res.reason


async def test_a_client_error_is_not_retried(fake):
    gen = OpenAIGenerator(fake.url.removesuffix("/v1") + "/nope", "m", timeout_seconds=2, max_retries=3,
                          backoff_seconds=0.01)  # fmt: skip
    res = await write_package(_request(), gen, run_gates)
    assert res.status == "failed" and "http_404" in res.reason
