"""Keyword queries: a query's words found in a line almost as in the query (one word more or fewer
between them, or swapped) count almost as the phrase (index.py NEAR_PAIR_WEIGHT), a few words
farther apart less (GAP_PAIR_WEIGHTS, TWO_KEYWORD_GAP_WEIGHTS: a graded proximity bonus); words far
apart in the line still count a quarter in the match quality and nothing in the fusion (the issue
22 probe's "Tasmania ferry" for a subtitle saying "The ferry to Tasmania leaves from pier seven"
lost to the picture ranking at quality 0.25; "snowman park" for "the children built a snowman in
the park" held nothing and lost to it too)."""

from __future__ import annotations

import pytest
from tests.searcher.searcher_testlib import MODEL, make_scenes, make_video, one_hot, open_searcher
from videosearch.searcher.lexical.index import (
    GAP_PAIR_WEIGHTS,
    MAX_GAP_WORDS,
    NEAR_PAIR_WEIGHT,
    SCATTERED_WEIGHT,
    TWO_KEYWORD_GAP_WEIGHTS,
    LexicalIndex,
)
from videosearch.searcher.lexical.tokens import parse_query
from videosearch.searcher.types import SearchParams, TextSpan, VideoExtras

LINE = "The ferry to Tasmania leaves from pier seven"


def _match(text: str, query: str):
    index = LexicalIndex()
    index.put("v", [TextSpan("said", 1, 2, text, "en", "sidecar")], [0.0])
    (match,) = index.search(parse_query(query), ["said"], 10)
    return match


def _quality(text: str, query: str) -> float:
    return _match(text, query).quality


@pytest.mark.parametrize(
    "query", ["Tasmania ferry", "FERRY TASMANIA", "seven pier", "leaves pier", "ferry to the Tasmania"]
)
def test_keywords_near_each_other_count_almost_as_the_phrase(query):
    near = SCATTERED_WEIGHT + (1 - SCATTERED_WEIGHT) * NEAR_PAIR_WEIGHT
    assert _quality(LINE, query) == pytest.approx(near)
    assert _quality(LINE, "ferry to Tasmania") == pytest.approx(1.0)  # as in the query: the phrase


def test_a_pair_with_stop_words_between_finds_one_word_fewer_or_more():
    near = SCATTERED_WEIGHT + (1 - SCATTERED_WEIGHT) * NEAR_PAIR_WEIGHT
    # "is on your" are stop words: the query's pair is 4 apart, the heard line's 3.
    assert _quality("turn left at the bakery and the library yes onur right", "library is on your right") == (
        pytest.approx(near)
    )


def test_words_far_apart_still_count_a_quarter():
    assert _quality(LINE, "ferry seven") == pytest.approx(SCATTERED_WEIGHT)
    # Three words more between them than typed: past MAX_GAP_WORDS, scattered.
    assert _quality("the red team won, we circle back", "a red circle") == pytest.approx(SCATTERED_WEIGHT)
    assert _match("the red team won, we circle back", "a red circle").held_share == 0.0


def test_two_keywords_a_few_words_apart_count_less_the_farther_apart():
    """Proximity is a graded bonus, not a requirement: "budget meeting" in a line that says
    "budget at the meeting" (two words more between them) holds both at the two-keyword gap weight."""
    line = "discuss the quarterly budget at the meeting"
    assert _match(line, "budget meeting").held_share == pytest.approx(TWO_KEYWORD_GAP_WEIGHTS[0])
    shares = [
        _match(text, "snowman park").held_share
        for text in (
            "a snowman park opened",  # as typed
            "a snowman by park",  # one word more
            "a snowman in the park",  # two more
            "a snowman in the old park",  # three more: scattered with two keywords
        )
    ]
    assert shares == pytest.approx([1.0, NEAR_PAIR_WEIGHT, TWO_KEYWORD_GAP_WEIGHTS[0], 0.0])
    # With three keywords three more words still count, less than two more; four more do not.
    three = [
        _match(text, "snowman park morning").held_share
        for text in (
            "a snowman in the park this morning",
            "a snowman in the old park this morning",
            "a snowman in the old city park this morning",
        )
    ]
    assert three[0] > three[1] > three[2] and MAX_GAP_WORDS == 3


def test_closer_keywords_rank_their_span_higher():
    index = LexicalIndex()
    lines = {
        "three more": "the children built a snowman in the old town park this morning",
        "two more": "the children built a snowman in the park this morning",
        "beside": "the children built a snowman park this morning",
        "one more": "the children built a snowman near park this morning",
    }
    for video_id, text in lines.items():
        index.put(video_id, [TextSpan("said", 1, 2, text, "en", "sidecar")], [0.0])
    found = index.search(parse_query("snowman park"), ["said"], 10)
    assert [m.video_id for m in found] == ["beside", "one more", "two more", "three more"]


