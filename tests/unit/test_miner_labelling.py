"""Beat segmentation and labelling: accuracy on hand-labelled posts, and the rules behind it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents.miner.cues import load_cues
from agents.miner.labelling import BeatLabeller
from agents.miner.segmentation import segment_units
from agents.miner.taxonomy import default_taxonomy

DATA = Path(__file__).resolve().parents[1] / "data" / "miner"


def _rows(name: str) -> dict[str, dict]:
    return {r["key"]: r for r in map(json.loads, (DATA / name).read_text().splitlines())}


def _accuracy(posts_file: str, labels_file: str) -> tuple[float, int]:
    rows = _rows(posts_file)
    gold = json.loads((DATA / labels_file).read_text())["posts"]
    labeller = BeatLabeller()
    right = total = 0
    for key, items in gold.items():
        beats = labeller.label(rows[key]["raw_text"])
        for prefix, kind in items:
            containing = [b for b in beats if prefix in b.text]
            assert containing, f"{key}: no beat contains {prefix!r}"
            total += 1
            right += containing[0].kind == kind
    return right / total, total


@pytest.mark.parametrize(("posts", "labels"), [
    ("swipe_posts.jsonl", "beat_labels.json"),
    ("new_posts.jsonl", "new_beat_labels.json"),  # held out: never used to set the cue phrases
])
def test_beat_labels_are_right_for_at_least_85_percent(posts, labels):
    accuracy, total = _accuracy(posts, labels)
    assert total >= 80
    assert accuracy >= 0.85, f"{accuracy:.1%} of {total} beats right"


def test_gold_labels_use_only_taxonomy_kinds():
    kinds = set(default_taxonomy().kinds)
    for name in ("beat_labels.json", "new_beat_labels.json"):
        gold = json.loads((DATA / name).read_text())["posts"]
        assert {kind for items in gold.values() for _, kind in items} <= kinds


def test_list_lines_are_separate_beats_and_the_first_line_is_the_hook():
    text = (
        "I interviewed 30 churned customers. Here are 3 things they told me:\n\n"
        "1. The setup took a week\n2. Nobody answered the chat\n3. The price jumped at renewal\n\n"
        "Churn is decided in the first week.\n\n"
        "Follow me for more customer research notes."
    )
    beats = BeatLabeller().label(text)
    assert [b.kind for b in beats] == ["hook_number", "list_item", "list_item", "list_item", "lesson", "cta_plain"]
    assert beats[0].text == "I interviewed 30 churned customers. Here are 3 things they told me:"
    assert beats[2].text == "2. Nobody answered the chat"


def test_a_single_line_post_is_split_into_sentences():
    units = segment_units("Hot take: standups are status theatre. Write it down instead. Agree?")
    assert [u.text for u in units] == ["Hot take: standups are status theatre.", "Write it down instead.", "Agree?"]


def test_one_emoji_line_is_decoration_but_emoji_runs_are_lists():
    units = segment_units("🚀 Big launch today.\n\nWhat you get:\n✅ Faster builds\n✅ Fewer configs\n\nTry it.")
    assert [u.is_list for u in units] == [False, False, True, True, False]


def test_advice_in_the_tail_is_a_lesson_but_an_ask_is_a_cta():
    labeller = BeatLabeller()
    advice = labeller.label("Most roadmaps are wish lists.\n\nWe cut ours from 40 items to 6.\n\nShip the boring fixes first.")
    ask = labeller.label("Most roadmaps are wish lists.\n\nWe cut ours from 40 items to 6.\n\nGrab our roadmap template, link in the comments.")
    assert advice[-1].kind == "lesson"
    assert ask[-1].kind == "cta_plain"


def test_question_cta_versus_a_rhetorical_question_in_the_body():
    beats = BeatLabeller().label(
        "Last year I stopped taking sales calls on Fridays.\n\nWhy would a founder do that?\n\n"
        "It gave me one day to think.\n\nWhat's your no-meeting day?"
    )
    assert beats[0].kind == "hook_story"
    assert beats[1].kind != "cta_question"
    assert beats[-1].kind == "cta_question"


def test_a_question_cta_of_two_sentences_is_one_beat():
    beats = BeatLabeller().label("Stop posting daily.\n\nConsistency beats volume.\n\nAgree? Tell me in the comments.")
    assert beats[-1].kind == "cta_question"
    assert beats[-1].text == "Agree? Tell me in the comments."


def test_cue_files_name_only_known_kinds_and_unknown_languages_are_refused():
    cues = load_cues("en")
    assert set(cues.cues) <= set(default_taxonomy().kinds)
    with pytest.raises(ValueError):
        load_cues("xx")


def test_hashtag_and_link_footers_make_no_beat():
    beats = BeatLabeller().label(
        "We just shipped offline mode! 🎉\n\nYour notes now sync the moment you are back online, so you never "
        "lose a thought on the train.\n\nTry it: https://example.com/offline\n\n#productivity #launch\n@kairo"
    )
    assert [b.kind for b in beats] == ["hook_announcement", "benefit", "cta_plain"]


def test_lines_of_one_paragraph_keep_their_own_kinds():
    beats = BeatLabeller().label(
        "I used to think cold calling was dead.\nThen I made 50 calls in a week and booked 6 meetings.\n"
        "Turns out people still pick up the phone.\nWould you try it?"
    )
    assert [b.kind for b in beats][0] == "hook_story"
    assert [b.kind for b in beats][-2:] == ["lesson", "cta_question"]
