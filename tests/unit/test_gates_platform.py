"""G5 platform: counting exactly as each platform does, escaping, empty text, X threads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from twitter_text import parse_tweet

from agents.gates import (
    BrandRules,
    GateInput,
    escape_linkedin,
    measure,
    run_gates,
    split_thread,
    x_weighted_length,
)
from agents.gates.counting import X_PIECE_DOTS_MAX, X_PIECE_MAX, mastodon_length
from storage.objects import Channel

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data" / "gates"
FAMILY = "\U0001F468\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466"
CONFORMANCE = yaml.safe_load((DATA / "twitter_text_validate.yml").read_text(encoding="utf-8"))["tests"]
CASES = [case for section in CONFORMANCE.values() for case in section]


@pytest.mark.parametrize("case", CASES, ids=[c["description"][:70] for c in CASES])
def test_x_matches_twitter_text_conformance(case):
    counted = measure(Channel.X, case["text"])
    assert counted.length == case["expected"]["weightedLength"]
    assert counted.within is case["expected"]["valid"]


def test_conformance_file_holds_the_v3_cases():
    assert len(CASES) == 24  # a truncated data file would silently test less


FRAGMENTS = ["word", "example.com", "https://example.com/a/b?c=1", "a.b.c", "1.2", "x.co/p", "😷", FAMILY,
             "日本", "é", "e\u0301", "@user", "#tag", ".", ",", "-", " ", "  ", "\n", "\r\n", "\u2003", "\t"]  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=5, max_size=150), st.booleans())
def test_piecewise_count_is_the_whole_text_count(fragments, pad):
    """Long or dotted texts are counted piece by piece (whitespace-separated): exactly the
    library's count of the whole text, unless one piece is a long dotted run (see counting)."""
    text = "".join(fragments) + (" plain words" * 45 if pad else "")
    assume(not any(len(p) > X_PIECE_MAX and p.count(".") > X_PIECE_DOTS_MAX for p in text.split()))
    assert x_weighted_length(text) == parse_tweet(text).weightedLength


def test_x_boundaries_crlf_and_pathological_dots():
    assert measure(Channel.X, "a" * 280).within and not measure(Channel.X, "a" * 281).within
    assert measure(Channel.X, "字" * 140).length == 280 and not measure(Channel.X, "字" * 141).within
    assert measure(Channel.X, "line one\r\nline two").length == 17  # CRLF is one character
    dotted = "1." * 5_000  # minutes in the library's URL pattern if counted whole
    assert measure(Channel.X, dotted).length == 10_000


def test_x_invalid_characters_and_unpaired_surrogates():
    assert measure(Channel.X, "bad \ufffe char").invalid_characters == ("\ufffe",)
    lone = measure(Channel.X, "half \ud83d pair")
    assert lone.invalid_characters == ("\ud83d",) and not lone.within
    assert measure(Channel.LINKEDIN, "x \udc00").invalid_characters == ("\udc00",)


def test_mastodon_counts_scheme_urls_23_bare_domains_in_full_and_remote_mentions_short():
    long_url = "https://example.com/" + "p" * 80
    assert mastodon_length(f"read {long_url}") == 5 + 23
    assert mastodon_length("read example.com/pricing") == len("read example.com/pricing")
    assert mastodon_length("hi @alice@social.example.org!") == len("hi @alice!")
    assert mastodon_length("mail alice@example.org") == len("mail alice@example.org")  # not a mention
    assert mastodon_length(FAMILY + "e\u0301\r\n") == 3  # graphemes: family, e+accent, CRLF
    assert measure(Channel.MASTODON, "x" * 600, limit=1000).within
    assert not measure(Channel.MASTODON, "x" * 501).within


def test_bluesky_graphemes_bytes_and_no_url_discount():
    assert measure(Channel.BLUESKY, "e\u0301" * 300).within  # 600 code points, 300 graphemes
    heavy = measure(Channel.BLUESKY, FAMILY * 150)  # 150 graphemes, 3,750 bytes
    assert (heavy.length, heavy.byte_length, heavy.within) == (150, 3750, False)
    url = "https://example.com/" + "a" * 30
    assert measure(Channel.BLUESKY, url).length == len(url)
    assert not measure(Channel.BLUESKY, "x" * 301).within


def test_linkedin_counts_raw_text_and_escapes_backslash_first():
    assert escape_linkedin(r"a\b (c) #d @e *f* _g_ ~h~ <i> [j] {k} |l|") == (
        r"a\\b \(c\) \#d \@e \*f\* \_g\_ \~h\~ \<i\> \[j\] \{k\} \|l\|"
    )
    raw = "#" * 3000
    assert measure(Channel.LINKEDIN, raw).within  # the limit counts the raw text, not the escaped one
    assert measure(Channel.LINKEDIN, "ok \U0001F389").length == 5  # UTF-16 units