def test_a_phrase_query_still_requires_the_phrase():
    index = LexicalIndex()
    index.put("apart", [TextSpan("said", 1, 2, "a snowman in the park", "en", "sidecar")], [0.0])
    index.put("phrase", [TextSpan("said", 1, 2, "the snowman park is closed", "en", "sidecar")], [0.0])
    assert [m.video_id for m in index.search(parse_query('"snowman park"'), ["said"], 10)] == ["phrase"]
    assert [m.video_id for m in index.search(parse_query('"snowman in the park"'), ["said"], 10)] == ["apart"]


def test_the_phrase_as_written_ranks_above_the_same_words_reordered():
    index = LexicalIndex()
    index.put("phrase", [TextSpan("said", 1, 2, "the ferry to Tasmania leaves", "en", "sidecar")], [0.0])
    index.put("reordered", [TextSpan("said", 1, 2, "Tasmania: the ferry leaves", "en", "sidecar")], [0.0])
    assert [m.video_id for m in index.search(parse_query("ferry to Tasmania"), ["said"], 10)] == ["phrase", "reordered"]


SENTENCE = "Please remember to water the plants while I am away"


def test_three_keywords_in_order_a_few_words_apart_count_as_held():
    """The spoken-sentence probe (bench/text/spoken_probe.py): "remember plants away" typed for
    this sentence held nothing beside its neighbours and lost to the picture ranking."""
    match = _match(SENTENCE, "remember plants away")  # three more words between each pair than typed
    assert match.held_share == pytest.approx(GAP_PAIR_WEIGHTS[1])  # what the fusion counts
    assert match.held == {"remember", "plant", "away"}
    assert match.quality == pytest.approx(SCATTERED_WEIGHT + (1 - SCATTERED_WEIGHT) * GAP_PAIR_WEIGHTS[1])
    # Two keywords three words more apart: a coincidence.
    assert _match(SENTENCE, "remember plants").held_share == 0.0


def test_a_gap_counts_nothing_out_of_order_or_too_wide():
    # "remember" after "plants" in the query, before it in the line: only "plants ... away" (in order) holds.
    assert _match(SENTENCE, "plants remember away").held == {"plant", "away"}
    assert _match(SENTENCE, "plants remember").held_share == 0.0
    # Four more words between "remember" and "plants": only "plants ... away" holds.
    wide = _match("please remember to water all of the green plants while I am away", "remember plants away")
    assert wide.held == {"plant", "away"}


def test_a_keyword_missing_from_the_line_leaves_its_neighbours_paired():
    """The probe's "doctor Tuesday afternoon" for a recognizer's "doctor on use day afternoon": Tuesday is
    heard past tolerance, and doctor and afternoon, two places apart in the query, pair."""
    match = _match("i have enapontment with the doctor on use day afternoon", "doctor Tuesday afternoon")
    assert match.held == {"doctor", "afternoon"}
    assert match.held_share > 0  # before: 0, the fusion counted nothing of the line


class _LooksLikeTheDistractors:
    """Embeds every text as dimension 0, where the distractors' first moments lie: the picture
    ranking puts them first and the spoken line's video last (a query of words, not a look)."""

    model_id = MODEL

    def embed_texts(self, texts):
        return one_hot(len(texts), [0] * len(texts))


def test_keywords_three_words_apart_rank_their_video_first_among_one_keyword_distractors(tmp_path):
    """The spoken probe's "snowman park" (bench/text/spoken_probe.py): the line holding both words
    a few words apart is the only one answering both; the distractors each hold one of them, and
    the picture ranking puts them first. Before the graded proximity the line held nothing the
    fusion counted and the picture ranking's first video won."""
    spans = {
        "snowman": ("said", "the children built a snowman in the park this morning"),
        "park": ("said", "we walked in the park all afternoon"),
        "snowman sign": ("written", "SNOWMAN CONTEST"),
        "parking": ("said", "the park is full so park the car outside"),
    }
    searcher = open_searcher(tmp_path, _LooksLikeTheDistractors(), ann="none")
    try:
        for video_id, (kind, text) in spans.items():
            rows = one_hot(2, [1 if video_id == "snowman" else 0, 2])
            span = TextSpan(kind, 1.0, 3.0, text, "en", "speech" if kind == "said" else "ocr")
            searcher.upsert_video(make_video(video_id, 2), make_scenes(2), rows, None, VideoExtras(text_spans=(span,)))
        hits = searcher.search(text="snowman park", params=SearchParams(mode="scenes", top_k=3)).scenes
        assert hits[0].video_id == "snowman" and hits[0].matched_kinds == ("said",)
        assert hits[0].text_matches[0].span.start_seconds == 1.0
        assert hits[0].text_matches[0].marked() == "the children built a [snowman] in the [park] this morning"
        seen = searcher.search(text="snowman park", params=SearchParams(mode="scenes", top_k=3, kinds=("seen",)))
        assert "snowman" not in [hit.video_id for hit in seen.scenes]  # the picture ranking alone misses it
    finally:
        searcher.close()
