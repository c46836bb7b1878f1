"""``kairo calibrate BRAND FILE``: a bad file is refused before anything connects."""

from __future__ import annotations

import pytest

from runtime import cli
from runtime.cli import common

pytestmark = pytest.mark.unit


def test_a_missing_file_is_an_error(tmp_path, capsys):
    assert cli.main(["calibrate", "some-brand", str(tmp_path / "missing.csv")]) == 1
    assert "no file" in capsys.readouterr().out


def test_the_extension_picks_the_parser_and_its_errors_are_shown(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(common, "join", lambda settings: pytest.fail("must not connect for a bad file"))
    bad = tmp_path / "posts.csv"
    bad.write_text("date,body\n2026-01-01,hello\n")
    assert cli.main(["calibrate", "some-brand", str(bad)]) == 1
    assert "no 'text' column" in capsys.readouterr().out
    latin1 = tmp_path / "posts.txt"
    latin1.write_bytes("Caf\xe9 post one.\n\nPost two.".encode("latin-1"))
    assert cli.main(["calibrate", "some-brand", str(latin1)]) == 1
    assert "not UTF-8" in capsys.readouterr().out


def test_an_unreachable_url_is_an_error_before_anything_connects(capsys, monkeypatch):
    monkeypatch.setattr(common, "join", lambda settings: pytest.fail("must not connect for a page it cannot read"))
    assert cli.main(["calibrate", "some-brand", "http://127.0.0.1:9/never"]) == 1
    assert "could not fetch" in capsys.readouterr().out
