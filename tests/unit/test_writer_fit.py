"""Short posts: the composer's last build cuts each fact to its longest head at a phrase
boundary, so X and Bluesky posts fit budgets well under the platform limit, in the source's
own words (grounding still passes), never cut before a qualifier."""

from __future__ import annotations

import pytest

from agents.gates import CHANNEL_LIMITS, measure
from agents.writer import Composer
from agents.writer.grounding import check_grounding
from agents.writer.pipeline import generation_request, references
from agents.writer.text import compress, words
from storage.objects import Channel
from tests.data.writer.corpus import written

SHORT = (Channel.X, Channel.BLUESKY)


@pytest.mark.parametrize(("sentence", "cap", "expected"), [
    ("The key belonged to a deployment account with owner rights on every project, created years ago.", 60,
     "The key belonged to a deployment account."),
    ("Boards trust the report; they ignore the forty charts that come with it.", 40, "Boards trust the report."),
    ("Teams that mapped every stage saw churn fall, which surprised the finance team.", 60,
     "Teams that mapped every stage saw churn fall."),
])  # fmt: skip
def test_a_fact_is_cut_at_a_phrase_boundary(sentence, cap, expected):
    assert compress(sentence, cap) == expected


@pytest.mark.parametrize("sentence", [
    "Cheap dashboards look fine on a slide, but they fail the board every single quarter.",
    "Attribution works well for inbound leads, unless the deal starts at a trade show.",
    "Their builds run on isolated, signed pipelines that nobody outside the team can touch.",
])  # fmt: skip
def test_a_qualifier_or_a_list_is_never_cut_off(sentence):
    cut = compress(sentence, 45)
    assert cut is None or cut.rstrip(".") in sentence and not any(w in words(cut) for w in ("but", "unless"))
    if cut is not None:  # whatever stays ends before the qualifier, never inside a list
        assert not cut.endswith("isolated.")


def test_a_short_sentence_is_left_alone_and_a_boundaryless_one_is_refused():
    assert compress("Pipeline by stage beats clicks.", 80) == "Pipeline by stage beats clicks."
    assert compress("Listed companies must now disclose a material cyberattack within four business days.", 40) is None


def _short_posts(share: float):
    composer = Composer()
    for req, res in written():
        refs = references(req, res.core_argument)
        for draft in res.plans:
            if draft.plan.channel in SHORT and not draft.thread:
                for index in range(draft.plan.pattern_bindings[0].target_variants):
                    asked = generation_request(req, res.core_argument, draft, index)
                    limit = int(CHANNEL_LIMITS[draft.plan.channel] * share)
                    asked = asked.model_copy(update={"limit": limit, "budget": min(asked.budget, limit)})
                    post = composer.compose(asked)
                    yield draft.plan.channel, post, limit, refs


@pytest.mark.parametrize(("share", "floor"), [(1.0, 0.95), (0.75, 0.7)])
def test_x_and_bluesky_posts_fit_well_under_the_limit(share, floor):
    posts = list(_short_posts(share))
    fit = [p for c, p, limit, _ in posts if measure(c, p.body, limit).length <= limit]
    assert len(posts) >= 30
    assert len(fit) / len(posts) >= floor, f"{len(fit)}/{len(posts)} fit {share:.0%} of the limit"
    # cut facts are still the source's words: grounding passes on every fitting post
    assert all(check_grounding(p.body, refs).passed for c, p, limit, refs in posts
               if measure(c, p.body, limit).length <= limit)  # fmt: skip
