"""The main job (``kairo demo``) on a local Ray, with the embedded services."""

from __future__ import annotations

import uuid

import pytest
import ray

from runtime.demo import run_demo
from runtime.settings import Settings
from runtime.stack import kairo_actors
from storage.examples import example_uuid
from storage.objects import RunResult

pytestmark = pytest.mark.cluster


async def test_demo_runs_the_main_job_and_is_repeatable(ray_cluster, embedded_postgres_dsn, data_root):
    settings = Settings(
        data_dir=data_root / f"demo-{uuid.uuid4().hex[:8]}", database_url=embedded_postgres_dsn,
        database_schema=f"d_{uuid.uuid4().hex[:12]}", ray_namespace="kairo-demo-test", db_pool_max=2,
    )
    steps: list[str] = []
    first = await run_demo(settings, step=steps.append)
    assert first.created and first.snapshot.version == 1 and first.runtime_context.version == 1
    assert first.fragments == 5
    assert first.hits[0].fragment.id == example_uuid("frag_42")
    assert first.run.result is RunResult.SUCCESS and "planning: screened" in first.run.summary
    assert len(first.ingested.stored) == 5 and first.board  # the shipped feed, scouted into today's board
    assert {line.pillar for line in first.board} <= {"Strategy POV", "Behind the Scenes"}
    assert all("concert" not in line.angle.lower() and "bread" not in line.angle.lower() for line in first.board)
    assert first.agent.status.last_run_id == first.run.id
    assert [e.event_type for e in first.events][:2] == ["run_finished", "agent_state_changed"]
    assert first.mined_posts >= 50 and len(first.templates) >= 5  # the shipped swipe file (+ the seed example post)
    assert all(t.usage_stats.evidence_posts >= 3 for t in first.templates)
    assert first.gate_report.channel == "linkedin" and first.gate_report.length == len(first.draft)
    assert {g.rule for g in first.gate_report.results} >= {"platform", "banned_words", "hook"}
    assert first.package is not None and first.package.variants  # written for the top card
    assert any(v.quality is not None and v.quality.overall_pass for v in first.package.variants)
    published = first.publishing
    assert published.published >= 1  # the approved variants went out, each where it says
    assert len(published.fake_posts) + len(published.outbox_lines) >= published.published
    assert settings.chroma_dir.exists()
    assert kairo_actors(settings) == []  # everything it started is stopped again
    assert ray.is_initialized()  # it did not shut down a Ray it did not start

    second = await run_demo(settings)
    assert not second.created and second.snapshot.version == 2
    assert second.runtime_context.brand_brain_snapshot_id == second.snapshot.id
    assert second.fragments == 5  # remembered once, not twice
    assert second.ingested.stored == [] and len(second.ingested.merged) == 5  # the feed's items are known
    assert sorted(line.angle for line in second.board) == sorted(line.angle for line in first.board)  # no duplicate
    assert [t.id for t in second.templates] == [t.id for t in first.templates]  # mined again: no new template
