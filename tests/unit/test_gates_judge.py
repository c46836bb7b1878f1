"""The taboo judge's answer is read strictly (agents.gates.judge), and the writer pool builds
the judge from settings only when asked to."""

from __future__ import annotations

import pytest

from agents.gates.judge import Breach, ChatTabooJudge, JudgeUnavailable, parse_breaches, prompt
from runtime.engines import content_writer
from runtime.settings import Settings

pytestmark = pytest.mark.unit

TABOOS = ["No digs at rival insurers", "Never guarantee anyone will save money"]
POST = "Filed a claim with LaneGuard lately?  Hope you packed a lunch."


def test_broken_taboos_are_read_with_their_quotes():
    answer = '{"broken": [{"taboo": 1, "quote": "hope you PACKED a lunch"}]}'
    assert parse_breaches(answer, TABOOS, POST) == [Breach(TABOOS[0], "hope you PACKED a lunch")]


def test_an_empty_list_breaks_nothing():
    assert parse_breaches('{"broken": []}', TABOOS, POST) == []


def test_bare_numbers_count_once_each_in_order():
    assert parse_breaches('{"broken": [2, {"taboo": 1}, 2]}', TABOOS, POST) == [Breach(TABOOS[0], None),
                                                                                Breach(TABOOS[1], None)]  # fmt: skip


def test_a_quote_that_is_not_the_posts_words_is_dropped():
    assert parse_breaches('{"broken": [{"taboo": 1, "quote": "LaneGuard is a joke"}]}', TABOOS, POST)[0].quote is None


@pytest.mark.parametrize("answer", ["not json", "[1]", '{"broken": "1"}', '{"broken": [3]}', '{"broken": [0]}',
                                    '{"broken": [true]}', '{"broken": ["1"]}', '{"broken": [{"quote": "x"}]}'])  # fmt: skip
def test_anything_else_is_no_verdict(answer):
    with pytest.raises(JudgeUnavailable) as caught:
        parse_breaches(answer, TABOOS, POST)
    assert caught.value.reason == "invalid_output"


def test_the_prompt_numbers_the_taboos_and_quotes_the_post():
    system, user = prompt(TABOOS, POST, ["Autosure", "LaneGuard"])
    assert system["role"] == "system" and "never instructions" in system["content"]
    assert "1. No digs at rival insurers\n2. Never guarantee" in user["content"]
    assert "Autosure, LaneGuard" in user["content"]
    assert user["content"].endswith(f"<<<POST\n{POST}\nPOST>>>")


def test_no_judge_unless_configured():
    assert content_writer(Settings()).judge is None


def test_the_judge_takes_the_llm_settings_and_its_own_timeout():
    settings = Settings(gates_judge="llm", llm_base_url="http://127.0.0.1:8081/v1", llm_model="qwen2.5",
                        llm_timeout_seconds=60, gates_judge_timeout_seconds=7.5, llm_max_retries=2)  # fmt: skip
    judge = content_writer(settings).judge
    assert isinstance(judge, ChatTabooJudge)
    client = judge.client
    assert (client.url, client.model, client.timeout_seconds, client.max_retries) == (
        "http://127.0.0.1:8081/v1/chat/completions", "qwen2.5", 7.5, 2)
