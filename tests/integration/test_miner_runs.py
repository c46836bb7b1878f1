"""Mining runs as the system of record keeps them: a brand's run is an AgentRun with its counts
and two EventLog lines, a global run is the two lines alone, a failure is recorded, overlapping
runs of one scope never duplicate a template; usage outcomes move a template's status with an
EventLog line, through the usage or through the published variant."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from uuid import uuid4

import pytest

from agents.engines.miner import MineInput, PatternMiner
from agents.miner.lifecycle import StatusThresholds
from agents.miner.runs import SUBJECT
from agents.miner.service import (
    import_file,
    mine_scope,
    record_outcome,
    record_usage,
    record_variant_outcome,
)
from storage.errors import Invalid, NotFound, UpstreamFailure
from storage.objects import (
    EventType,
    PatternStatus,
    PatternUsage,
    RunResult,
    RunTrigger,
)
from storage.postgres import patterns as store
from storage.postgres import repositories as repo

pytestmark = pytest.mark.integration
DATA = Path(__file__).resolve().parents[1] / "data" / "miner"


def swipe_file(keys: tuple[str, ...] = ("raw_text", "channel", "impressions", "engagements", "created_at")) -> str:
    rows = [json.loads(line) for line in (DATA / "swipe_posts.jsonl").read_text().splitlines() if line.strip()]
    return "\n".join(json.dumps({k: r[k] for k in keys if k in r}) for r in rows)


@pytest.fixture
async def db(embedded_postgres_dsn, tmp_path, fresh_schema):
    async with fresh_schema(embedded_postgres_dsn, tmp_path, prefix="runs") as handle:
        yield handle.db


@pytest.fixture
async def brand(db, examples):
    from tests.integration.conftest import insert_examples

    await insert_examples(db, examples)
    return examples.brand


async def _lines(db, where: str, *args):
    async with db.connection() as conn:
        return await repo.event_log.list(conn, where, *args, order_by="created_at, id")


async def test_a_brand_run_is_an_agent_run_with_its_counts_and_two_event_lines(db, brand):
    miner = PatternMiner()
    imported = await import_file(db, miner, swipe_file(), "jsonl", brand_id=brand.id)
    report = await mine_scope(db, miner, brand.id, trigger=RunTrigger.SCHEDULE)

    assert report.run_result == RunResult.SUCCESS and report.counts.failures == 0
    counts = report.counts
    async with db.connection() as conn:
        in_scope = await store.count_posts(conn, brand.id)
    assert imported.inserted == 50 and counts.posts_read == in_scope == 51  # and the seed's own post
    assert counts.templates_created == len(report.templates) >= 5 and counts.templates_merged == 0
    assert counts.beats >= 3 * counts.posts_read and counts.clusters >= counts.templates_created
    async with db.connection() as conn:
        run = await repo.agent_runs.get(conn, report.run_id)
    assert run.brand_id == brand.id and run.trigger_type == RunTrigger.SCHEDULE
    assert run.result == RunResult.SUCCESS and run.finished_at >= run.started_at
    assert f"{counts.templates_created} templates created" in run.summary and "read 51 posts" in run.summary

    lines = await _lines(db, "subject_type = $1", SUBJECT)
    assert [e.event_type for e in lines] == [EventType.RUN_STARTED, EventType.RUN_FINISHED]
    assert {e.run_id for e in lines} == {run.id} and {e.subject_id for e in lines} == {str(run.id)}
    assert {(e.brand_id, e.org_id) for e in lines} == {(brand.id, brand.org_id)}
    finished = lines[1].meta
    assert finished["result"] == "success" and finished["posts_read"] == 51
    assert (finished["templates_created"], finished["templates_merged"]) == (counts.templates_created, 0)
    [imported_line] = await _lines(db, "event_type = 'posts_imported'")
    assert imported_line.brand_id == brand.id and imported_line.meta["inserted"] == 50

    again = await mine_scope(db, miner, brand.id)
    assert (again.counts.templates_created, again.counts.templates_merged) == (0, 0)
    async with db.connection() as conn:
        runs = await repo.agent_runs.list(conn, "brand_id = $1", brand.id)
    assert len(runs) == 2 and all(r.result == RunResult.SUCCESS for r in runs)


async def test_a_global_run_is_recorded_by_event_lines_alone(db):
    miner = PatternMiner()
    await import_file(db, miner, swipe_file(), "jsonl")
    report = await mine_scope(db, miner)
    async with db.connection() as conn:
        assert await repo.agent_runs.list(conn, "true") == []
    lines = await _lines(db, "subject_type = $1", SUBJECT)
    assert [e.event_type for e in lines] == [EventType.RUN_STARTED, EventType.RUN_FINISHED]
    assert {(e.brand_id, e.org_id, e.run_id, e.subject_id) for e in lines} == {(None, None, None, str(report.run_id))}
    assert lines[1].meta["templates_created"] == report.counts.templates_created >= 5


async def test_posts_without_any_beat_are_failures_of_the_run_not_templates(db):
    miner = PatternMiner()
    tags_only = [{"text": f"#growth #b2b{i} https://example.com/launch/{i}", "channel": "x",
                  "impressions": 900, "engagements": 20} for i in range(4)]
    content = swipe_file() + "\n" + "\n".join(json.dumps(r) for r in tags_only)
    await import_file(db, miner, content, "jsonl")
    report = await mine_scope(db, miner)
    assert report.run_result == RunResult.PARTIAL_SUCCESS and report.counts.failures == 4
    assert set(report.result.failed_post_ids) <= {a.post_id for a in report.result.assignments if a.template_id is None}
    assert report.counts.templates_created >= 5 and all(t.structure for t in report.templates)
    [finished] = await _lines(db, "event_type = 'run_finished'")
    assert finished.meta["failures"] == 4 and "4 posts without any beat" in finished.meta["notes"]


class BrokenMiner(PatternMiner):
    async def mine(self, payload: MineInput):
        raise UpstreamFailure("the miner pool is gone")


async def test_a_failed_run_is_finished_as_an_error_and_the_error_reaches_the_caller(db, brand):
    miner = BrokenMiner()
    await import_file(db, miner, swipe_file(), "jsonl", brand_id=brand.id)
    with pytest.raises(UpstreamFailure):
        await mine_scope(db, miner, brand.id)
    async with db.connection() as conn:
        [run] = await repo.agent_runs.list(conn, "brand_id = $1", brand.id)
        assert await store.templates_in_scope(conn, brand.id) == []
    assert run.result == RunResult.ERROR and "the miner pool is gone" in run.summary
    finished = (await _lines(db, "event_type = 'run_finished'"))[-1]
    assert finished.run_id == run.id and finished.meta["result"] == "error"


async def test_a_run_for_an_unknown_brand_is_not_found_and_records_nothing(db):
    with pytest.raises(NotFound):
        await mine_scope(db, PatternMiner(), uuid4())
    assert await _lines(db, "true") == []


class SlowMiner(PatternMiner):
    """Mines after a pause, so two runs started together both read the scope before either writes."""

    calls = 0

    async def mine(self, payload: MineInput):
        type(self).calls += 1
        await asyncio.sleep(0.3)
        return await super().mine(payload)


async def test_overlapping_runs_of_one_scope_write_each_template_once(db, brand):
    miner = SlowMiner()
    await import_file(db, miner, swipe_file(), "jsonl", brand_id=brand.id)
    reports = await asyncio.gather(mine_scope(db, miner, brand.id), mine_scope(db, miner, brand.id))
    async with db.connection() as conn:
        templates = await store.templates_in_scope(conn, brand.id)
    assert SlowMiner.calls == 3  # the run that wrote second mined again on the first one's templates
    assert sorted(r.counts.templates_created for r in reports) == [0, len(templates)] and len(templates) >= 5
    assert sum(t.usage_stats.evidence_posts for t in templates) <= 51
    assert len({tuple(t.structure) for t in templates}) == len(templates)


# -- outcomes -------------------------------------------------------------------------------


async def _experimental_template(db, examples):
    async with db.transaction() as conn:
        template = await store.get_template(conn, examples.pattern_usage.pattern_template_id)
        template = template.model_copy(update={"status": PatternStatus.EXPERIMENTAL})
        await store.save_templates(conn, [], [template])
        median = (await store.channel_medians(conn, examples.variant.brand_id))[examples.variant.channel]
    return template, median


async def test_a_status_change_is_an_event_line_and_outcomes_reach_usages_by_variant(db, brand, examples):
    miner = PatternMiner(status_thresholds=StatusThresholds(active_min_uses=2, active_min_ratio=1.0))
    await import_file(db, miner, swipe_file(), "jsonl")  # the channel medians
    template, median = await _experimental_template(db, examples)
    variant = examples.variant
    usage = await record_usage(db, PatternUsage(pattern_template_id=template.id, content_variant_id=variant.id,
                                                brand_id=variant.brand_id, channel=variant.channel))
    impressions = 10_000
    outcome = {"impressions": impressions, "engagements": round(impressions * median * 1.5)}
    decisions = await record_variant_outcome(db, miner, variant.id, outcome)
    # The variant's two usages (the seed's and the new one) both take the metrics.
    assert len(decisions) == 2 and decisions[-1].template.status == PatternStatus.ACTIVE
    async with db.connection() as conn:
        stored = {u.id: u for u in await store.usages_of(conn, template.id)}
    assert stored[usage.id].outcome == outcome and stored[examples.pattern_usage.id].outcome == outcome
    [line] = await _lines(db, "event_type = 'template_status_changed'")
    assert line.subject_id == str(template.id) and line.brand_id == template.brand_id
    assert (line.meta["from"], line.meta["to"]) == ("experimental", "active") and line.meta["performance"] > 1.0

    # The same metrics again change nothing: no second line.
    await record_outcome(db, miner, usage.id, outcome)
    assert len(await _lines(db, "event_type = 'template_status_changed'")) == 1
    assert await record_variant_outcome(db, miner, uuid4(), outcome) == []


async def test_an_outcome_with_more_engagements_than_impressions_is_refused_and_not_stored(db, brand, examples):
    miner = PatternMiner()
    with pytest.raises(Invalid) as info:
        await record_outcome(db, miner, examples.pattern_usage.id, {"impressions": 100, "engagements": 101})
    assert info.value.details["field"] == "outcome.engagements"
    with pytest.raises(Invalid):
        await record_variant_outcome(db, miner, examples.variant.id, {"impressions": 10, "engagements": 11})
    async with db.connection() as conn:
        [usage] = await store.usages_of(conn, examples.pattern_usage.pattern_template_id)
    assert usage.outcome == examples.pattern_usage.outcome


async def test_a_hook_library_that_fails_is_a_failure_of_the_run_and_templates_are_still_written(db):
    async def unreachable():
        raise UpstreamFailure("Chroma at http://127.0.0.1:9 does not answer")

    miner = PatternMiner(hook_library=unreachable)
    await import_file(db, miner, swipe_file(), "jsonl")
    report = await mine_scope(db, miner)
    assert report.run_result == RunResult.PARTIAL_SUCCESS and report.counts.failures == 1
    assert report.counts.templates_created >= 5 and len(report.templates) == report.counts.templates_created
    assert any("hook library failed" in note and "does not answer" in note for note in report.notes)
