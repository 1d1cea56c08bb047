"""Tolerant matching of recognized words (lexical/tolerant.py): a query word finds its near
spellings in speech- and OCR-recognized spans only, never in subtitles, quoted phrases or Chinese."""

from __future__ import annotations

import pytest
from tests.searcher.searcher_testlib import make_scenes, make_video, one_hot, open_searcher
from videosearch.searcher.lexical.index import LexicalIndex
from videosearch.searcher.lexical.tokens import parse_query
from videosearch.searcher.lexical.tolerant import Vocabulary, edit_distance, max_edits
from videosearch.searcher.types import SearchParams, TextSpan, VideoExtras


def _index(*videos, tolerant=True):
    index = LexicalIndex(tolerant=tolerant)
    for video_id, spans in videos:
        index.put(video_id, spans, [0.0, 10.0, 20.0])
    return index


def _found(index, text, kinds=("said", "written")):
    return [m.video_id for m in index.search(parse_query(text), list(kinds), 10)]


def test_edit_distance_is_bounded_and_counts_a_swap_once():
    assert edit_distance("mountain", "mountin", 2) == 1
    assert edit_distance("bicycle", "bicicl", 2) == 2
    assert edit_distance("form", "from", 1) == 1  # two neighbours swapped
    assert edit_distance("budget", "window", 2) == 3  # past the bound: bound + 1
    assert [max_edits(n) for n in (4, 5, 6, 9, 10)] == [1, 1, 2, 2, 3]


def test_vocabulary_finds_near_spellings_and_words_heard_apart():
    vocabulary = Vocabulary()
    for term in ("mountin", "bicicl", "light", "huse", "budget", "出口"):
        vocabulary.add(term)
    known = {"mountin", "bicicl", "light", "huse", "budget"}.__contains__
    assert [m.terms for m in vocabulary.near_matches("mountain", known)] == [("mountin",)]
    assert [m.terms for m in vocabulary.near_matches("lighthouse", known)] == [("light", "huse")]
    assert vocabulary.near_matches("budget", known) == []  # itself is exact, not near
    assert vocabulary.near_matches("red", known) == []  # too short to tell a mishearing from another word
    assert vocabulary.near_matches("出口处", known) == []  # Chinese is never near-matched
    weight = vocabulary.near_matches("mountain", known)[0].weight
    assert 0.5 < weight < 1.0


def test_a_swap_that_breaks_every_trigram_is_still_found():
    # "umbrella" heard as "ubmr ella": the head "ubmr" shares no trigram with "umbr" (a swap of two
    # neighbours breaks four), so only the direct lookup of swapped spellings finds it.
    vocabulary = Vocabulary()
    for term in ("ubmr", "ella", "bucycle"):
        vocabulary.add(term)
    known = {"ubmr", "ella", "bucycle"}.__contains__
    assert [m.terms for m in vocabulary.near_matches("umbrella", known)] == [("ubmr", "ella")]
    index = _index(("right", [TextSpan("said", 0, 1, "and ubmr ella bucycle so", "en", "speech")]),
                   ("one word", [TextSpan("said", 0, 1, "and bicycle tomorrow so", "en", "speech")]))
    found = index.search(parse_query("umbrella bicycle"), ["said"], 10)
    assert [m.video_id for m in found] == ["right", "one word"]  # both words beside each other beat one exact word
    assert found[0].held == {"umbrella", "bicycle"} and found[1].held == frozenset()


def test_a_misheard_word_is_found_by_the_right_word_and_ranks_its_video_first():
    index = _index(
        ("heard", [TextSpan("said", 11, 13, "we climbed the mountins on a bicicl", "en", "speech")]),
        ("other", [TextSpan("said", 1, 3, "we climbed the stairs", "en", "speech")]),
        ("lecture", [TextSpan("said", 1, 3, "tomorrow the old light huse will be painted white", "en", "speech")]),
    )
    found = index.search(parse_query("climbed mountains bicycle"), ["said"], 10)
    assert [m.video_id for m in found] == ["heard", "other"] and found[0].moment_index == 1
    assert found[1].quality < found[0].quality < 1.0  # near matches count less than exact ones
    assert _found(index, "lighthouse painted")[:1] == ["lecture"]
    assert (
        _found(
            _index(
                *[(v, s) for v, s in (("heard", [TextSpan("said", 11, 13, "the mountins", "en", "speech")]),)],
                tolerant=False,
            ),
            "mountains",
        )
        == []
    )


def test_a_stemmed_query_word_is_also_looked_up_as_written():
    index = _index(("heard", [TextSpan("said", 1, 2, "good mornng everyone", "en", "speech")]))
    assert _found(index, "morning") == ["heard"]  # "mornng" is one edit from "morning", two from its stem "morn"


