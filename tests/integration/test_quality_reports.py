"""Quality reports in PostgreSQL (migration 0016): a writing attempt's CO-29 report keeps each
gate's result, the thresholds and the snapshot; a draft's check keeps its text and is never
changed; the log lists both per brand, newest first; the database refuses what the models
refuse."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from agents.gates import (
    BrandRules,
    GateInput,
    Rubric,
    RubricOverride,
    draft_check,
    quality_report,
    run_gates,
)
from storage.errors import Conflict, Invalid, NotFound
from storage.objects import BannedWord, Channel
from storage.postgres import quality
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration


def _rules(examples) -> BrandRules:
    return BrandRules(snapshot_id=examples.snapshots[-1].id, banned_words=[BannedWord(word="synergy")])


async def _report(examples, text: str, channel: Channel = Channel.LINKEDIN):
    rubric = Rubric(overrides=[RubricOverride(rule="hook", threshold=30)])
    return await run_gates(GateInput(channel=channel, text=text, brand=_rules(examples), rubric=rubric))


async def test_an_attempt_report_keeps_every_gate_the_thresholds_and_the_snapshot(db, seeded) -> None:
    e = seeded
    rejected = await _report(e, "Good morning!\n\nSynergy is back.", e.variant.channel)
    passed = await _report(e, "Attribution fails on definitions, not on models.", e.variant.channel)
    rows = [quality_report(rejected, brand_id=e.brand.id, content_variant_id=e.variant.id, attempt_number=1),
            quality_report(passed, brand_id=e.brand.id, content_variant_id=e.variant.id, attempt_number=2)]  # fmt: skip
    async with db.transaction() as conn:
        await quality.record_attempt_reports(conn, rows)
    async with db.connection() as conn:
        first = await quality.report_of(conn, e.brand.id, rows[0].id)
        second = await quality.report_of(conn, e.brand.id, rows[1].id)
    assert first.subject == "attempt" and first.content_variant_id == e.variant.id and first.attempt_number == 1
    assert first.verdict == "reject" and not first.overall_pass
    assert {r.rule for r in first.gate_results} == {"platform", "banned_words", "taboo", "hook", "similarity", "engagement"}
    hook = next(r for r in first.gate_results if r.rule == "hook")
    assert not hook.passed and hook.threshold == 30 and [f.code for f in hook.findings] == ["weak_hook"]
    assert first.thresholds["hook"] == 30 and first.brand_brain_snapshot_id == e.snapshots[-1].id
    assert {c.reason.split(":")[0] for c in first.critic_reasons} == {"weak_hook", "banned_word_hard"}
    assert second.verdict in ("pass", "flag") and second.overall_pass and second.critic_reasons == []


async def test_a_draft_check_keeps_its_text_and_is_never_changed(db, seeded) -> None:
    e = seeded
    text = "Q3 (unaudited): churn down to 2.1%.\r\n\r\nThe breakdown is in the comments. #finance"
    report = await _report(e, text)
    check = draft_check(report, brand_id=e.brand.id, text=text)
    async with db.transaction() as conn:
        await quality.record_draft_check(conn, check)
    async with db.connection() as conn:
        stored = await quality.report_of(conn, e.brand.id, check.id)
        assert stored.subject == "draft" and stored.text == text and stored.content_variant_id is None
        assert stored.verdict == "flag" and stored.overall_pass
        platform = next(r for r in stored.gate_results if r.rule == "platform")
        assert [f.code for f in platform.findings] == ["linkedin_reserved_chars_escaped"]
        with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="immutable"):
            await conn.execute("UPDATE gate_checks SET text = 'changed' WHERE id = $1", check.id)
        with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="immutable"):
            await conn.execute("DELETE FROM gate_checks WHERE id = $1", check.id)


async def test_the_log_lists_a_brands_reports_newest_first_and_hides_other_brands(db, seeded) -> None:
    e = seeded
    checks = []
    for text in ("First draft about attribution.", "Second draft about attribution.", "Third draft about churn."):
        checks.append(draft_check(await _report(e, text), brand_id=e.brand.id, text=text))
        async with db.transaction() as conn:
            await quality.record_draft_check(conn, checks[-1])
    attempt = quality_report(await _report(e, "Attribution is a definitions problem.", e.variant.channel),
                             brand_id=e.brand.id, content_variant_id=e.variant.id, attempt_number=1)  # fmt: skip
    async with db.transaction() as conn:
        await quality.record_attempt_reports(conn, [attempt])
    async with db.connection() as conn:
        listed = await quality.REPORT_LOG.list(conn, "brand_id = $1", e.brand.id, order_by="evaluated_at DESC, id DESC")
        assert [r.id for r in listed] == [attempt.id, *[c.id for c in reversed(checks)]]
        drafts = await quality.REPORT_LOG.list(conn, "brand_id = $1 AND subject = 'draft'", e.brand.id)
        assert len(drafts) == 3
        with pytest.raises(NotFound):
            await quality.report_of(conn, uuid.uuid4(), attempt.id)


async def test_the_database_refuses_what_the_models_refuse(db, seeded) -> None:
    e = seeded
    report = await _report(e, "Good morning!\n\nSynergy is back.")
    check = draft_check(report, brand_id=e.brand.id, text="Good morning!\n\nSynergy is back.")
    bad = {
        "a reject that passes": check.model_copy(update={"verdict": "pass"}),
        "an unknown gate rule": check.model_copy(update={"gate_results": [
            check.gate_results[0].model_copy(update={"rule": "vibes"})]}),
        "a threshold over 100": check.model_copy(update={"thresholds": {"hook": 101}}),
        "another brand's snapshot": check.model_copy(update={"brand_brain_snapshot_id": uuid.uuid4()}),
        "a content warning off Mastodon": check.model_copy(update={"spoiler_text": "CW", "channel": Channel.X}),
    }
    for name, row in bad.items():
        async with db.transaction() as conn:
            with pytest.raises((Invalid, Conflict, NotFound)):
                await quality.draft_checks.insert(conn, row)
            # the model refuses it too (model_copy skips validation: validate it now)
        if name != "another brand's snapshot":
            with pytest.raises(ValueError):
                quality.DraftCheck.model_validate(row.model_dump())
    wrong_channel = quality_report(report, brand_id=e.brand.id, content_variant_id=e.variant.id, attempt_number=3)
    wrong_channel = wrong_channel.model_copy(update={"channel": Channel.BLUESKY if e.variant.channel != Channel.BLUESKY else Channel.X})
    async with db.transaction() as conn:
        with pytest.raises((Invalid, Conflict, NotFound)):
            await quality.record_attempt_reports(conn, [wrong_channel])
    async with db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM gate_checks") == 0
        assert await repo.quality_reports.list(conn, "content_variant_id = $1", e.variant.id) == []
