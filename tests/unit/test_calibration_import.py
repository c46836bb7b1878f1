"""Example import: every format to rows, every bad input to an error naming field and row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.calibration import MAX_EXAMPLES, fetch_examples, parse_examples
from storage.errors import Invalid

pytestmark = pytest.mark.unit

DATA = Path(__file__).parents[1] / "data" / "calibration"


def test_csv_and_json_of_the_same_posts_give_the_same_examples():
    from_json = parse_examples((DATA / "maple_moss_examples.json").read_bytes(), "json").examples
    from_csv = parse_examples((DATA / "maple_moss_examples.csv").read_bytes(), "csv").examples
    assert len(from_json) == 28
    assert [e.text for e in from_csv] == [e.text for e in from_json]
    assert [e.row for e in from_csv] == list(range(1, 29))
    assert {e.source for e in from_csv} == {"csv"}


def test_a_paste_splits_on_separator_lines_else_on_blank_lines():
    with_separators = "First post.\n\nStill the first post.\n---\nSecond post!\n  ---  \nThird?"
    assert [e.text for e in parse_examples(with_separators, "paste").examples] == [
        "First post.\n\nStill the first post.", "Second post!", "Third?",
    ]
    blank_lines = "One post here.\n\n\nAnother one.\n \nAnd a third."
    parsed = parse_examples(blank_lines, "paste").examples
    assert [e.text for e in parsed] == ["One post here.", "Another one.", "And a third."]
    assert [e.row for e in parsed] == [1, 2, 3]


def test_json_accepts_strings_objects_and_an_examples_key_and_jsonl_lines():
    assert [e.text for e in parse_examples(json.dumps(["a post", "another"]), "json").examples] == ["a post", "another"]
    body = json.dumps({"examples": [{"body": "x marks it", "id": 1}]})
    assert parse_examples(body, "json", text_field="body").examples[0].text == "x marks it"
    lines = '{"text": "line one"}\n\n{"text": "line three"}\n'
    parsed = parse_examples(lines, "jsonl").examples
    assert [(e.row, e.text) for e in parsed] == [(1, "line one"), (3, "line three")]


def test_exact_duplicates_are_skipped_with_a_note():
    parsed = parse_examples(json.dumps(["Same post.", "same   POST.", "Other post."]), "json")
    assert [e.text for e in parsed.examples] == ["Same post.", "Other post."]
    assert parsed.warnings == ["example 2 repeats example 1 and was skipped"]


def invalid(content, fmt, **kwargs) -> Invalid:
    with pytest.raises(Invalid) as caught:
        parse_examples(content, fmt, **kwargs)
    return caught.value


@pytest.mark.parametrize("content", [b"", b"   \n\n", "\ufeff"])
@pytest.mark.parametrize("fmt", ["paste", "csv", "json", "jsonl"])
def test_an_empty_file_is_refused(content, fmt):
    error = invalid(content, fmt)
    assert error.details["field"] == "content" and "empty" in error.message


def test_an_empty_list_is_refused():
    assert invalid("[]", "json").details["field"] == "content"
    assert invalid("text\n", "csv").details["field"] == "content"


def test_a_csv_without_the_text_column_names_the_column_and_what_it_has():
    error = invalid("date,body\n2026-01-01,hello there\n", "csv")
    assert error.details == {"field": "text", "columns": ["date", "body"]}
    assert "'text'" in error.message and "date, body" in error.message
    assert parse_examples("date,body\n2026-01-01,hello there\n", "csv", text_field="body").examples[0].text == "hello there"


def test_semicolon_csv_and_quoted_multiline_cells_are_read():
    content = 'id;text\n1;"A post\nover two lines; with a semicolon"\n2;Short one\n'
    parsed = parse_examples(content, "csv").examples
    assert [e.text for e in parsed] == ["A post\nover two lines; with a semicolon", "Short one"]


def test_bytes_that_are_not_utf8_name_the_line():
    latin1 = "text\nCafé au lait\nCrème brûlée\n".encode("latin-1")
    error = invalid(latin1, "csv")
    assert error.details["field"] == "content" and error.details["line"] == 2
    assert "UTF-8" in error.message


def test_a_utf8_bom_is_not_part_of_the_header():
    content = "\ufefftext\nBonjour à tous\n".encode()
    assert parse_examples(content, "csv").examples[0].text == "Bonjour à tous"


def test_binary_content_is_refused():
    assert invalid(b"text\n\x00\x01\x02PK\x03\x04", "csv").details["field"] == "content"


@pytest.mark.parametrize(
    "row, bad",
    [("   ", "empty"), ("🌿🌿💚", "no words"), ("👩‍👩‍👧 🎉", "no words"), ("!!! 100%", "no words")],
)
def test_an_empty_or_emoji_only_example_names_its_row(row, bad):
    content = json.dumps(["A real post.", "Another real post.", row])
    error = invalid(content, "json")
    assert error.details == {"field": "text", "row": 3}
    assert bad in error.message


def test_an_empty_csv_cell_names_its_data_row():
    error = invalid("text,n\nfine post,1\n,2\n", "csv")
    assert error.details == {"field": "text", "row": 2}


def test_a_json_item_without_the_text_field_names_its_row():
    error = invalid(json.dumps([{"text": "ok"}, {"body": "no"}]), "json")
    assert error.details == {"field": "text", "row": 2}


def test_malformed_json_names_the_line():
    error = invalid('[\n"a",\n"b"\n', "json")
    assert error.details["field"] == "content" and error.details["line"] >= 3


def test_too_many_examples_are_refused_with_the_limit():
    content = json.dumps([f"Post number {i} about things." for i in range(MAX_EXAMPLES + 1)])
    error = invalid(content, "json")
    assert error.details == {"field": "examples", "count": MAX_EXAMPLES + 1, "max": MAX_EXAMPLES}
    assert len(parse_examples(json.dumps([f"Post {i} here." for i in range(MAX_EXAMPLES)]), "json").examples) == MAX_EXAMPLES


def test_an_unknown_format_names_the_field():
    assert invalid("x", "xml").details["field"] == "format"


async def test_a_url_becomes_one_example_per_paragraph_through_the_injected_fetch():
    seen = []
    page = ("Why dashboards die\n"
            "Most dashboards are never opened again after their first week in production.\n\n"
            "One chart, one decision: a tile that cannot name its decision is decoration.\n"
            "Short closing line.")  # fmt: skip

    async def fetch(url: str) -> str:
        seen.append(url)
        return page

    parsed = await fetch_examples("https://example.com/post", fetch)
    assert seen == ["https://example.com/post"]
    assert [e.text for e in parsed.examples] == [
        "Why dashboards die\nMost dashboards are never opened again after their first week in production.",
        "One chart, one decision: a tile that cannot name its decision is decoration.",
        "Short closing line.",
    ]
    assert [(e.source, e.url, e.row) for e in parsed.examples] == [("url", "https://example.com/post", i) for i in (1, 2, 3)]


async def test_a_url_without_text_is_refused():
    async def fetch(url: str) -> str:
        return "\n  "

    with pytest.raises(Invalid) as caught:
        await fetch_examples("https://example.com/empty", fetch)
    assert caught.value.details["field"] == "url"


def test_control_characters_inside_a_json_string_name_the_row():
    error = invalid(json.dumps(["A fine post.", "Escaped \u0007 bell here."]), "json")
    assert error.details == {"field": "text", "row": 2}


@pytest.mark.parametrize("content, fmt", [("[" * 100_000, "json"), ('text\n"' + "a" * 200_000 + '"\n', "csv")])
def test_pathological_files_are_invalid_not_crashes(content, fmt):
    assert invalid(content, fmt).details["field"] == "content"