def test_subtitles_are_exact_and_on_screen_text_is_tolerated():
    index = _index(
        ("subtitled", [TextSpan("said", 1, 2, "we climbed the mountins", "en", "sidecar")]),
        ("streamed", [TextSpan("said", 1, 2, "we climbed the mountins", "en", "subtitle_stream")]),
        ("sign", [TextSpan("written", 1, 2, "MOUNTINS TRAIL", "", "ocr")]),
    )
    assert _found(index, "mountains") == ["sign"]


def test_quoted_phrases_stay_exact_and_chinese_is_untouched():
    index = _index(
        ("heard", [TextSpan("said", 1, 2, "the quarterly budjet is tight", "en", "speech")]),
        ("zh", [TextSpan("said", 1, 2, "我们讨论季度预算", "zh", "speech")]),
    )
    assert _found(index, "quarterly budget") == ["heard"]
    assert _found(index, '"quarterly budget"') == []
    assert index.tolerated(parse_query('"quarterly budget"')) == {}
    assert index.tolerated(parse_query("季度预算")) == {}
    assert _found(index, "季度预算") == ["zh"]


class _ColourEmbedder:
    """Texts to one-hot vectors by their first colour word (a stand-in for CLIP's text tower)."""

    from tests.searcher.searcher_testlib import MODEL as model_id

    words = ["red", "green", "blue"]

    def embed_texts(self, texts):
        return one_hot(len(texts), [next((i for i, w in enumerate(self.words) if w in t), 15) for t in texts])


@pytest.fixture
def library(tmp_path):
    searcher = open_searcher(tmp_path / "data", _ColourEmbedder(), ann="none")
    for video_id, look, spans in (
        ("red", 0, ()),
        ("green", 1, (TextSpan("said", 1.2, 1.9, "the rad circus and the blur cirle", "en", "speech"),)),
        (
            "lecture",
            2,
            (TextSpan("said", 1.2, 1.9, "tomorrow the old light huse will be painted white", "en", "speech"),),
        ),
    ):
        searcher.upsert_video(
            make_video(video_id, 2), make_scenes(2), one_hot(2, [look, 3]), None, VideoExtras(text_spans=spans)
        )
    yield searcher
    searcher.close()


def test_a_visual_query_is_not_changed_by_near_matches(library):
    params = SearchParams(mode="scenes", top_k=3)
    tolerant = [(h.video_id, h.moment.index) for h in library.search(text="a red circle", params=params).scenes]
    library.lexical.tolerant = False
    exact = [(h.video_id, h.moment.index) for h in library.search(text="a red circle", params=params).scenes]
    library.lexical.tolerant = True
    assert tolerant[0] == exact[0] == ("red", 0)


def test_a_speech_only_video_ranks_first_and_its_near_words_are_highlighted(library):
    hit = library.search(text="lighthouse painted", params=SearchParams(mode="scenes", top_k=3)).scenes[0]
    assert (hit.video_id, hit.moment.index) == ("lecture", 1) and "said" in hit.matched_kinds
    assert hit.text_matches[0].marked() == "tomorrow the old [light huse] will be [painted] white"
    video = library.search(text="lighthouse painted", params=SearchParams(top_k=3)).videos[0]
    assert video.video.video_id == "lecture"


def test_a_word_heard_run_together_with_its_stop_word_is_found():
    """The spoken probe's "I have an appointment with the doctor ...": the demo recognizer heard
    "an appointment" as one word, "enapontment" (4 edits from "appointment", past tolerance; 3
    from "anappointment", within it)."""
    heard = "i have enapontment with the doctor on use day afternoon"
    index = _index(("heard", [TextSpan("said", 0, 1, heard, "en", "speech")]))
    query = parse_query("I have an appointment with the doctor")
    assert [m.terms for m in index.tolerated(query)["appointment"]] == [("enapontment",)]
    (match,) = index.search(query, ["said"], 10)
    assert match.held == {"appointment", "doctor"}
    assert match.held_share > _index(("heard", [TextSpan("said", 0, 1, heard, "en", "speech")]), tolerant=False).search(
        query, ["said"], 10
    )[0].held_share
    # Subtitles are exact text: no near match there.
    exact = _index(("heard", [TextSpan("said", 0, 1, heard, "en", "sidecar")]))
    assert exact.search(query, ["said"], 10)[0].held == frozenset()


def test_a_run_together_spelling_counts_only_when_the_stop_word_explains_part_of_it():
    vocabulary = Vocabulary()
    for term in ("enapontment", "haven"):
        vocabulary.add(term)
    known = {"enapontment", "haven"}.__contains__
    assert [m.terms for m in vocabulary.near_joined("appointment", "anappointment", known)] == [("enapontment",)]
    # "haven" is one edit from "havean" and one from "have" alone: the stop
    # word explains nothing, so it is "have"'s own near match or none, never a run-together one.
    assert vocabulary.near_joined("have", "havean", known) == []
    assert vocabulary.near_joined("tea", "teaon", known) == []  # too short to tell a mishearing
