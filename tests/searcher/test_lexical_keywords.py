"""Keyword queries: a query's words found in a line almost as in the query (one word more or fewer
between them, or swapped) count almost as the phrase (index.py NEAR_PAIR_WEIGHT); words far apart
in the line still count a quarter (the issue 22 probe's "Tasmania ferry" for a subtitle saying
"The ferry to Tasmania leaves from pier seven" lost to the picture ranking at quality 0.25)."""

from __future__ import annotations

import pytest
from videosearch.searcher.lexical.index import GAP_PAIR_WEIGHT, NEAR_PAIR_WEIGHT, SCATTERED_WEIGHT, LexicalIndex
from videosearch.searcher.lexical.tokens import parse_query
from videosearch.searcher.types import TextSpan

LINE = "The ferry to Tasmania leaves from pier seven"


def _match(text: str, query: str):
    index = LexicalIndex()
    index.put("v", [TextSpan("said", 1, 2, text, "en", "sidecar")], [0.0])
    (match,) = index.search(parse_query(query), ["said"], 10)
    return match


def _quality(text: str, query: str) -> float:
    return _match(text, query).quality


@pytest.mark.parametrize("query", ["Tasmania ferry", "FERRY TASMANIA", "seven pier", "leaves pier", "ferry to the Tasmania"])
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
    # Two words between: a line that merely mentions both, not the phrase "budget meeting".
    assert _quality("discuss the quarterly budget at the meeting", "budget meeting") == pytest.approx(SCATTERED_WEIGHT)
    assert _quality("the red team won, we circle back", "a red circle") == pytest.approx(SCATTERED_WEIGHT)


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
    assert match.held_share == pytest.approx(GAP_PAIR_WEIGHT)  # what the fusion counts
    assert match.held == {"remember", "plant", "away"}
    assert match.quality == pytest.approx(SCATTERED_WEIGHT + (1 - SCATTERED_WEIGHT) * GAP_PAIR_WEIGHT)


def test_a_gap_counts_nothing_with_two_keywords_out_of_order_or_too_wide():
    assert _match(SENTENCE, "remember plants").held_share == 0.0  # two keywords: a coincidence
    assert _match(SENTENCE, "plants remember away").held_share == 0.0  # not in the query's order
    # Four more words between "remember" and "plants": only "plants ... away" holds.
    wide = _match("please remember to water all of the green plants while I am away", "remember plants away")
    assert wide.held == {"plant", "away"}
