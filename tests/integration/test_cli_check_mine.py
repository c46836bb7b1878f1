"""``kairo check BRAND CHANNEL FILE`` and ``kairo mine FILE`` against a real PostgreSQL schema (the
session's MiniLM stands in for the one the CLI would load): the exit code follows the gates'
verdict, mining a file stores its posts and templates, and an unknown brand is an error."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

SWIPE = Path(__file__).resolve().parents[1] / "data" / "miner" / "swipe_posts.jsonl"


async def test_check_exits_by_the_verdict(seeded, kairo, tmp_path, capsys):
    good = tmp_path / "good.txt"
    good.write_text("Churn fell 12% in the quarter after we cut one onboarding step. Here is the step.\n")
    assert await kairo("check", seeded.brand.slug, "x", str(good)) == 0
    assert "pass" in capsys.readouterr().out

    too_long = tmp_path / "long.txt"
    too_long.write_text("Churn fell 12% after we cut one onboarding step. " * 12)
    assert await kairo("check", str(seeded.brand.id), "x", str(too_long)) == 1
    out = capsys.readouterr().out
    assert "reject" in out and "over_length" in out

    warned = tmp_path / "warned.txt"
    warned.write_text("Churn fell 12% in the quarter after we cut one onboarding step. " * 6)  # 384 characters
    assert await kairo("check", seeded.brand.slug, "mastodon", str(warned)) == 0
    assert "length 384/500" in capsys.readouterr().out
    assert await kairo("check", seeded.brand.slug, "mastodon", str(warned), "--spoiler", "Numbers " * 15) == 1
    assert "over_length" in capsys.readouterr().out  # the content warning counts
    assert await kairo("check", seeded.brand.slug, "mastodon", str(warned), "--limit", "300") == 1
    assert await kairo("check", seeded.brand.slug, "x", str(good), "--spoiler", "Numbers") == 1
    refused = capsys.readouterr().out
    assert "--spoiler" in refused and "Mastodon only" in refused

    assert await kairo("check", "no-such-brand", "x", str(good)) == 1
    assert "no brand 'no-such-brand'" in capsys.readouterr().out


async def test_mine_a_swipe_file_then_a_brands_posts(db, seeded, kairo, tmp_path, capsys):
    assert await kairo("mine", str(SWIPE)) == 0
    out = capsys.readouterr().out
    assert "50 rows: 50 new posts" in out and "Pattern templates" in out
    async with db.connection() as conn:
        global_posts = await conn.fetchval("SELECT count(*) FROM pattern_source_posts WHERE is_global")
        templates = await conn.fetchval("SELECT count(*) FROM pattern_templates WHERE brand_id IS NULL")
    assert global_posts == 50 and templates >= 3

    assert await kairo("mine", str(SWIPE)) == 0
    assert "0 new posts, 50 known" in capsys.readouterr().out

    assert await kairo("mine", str(SWIPE), "--brand", "no-such-brand") == 1
    assert "no brand 'no-such-brand'" in capsys.readouterr().out
    unknown = tmp_path / "posts.txt"
    unknown.write_text("one post\n")
    assert await kairo("mine", str(unknown)) == 1
    assert "give --format" in capsys.readouterr().out