async def test_linkedin_reserved_characters_flag_and_fix_never_reject():
    report = await run_gates(GateInput(channel=Channel.LINKEDIN, text="Pricing (2025) is live: 3 tiers, #pricing"))
    assert report.passed and report.verdict == "flag"
    assert report.flags == ["linkedin_reserved_chars_escaped"]
    assert report.text_to_send == r"Pricing \(2025\) is live: 3 tiers, \#pricing"
    assert report.length == len("Pricing (2025) is live: 3 tiers, #pricing")


@pytest.mark.parametrize("text", ["", "   ", "\n\r\n\t", "\u2003\u00a0"])
@pytest.mark.parametrize("channel", list(Channel))
async def test_empty_or_whitespace_is_rejected(channel, text):
    report = await run_gates(GateInput(channel=channel, text=text))
    assert not report.passed and report.reasons == ["empty"]


async def test_over_length_rejects_and_names_the_count():
    report = await run_gates(GateInput(channel=Channel.BLUESKY, text="Churn is a pricing problem. " + "x" * 280))
    assert report.reasons == ["over_length"] and report.length == 308


def _sentences(n: int) -> str:
    return " ".join(f"Sentence number {i} says one plain thing about churn." for i in range(1, n + 1))


def test_thread_parts_fit_split_at_sentences_and_are_numbered():
    text = _sentences(30)
    parts = split_thread(text, 280, x_weighted_length)
    assert len(parts) > 1
    assert all(x_weighted_length(p) <= 280 for p in parts)
    total = len(parts)
    for i, part in enumerate(parts, start=1):
        assert part.endswith(f" {i}/{total}")
        body = part[: -len(f" {i}/{total}")]
        assert body.endswith(".")  # every part ends at a sentence boundary
    rejoined = " ".join(p.rsplit(" ", 1)[0] for p in parts)
    assert rejoined == text


def test_thread_unnumbered_and_an_overlong_sentence_splits_at_words():
    sentence = " ".join(["word"] * 200) + "."
    parts = split_thread(sentence, 280, x_weighted_length, numbered=False)
    assert len(parts) == 4 and all(x_weighted_length(p) <= 280 for p in parts)
    assert " ".join(parts) == sentence
    blob = "字" * 500
    assert all(x_weighted_length(p) <= 280 for p in split_thread(blob, 280, x_weighted_length))


async def test_x_thread_candidate_passes_with_parts_when_the_brand_allows():
    text = _sentences(12)
    single = await run_gates(GateInput(channel=Channel.X, text=text))
    assert single.reasons == ["over_length"]
    thread = await run_gates(GateInput(channel=Channel.X, text=text, thread=True, brand=BrandRules(number_threads=False)))
    assert thread.passed and thread.flags == ["thread_split"] and len(thread.parts) > 1
    assert not thread.parts[0].endswith("/" + str(len(thread.parts)))


async def test_a_text_over_the_thread_cap_is_over_length_not_split():
    from agents.gates.threads import THREAD_PARTS_MAX

    text = "Churn is a pricing problem, not a support problem. " * (THREAD_PARTS_MAX * 6)
    report = await run_gates(GateInput(channel=Channel.X, text=text, thread=True))
    assert report.reasons == ["over_length"] and report.parts == [text]


# -- Mastodon content warnings (spoiler_text) count towards the limit ----------------------------


def test_a_mastodon_spoiler_counts_as_written_before_the_text():
    from agents.gates.counting import mastodon_length

    text = "Read the audit: https://verdant.example.org/audits/2025/utah.pdf thanks @ana@fosstodon.org"
    plain = mastodon_length(text)
    # the spoiler's graphemes add up; its URL gets no discount and its remote mention is not cut
    assert mastodon_length(text, "CW: long read") == plain + len("CW: long read")
    spoiler = "see https://example.org/x @bo@social.example 👨‍👩‍👧"
    assert mastodon_length(text, spoiler) == plain + len("see https://example.org/x @bo@social.example ") + 1


async def test_the_spoiler_can_push_a_mastodon_post_over_its_limit():
    from agents.gates import GateInput, run_gates

    text = "Sourcing notes. " * 30  # 480 graphemes
    assert (await run_gates(GateInput(channel=Channel.MASTODON, text=text))).passed
    over = await run_gates(GateInput(channel=Channel.MASTODON, text=text, spoiler_text="Long thread about mining"))
    assert over.reasons == ["over_length"] and over.length == 480 + len("Long thread about mining")
    fits = await run_gates(GateInput(channel=Channel.MASTODON, text=text, spoiler_text="Twenty characters!!!"))
    assert fits.passed and fits.length == 500


@pytest.mark.parametrize("channel", [Channel.X, Channel.BLUESKY, Channel.LINKEDIN])
def test_a_spoiler_is_refused_off_mastodon(channel):
    from pydantic import ValidationError

    from agents.gates import GateInput

    with pytest.raises(ValidationError, match="spoiler_text"):
        GateInput(channel=channel, text="Hello there", spoiler_text="CW")
