"""Mining the labelled swipe file: clusters against the planted structures, templates, merging."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID

import pytest

from agents.engines import dispatch
from agents.engines.miner import AssignInput, MineInput, PatternMiner
from agents.miner.evaluation import adjusted_rand_index
from agents.miner.stats import EngagementStats
from storage.objects import Channel, PatternSourcePost, PatternStatus

DATA = Path(__file__).resolve().parents[1] / "data" / "miner"
NOW = datetime(2026, 1, 1, tzinfo=UTC)
# The engagement ranking the swipe file was built with (best first).
PLANTED_RANKING = ["confession_story", "listicle", "question_prompt", "contrarian_take", "launch"]


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text().splitlines()]


def _post(row: dict) -> PatternSourcePost:
    return PatternSourcePost(id=row["id"], is_global=True, channel=row["channel"], raw_text=row["raw_text"],
                             impressions=row["impressions"], engagements=row["engagements"],
                             created_at=row["created_at"])


ROWS = _rows("swipe_posts.jsonl")
NEW = _rows("new_posts.jsonl")


@pytest.fixture(scope="module")
def mined():
    miner = PatternMiner()
    import asyncio

    result = asyncio.run(miner.mine(MineInput(posts=[_post(r) for r in ROWS], now=NOW)))
    return miner, result


def _structure_of_template(result) -> dict[UUID, str]:
    """Each template's planted structure, by majority of its evidence."""
    by_id = {UUID(r["id"]): r["structure"] for r in ROWS}
    out = {}
    for change in result.templates:
        labels = [by_id[i] for i in change.template.example_source_post_ids if i in by_id]
        out[change.template.id] = max(set(labels), key=labels.count)
    return out


def test_the_swipe_file_plants_at_least_five_structures_of_ten_posts():
    counts = {s: sum(r["structure"] == s for r in ROWS) for s in PLANTED_RANKING}
    assert len(counts) >= 5 and min(counts.values()) >= 10
    assert len({r["raw_text"] for r in ROWS}) == len(ROWS)


def test_clusters_match_the_planted_structures(mined):
    _, result = mined
    assigned = {a.post_id: a.template_id for a in result.assignments}
    predicted = [str(assigned[UUID(r["id"])] or f"alone-{i}") for i, r in enumerate(ROWS)]  # unassigned: own cluster
    ari = adjusted_rand_index([r["structure"] for r in ROWS], predicted)
    assert ari >= 0.8, ari


def test_templates_carry_names_evidence_channels_and_weighted_stats(mined):
    _, result = mined
    assert result.created == len(result.templates) >= 5
    rows_by_id = {UUID(r["id"]): r for r in ROWS}
    for change in result.templates:
        t = change.template
        assert t.status == PatternStatus.EXPERIMENTAL
        assert " → " in t.name and t.name[0].isupper()
        assert len(t.example_source_post_ids) >= 3
        evidence = [rows_by_id[i] for i in t.example_source_post_ids]
        assert set(t.channel_constraints) == {Channel(r["channel"]) for r in evidence}
        rate = sum(r["engagements"] for r in evidence) / sum(r["impressions"] for r in evidence)
        assert t.usage_stats.avg_engagement_rate == pytest.approx(rate)
        assert t.usage_stats.evidence_posts == len(evidence)
        assert t.usage_stats.engagement_rate_spread is not None and t.usage_stats.engagement_rate_spread >= 0
    names = {c.template.name for c in result.templates}
    assert "Story hook → context → confession → turning point → lesson → question CTA" in names


def test_template_engagement_ranking_equals_the_planted_ranking(mined):
    _, result = mined
    structure = _structure_of_template(result)
    ranked = sorted(result.templates, key=lambda c: -c.template.usage_stats.avg_engagement_rate)
    assert [structure[c.template.id] for c in ranked] == PLANTED_RANKING


async def test_mining_the_same_file_again_changes_nothing(mined):
    miner, first = mined
    templates = [c.template for c in first.templates]
    again = await miner.mine(MineInput(posts=[_post(r) for r in ROWS], templates=templates, now=NOW))
    assert len(again.templates) == len(templates)
    assert {c.action for c in again.templates} == {"unchanged"}
    assert {c.template.id: c.template for c in again.templates} == {t.id: t for t in templates}


