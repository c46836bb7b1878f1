"""URL normalization, text cleaning, content hashes, passages and near-duplicate shingles."""

from __future__ import annotations

import pytest

from agents.ingest.dedupe import NearDuplicateIndex, shingles, signature, tokens
from agents.ingest.passages import split_passages
from agents.ingest.text import clean_text, content_hash, printable_ratio
from agents.ingest.urls import normalize_url
from storage.errors import Invalid

pytestmark = pytest.mark.unit

CANONICAL = "https://example.com/blog/post?id=7&page=2"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/blog/post?id=7&page=2",
        "http://example.com/blog/post?id=7&page=2",
        "https://www.example.com/blog/post?id=7&page=2",
        "HTTPS://WWW.EXAMPLE.COM:443/blog/post/?page=2&id=7",
        "https://example.com/blog/post?id=7&page=2#comments",
        "https://example.com/blog/post?utm_source=x&utm_medium=email&id=7&fbclid=abc&page=2&gclid=1",
        "http://example.com:80/blog/post/?id=7&page=2&mc_cid=1&_hsenc=2",
        "  https://example.com/blog/%70ost?id=7&page=2  ",
    ],
)
def test_spellings_of_one_url_normalize_alike(url):
    assert normalize_url(url) == CANONICAL


def test_distinct_urls_stay_distinct():
    distinct = {
        "https://example.com/blog/post?id=7&page=2",
        "https://example.com/blog/post?id=8&page=2",
        "https://example.com/Blog/post?id=7&page=2",  # path case matters
        "https://example.com:8443/blog/post?id=7&page=2",
        "https://news.example.com/blog/post?id=7&page=2",
    }
    assert len({normalize_url(u) for u in distinct}) == len(distinct)


@pytest.mark.parametrize("url", ["ftp://example.com/x", "example.com/x", "https://", "mailto:a@b.c", "https://x.com:99999/"])
def test_non_http_urls_are_invalid_naming_the_field(url):
    with pytest.raises(Invalid) as info:
        normalize_url(url, field="source_url")
    assert info.value.details == {"field": "source_url"}


def test_clean_text_strips_markup_entities_and_invisibles_but_keeps_paragraphs():
    raw = (
        "<div><script>track()</script><p>Most&nbsp;B2B   teams&#39; reports\u200b fail.</p>"
        "<p>Second\r\nline of para two &amp; more.</p><style>p{}</style><!-- c --></div>"
    )
    assert clean_text(raw) == "Most B2B teams' reports fail.\n\nSecond line of para two & more."
    assert clean_text("  plain text\n\n\n\nnext  ") == "plain text\n\nnext"
    assert clean_text("Cafe\u0301") == "Café"  # NFC
    assert clean_text("<br><p> </p>") == ""


def test_content_hash_ignores_typography_not_words():
    a = content_hash("Most B2B attribution models fail, says a new study.")
    assert a == content_hash("most b2b attribution models fail — says a new study!")
    assert a != content_hash("Most B2B attribution models work, says a new study.")


def test_printable_ratio_flags_binary():
    assert printable_ratio("An ordinary sentence of English text.") > 0.9
    assert printable_ratio("\x89PNG\x00\x01\x02\x03\x04" * 20) < 0.5


def test_passages_are_sentence_windows_with_the_title_first():
    text = " ".join(f"Sentence number {i} has exactly seven words." for i in range(30))
    passages = split_passages(text, "A title", target_words=20)
    assert passages[0].startswith("A title. Sentence number 0")
    assert all(p.endswith(".") for p in passages)  # never cut inside a sentence
    assert 9 <= len(passages) <= 10
    assert len(split_passages(text, target_words=20, max_passages=3)) == 3
    assert split_passages("no sentence end at all") == ["no sentence end at all"]
    cjk = split_passages("这是第一句。这是第二句！")
    assert cjk == ["这是第一句。 这是第二句！"]


def test_cjk_is_shingled_by_character():
    assert tokens("日本語のテキスト") == ["日", "本", "語", "の", "テ", "キ", "ス", "ト"]
    assert "日 本 語" in shingles("日本語のテキスト")


ORIGINAL = (
    "Researchers found more than sixty malicious packages on the npm registry with names one letter away from "
    "popular libraries. Once installed, a script in each package read environment variables, including cloud keys "
    "and registry tokens on continuous integration servers, and sent them to a remote server."
)
REWORDED = (
    "Researchers discovered more than sixty malicious packages on the npm registry with names one letter away from "
    "popular libraries. After installation, a script in each package read environment variables, including cloud keys "
    "and registry tokens on continuous integration servers, and sent them to a remote server."
)
SAME_TOPIC = (
    "A security firm says attackers keep publishing look-alike packages to open-source registries, hoping developers "
    "mistype a dependency name; its scanners flagged about forty such uploads last month and most were removed quickly."
)


def test_near_duplicates_match_and_same_topic_articles_do_not():
    index = NearDuplicateIndex()
    index.add("original", signature(ORIGINAL))
    assert signature(REWORDED).jaccard(signature(ORIGINAL)) >= 0.5
    assert index.match(signature(REWORDED)) == "original"
    assert index.match(signature(SAME_TOPIC)) is None
    light = ORIGINAL.replace("Once installed", "When it was installed").replace("sent them", "posted them")
    assert index.match(signature(light)) == "original"
    assert index.match(signature(REWORDED), allowed=lambda key: key != "original") is None


def test_moderate_overlap_merges_only_when_the_embeddings_agree():
    import numpy as np

    half = ORIGINAL.split(". ")[0] + ". " + SAME_TOPIC
    jaccard = signature(half).jaccard(signature(ORIGINAL))
    assert 0.15 <= jaccard < 0.5  # the gray zone
    same_story, other_story = np.array([1, 0, 0], np.float32), np.array([0, 1, 0], np.float32)
    index = NearDuplicateIndex()
    index.add("original", signature(ORIGINAL), same_story)
    assert index.match(signature(half), other_story) is None
    assert index.match(signature(half), None) is None
    assert index.match(signature(half), same_story) == "original"