async def test_new_posts_of_a_planted_structure_join_its_template(mined):
    miner, first = mined
    templates = [c.template for c in first.templates]
    structure = _structure_of_template(first)
    for row in NEW:
        found = await miner.assign(AssignInput(text=row["raw_text"], templates=templates))
        assert found.template_id is not None and structure[found.template_id] == row["structure"], row["key"]
    merged = await miner.mine(MineInput(posts=[_post(r) for r in NEW], templates=templates, now=NOW))
    assert len(merged.templates) == len(templates) and merged.created == 0
    for change in merged.templates:
        joined = {r["key"] for r in NEW if UUID(r["id"]) in set(change.added_post_ids)}
        assert {r["structure"] for r in NEW if r["key"] in joined} <= {structure[change.template.id]}
        before = next(t for t in templates if t.id == change.template.id)
        assert change.template.usage_stats.evidence_posts == before.usage_stats.evidence_posts + len(joined)


async def test_a_cluster_below_min_evidence_makes_no_template():
    miner = PatternMiner(min_evidence=11)
    result = await dispatch(miner, "mine", {"posts": [_post(r).model_dump() for r in ROWS[:20]]})
    assert result.templates == [] and result.unassigned == 20


def test_engagement_stats_merge_exactly():
    posts = [(1000, 50), (4000, 80), (500, 40), (2500, 25)]
    whole = sum((EngagementStats.of_post(i, e) for i, e in posts), EngagementStats())
    halves = sum((EngagementStats.of_post(i, e) for i, e in posts[:2]), EngagementStats()) + sum(
        (EngagementStats.of_post(i, e) for i, e in posts[2:]), EngagementStats())
    mean = sum(e for _, e in posts) / sum(i for i, _ in posts)
    variance = sum(i * (e / i - mean) ** 2 for i, e in posts) / sum(i for i, _ in posts)
    assert whole.mean == pytest.approx(mean) and halves.mean == pytest.approx(mean)
    assert whole.variance == pytest.approx(variance) and halves.variance == pytest.approx(variance)
    assert (EngagementStats.of_post(None, None) + whole).posts == 5


async def test_each_post_counts_for_one_template_even_when_structures_crowd():
    """Many nearby structures (spliced sentences of the swipe file): re-mining changes nothing
    and every post is the evidence of exactly one template."""
    import random
    from uuid import uuid4

    rng = random.Random(5)
    sentences = [s for r in ROWS for s in r["raw_text"].replace("\n\n", "\n").split("\n")]
    posts = [PatternSourcePost(id=uuid4(), is_global=True, channel="linkedin", created_at=NOW,
                               raw_text="\n\n".join(rng.choice(sentences) for _ in range(rng.randint(2, 9))),
                               impressions=1000, engagements=rng.randint(0, 100)) for _ in range(150)]
    miner = PatternMiner(min_evidence=1)
    first = await miner.mine(MineInput(posts=posts, now=NOW))
    evidence = [i for c in first.templates for i in c.template.example_source_post_ids]
    assert sorted(evidence) == sorted(p.id for p in posts)
    again = await miner.mine(MineInput(posts=posts, templates=[c.template for c in first.templates], now=NOW))
    assert {c.action for c in again.templates} == {"unchanged"}
    held = {i: c.template.id for c in first.templates for i in c.template.example_source_post_ids}
    assert {a.post_id: a.template_id for a in again.assignments} == held


async def test_posts_without_any_beat_are_reported_and_never_make_a_template():
    """Only hashtags and links: no beat, so no structure; enough of them once made a template
    with an empty structure, which the object model refuses."""
    tags = [_post(ROWS[0]).model_copy(update={"id": UUID(int=i + 1), "raw_text": f"#growth #b2b https://x.example/{i}"})
            for i in range(4)]
    result = await PatternMiner().mine(MineInput(posts=[*tags, *(_post(r) for r in ROWS[:10])], now=NOW))
    assert set(result.failed_post_ids) == {p.id for p in tags}
    assigned = {a.post_id: a.template_id for a in result.assignments}
    assert all(assigned[p.id] is None for p in tags)
    assert result.templates and all(c.template.structure for c in result.templates)
    labelled = PatternMiner().labeller
    assert result.beats == sum(len(labelled.label(r["raw_text"])) for r in ROWS[:10])
