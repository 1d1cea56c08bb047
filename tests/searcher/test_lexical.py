"""The lexical index (tokens, BM25, phrases) and its fusion with the visual ranking, in process."""

from __future__ import annotations

import numpy as np
import pytest
from tests.searcher.searcher_testlib import DIM, MODEL, make_scenes, make_video, one_hot, open_searcher
from videosearch.common.errors import InvalidArgument
from videosearch.searcher.lexical.fusion import FusionWeights, fuse, shared_ranks
from videosearch.searcher.lexical.index import LexicalIndex, highlights
from videosearch.searcher.lexical.tokens import parse_query, stem, tokenize, without_terms
from videosearch.searcher.types import SearchFilter, SearchParams, TextSpan, VideoExtras


def test_english_is_case_folded_and_lightly_stemmed():
    assert [t.term for t in tokenize("The Budgets were DISCUSSED, running")] == ["budget", "discuss", "run"]
    assert [stem(w) for w in ("cities", "boxes", "glass", "spelled", "bus")] == ["city", "box", "glass", "spell", "bus"]
    tokens = tokenize("the quarterly budget")
    assert [(t.start, t.end, t.position) for t in tokens] == [(4, 13, 1), (14, 20, 2)]  # "the" keeps its position


def test_chinese_is_segmented_into_words_with_sub_words():
    tokens = tokenize("出口处在左边，下午开会")
    terms = [t.term for t in tokens]
    assert "出口处" in terms and "出口" in terms and "左边" in terms and "下午" in terms and "开会" in terms
    sub = next(t for t in tokens if t.term == "出口")
    assert sub.position == next(t for t in tokens if t.term == "出口处").position
    assert "在" not in terms  # a stop word


def _index(*videos):
    index = LexicalIndex()
    for video_id, spans in videos:
        index.put(video_id, spans, [0.0, 10.0, 20.0])
    return index


def test_bm25_prefers_rarer_words_and_shorter_spans():
    index = _index(
        ("a", [TextSpan("said", 1, 2, "the budget for the quarter is tight")]),
        ("b", [TextSpan("said", 1, 2, "budget budget")]),
        ("c", [TextSpan("said", 11, 12, "the weather today and the weather tomorrow and the quarter")]),
    )
    found = index.search(parse_query("budget quarter"), ["said"], 10)
    assert [m.video_id for m in found][:1] == ["a"]  # both words beat one word twice
    assert {m.video_id for m in found} == {"a", "b", "c"}
    c = next(m for m in found if m.video_id == "c")
    assert c.moment_index == 1 and 0 < c.quality < 0.5


def test_exact_phrases_must_match_in_order():
    index = _index(("a", [TextSpan("said", 0, 1, "we discuss the quarterly budget")]),
                   ("b", [TextSpan("said", 0, 1, "the budget is quarterly")]))
    assert {m.video_id for m in index.search(parse_query("quarterly budget"), ["said"], 10)} == {"a", "b"}
    assert [m.video_id for m in index.search(parse_query('"quarterly budget"'), ["said"], 10)] == ["a"]
    assert [m.video_id for m in index.search(parse_query('"discuss quarterly budget"'), ["said"], 10)] == []
    assert [m.video_id for m in index.search(parse_query('"discuss the quarterly"'), ["said"], 10)] == ["a"]


def test_kinds_deletes_and_compaction():
    index = _index(("a", [TextSpan("said", 0, 1, "exit"), TextSpan("written", 12, 13, "EXIT 出口")]),
                   ("b", [TextSpan("written", 0, 1, "出口")]))
    assert [(m.video_id, m.kind, m.moment_index) for m in index.search(parse_query("exit"), ["written"], 10)] == \
        [("a", "written", 1)]
    assert len(index.search(parse_query("exit"), ["said", "written"], 10)) == 2
    index.delete("a")
    assert [m.video_id for m in index.search(parse_query("出口 exit"), ["said", "written"], 10)] == ["b"]
    index.compact()
    assert [m.video_id for m in index.search(parse_query("出口"), ["written"], 10)] == ["b"]
    assert index.span_count == 1
    index.put("a", [TextSpan("said", 0, 1, "exit")], [0.0])
    assert [m.video_id for m in index.search(parse_query("exit"), ["said"], 10)] == ["a"]


def test_highlights_cover_the_matched_words():
    query = parse_query("quarterly budgets 出口")
    text = "Quarterly budget: 出口处 left"
    assert [text[a:b] for a, b in highlights(text, query)] == ["Quarterly budget", "出口"]


def test_weighted_rank_fusion():
    weights = FusionWeights()
    seen = [("v", 0), ("v", 1), ("w", 0)]
    fused = fuse(seen, {"said": [(("w", 0), 1.0, 5.0)]}, weights, set(seen[:2]))
    assert fused[0].key == ("w", 0) and fused[0].kinds == ("said",)  # full text match beats the visual first
    assert fused[1].kinds == ("seen",)
    assert fused[0].score == pytest.approx(1 / 63 + 1.5 / 61)
    deep = [("v", i) for i in range(11)] + [("w", 0)]
    scattered = fuse(deep, {"said": [(("w", 0), 0.0, 5.0)]}, weights, set(deep[:3]))
    assert [f.key for f in scattered] == deep  # words held only scattered answer nothing: the look decides
    part = fuse(deep, {"said": [(("w", 0), 0.3, 5.0)]}, weights, set(deep[:3]))
    assert part[0].key == ("w", 0) and part[0].score == pytest.approx(1 / 72 + 1.5 * 0.3 / 61)
    same_look = fuse(deep, {"said": [(("w", 0), 0.0, 5.0)]}, weights, set(), seen_scores=[0.0] * 12)
    assert same_look[0].key == ("w", 0)  # among moments that look the same, the one holding words goes first


def test_shared_ranks():
    assert shared_ranks([0.9, 0.5, 0.5, 0.1]) == [1, 2, 2, 4]
    assert shared_ranks([]) == []


def test_fusion_ties_share_a_rank_and_restated_seen_ranks_replace_the_whole_querys():
    weights = FusionWeights()
    seen = [("decoy", 0), ("right", 0)]
    written = [(("decoy", 0), 0.5, 3.0), (("right", 0), 0.5, 3.0)]  # the same words on both: one rank
    fused = fuse(seen, {"written": written}, weights, set(seen))
    assert fused[0].key == ("decoy", 0)
    assert fused[1].score == pytest.approx(1 / 62 + 1.5 * 0.5 / 61)
    # Ranked by the rest of the query (without the words both hold), the right moment looks first.
    restated = {("decoy", 0): 2, ("right", 0): 1}
    fused = fuse(seen, {"written": written}, weights, {("right", 0)}, restated)
    assert [f.key for f in fused] == [("right", 0), ("decoy", 0)]
    assert fused[0].kinds == ("seen", "written") and fused[1].kinds == ("written",)
    unranked = fuse(seen, {"written": written}, weights, set(), {("right", 0): None})
    assert unranked[1].key == ("right", 0) and unranked[1].score == pytest.approx(1.5 * 0.5 / 61)


def test_without_terms_cuts_the_held_words_out_of_the_query_text():
    assert without_terms("a red circle EXIT NORTH", frozenset({"exit", "north"})) == "a red circle"
    assert without_terms('a red circle "EXIT NORTH"', frozenset({"exit", "north"})) == "a red circle"
    assert without_terms("a red circle 北门停车场", frozenset({"北门", "停车场"})) == "a red circle"
    assert without_terms("a red circle", frozenset({"blue"})) == "a red circle"
    assert without_terms("the budgets", frozenset({"budget"})) is None  # only a stop word left: nothing


def _bag_embedder():
    class BagOfWords:
        """A text is the sum of its known words' axes: the words on a sign pull the whole query's
        embedding towards a frame that shows those words (CLIP reads text in images too)."""

        model_id = MODEL
        words = ["red", "blue", "circle", "exit", "north"]

        def embed_texts(self, texts):
            rows = np.zeros((len(texts), DIM), np.float32)
            for row, text in zip(rows, texts):
                for axis, word in enumerate(self.words):
                    row[axis] = float(word in text.lower())
                row[15] = 0.01  # never all zeros
            return rows

    return BagOfWords()


def test_a_seen_and_written_query_ranks_the_look_by_the_words_the_sign_does_not_hold(tmp_path):
    """Two moments show the sign EXIT NORTH; only one is a red circle. The decoy's frame looks more
    like the whole query (its sign's words), so ranking its look by the whole query puts it first;
    ranked by the rest ("a red circle") the right moment wins."""
    searcher = open_searcher(tmp_path / "data", _bag_embedder(), ann="none")
    try:
        looks = {"decoy": [1, 2, 3, 4], "right": [0, 2], "plain": [1, 2]}  # axes: red blue circle exit north
        for video_id in ("decoy", "right", "plain"):
            rows = np.zeros((2, DIM), np.float32)
            rows[0, looks[video_id]] = 1.0
            rows[1, 15] = 1.0
            rows /= np.linalg.norm(rows, axis=1, keepdims=True)
            spans = (TextSpan("written", 0.1, 0.9, "EXIT NORTH", "en", "ocr"),) if video_id != "plain" else ()
            searcher.upsert_video(make_video(video_id, 2), make_scenes(2), rows, None, VideoExtras(text_spans=spans))
        query = "a red circle EXIT NORTH"
        seen_only = searcher.search(text=query, params=SearchParams(mode="scenes", top_k=3, kinds=("seen",))).scenes
        assert seen_only[0].video_id == "decoy"  # the whole query's look favours the decoy
        hits = searcher.search(text=query, params=SearchParams(mode="scenes", top_k=3)).scenes
        assert [(h.video_id, h.moment.index) for h in hits[:2]] == [("right", 0), ("decoy", 0)]
        assert hits[0].matched_kinds == ("seen", "written")
        assert hits[0].score == pytest.approx(seen_only[[h.video_id for h in seen_only].index("right")].score)
    finally:
        searcher.close()


def _embedder():
    class WordEmbedder:
        """Texts to one-hot vectors by their first known word (a stand-in for CLIP's text tower:
        these tests are about the fusion, not the model)."""

        model_id = MODEL
        words = ["red", "green", "blue", "dog"]

        def embed_texts(self, texts):
            rows = [next((i for i, w in enumerate(self.words) if w in t), 15) for t in texts]
            return one_hot(len(texts), rows)

    return WordEmbedder()


@pytest.fixture
def library(tmp_path):
    searcher = open_searcher(tmp_path / "data", _embedder(), ann="none")
    # "red": the visual match; "talk": says the budget; "sign": shows 出口 on screen.
    for video_id, look, spans in (
        ("red", 0, ()),
        ("talk", 1, (TextSpan("said", 1.2, 1.9, "We will discuss the quarterly budget.", "en", "speech"),)),
        ("sign", 2, (TextSpan("written", 0.1, 0.9, "紧急出口 EXIT", "zh", "ocr"),)),
    ):
        rows = one_hot(2, [look, 3])
        searcher.upsert_video(make_video(video_id, 2), make_scenes(2), rows, None, VideoExtras(text_spans=spans))
    yield searcher
    searcher.close()


def test_each_kind_answers_its_own_query(library):
    scenes = SearchParams(mode="scenes", top_k=3)
    assert library.search(text="red", params=scenes).scenes[0].video_id == "red"
    said = library.search(text="quarterly budget", params=scenes).scenes[0]
    assert (said.video_id, said.moment.index, said.matched_kinds) == ("talk", 1, ("said",))
    match = said.text_matches[0]
    assert (match.span.start_seconds, match.span.end_seconds) == (1.2, 1.9)
    assert match.marked() == "We will discuss the [quarterly budget]."
    written = library.search(text="出口", params=scenes).scenes[0]
    assert (written.video_id, written.moment.index, written.matched_kinds) == ("sign", 0, ("written",))
    assert written.text_matches[0].marked() == "紧急[出口] EXIT"
    videos = library.search(text="quarterly budget", params=SearchParams(top_k=1)).videos
    assert videos[0].video.video_id == "talk" and videos[0].scenes[0].text_matches


def test_kinds_restrict_what_is_searched(library):
    only_seen = library.search(text="quarterly budget", params=SearchParams(mode="scenes", kinds=("seen",)))
    assert all(hit.matched_kinds == ("seen",) and not hit.text_matches for hit in only_seen.scenes)
    only_said = library.search(text="quarterly budget 出口", params=SearchParams(mode="scenes", kinds=("said",)))
    assert [hit.video_id for hit in only_said.scenes] == ["talk"] and only_said.scenes[0].score == 0.0
    with pytest.raises(InvalidArgument, match="needs a text query"):
        library.search(vector=one_hot(1, [0])[0], params=SearchParams(kinds=("written",)))
    with pytest.raises(InvalidArgument, match="unknown"):
        library.search(text="x", params=SearchParams(kinds=("heard",)))  # type: ignore[arg-type]


def test_filters_apply_to_text_matches(library):
    params = SearchParams(mode="scenes", filter=SearchFilter(path_prefix="/videos/sign"), kinds=("said", "written"))
    assert [hit.video_id for hit in library.search(text="quarterly 出口", params=params).scenes] == ["sign"]


def test_the_index_is_rebuilt_at_start_and_follows_deletes(tmp_path, library):
    library.close()
    reopened = open_searcher(tmp_path / "data", _embedder(), ann="none")
    try:
        assert reopened.lexical.span_count == 2
        assert reopened.search(text="出口", params=SearchParams(mode="scenes")).scenes[0].video_id == "sign"
        reopened.delete_video("sign")
        hits = reopened.search(text="出口", params=SearchParams(mode="scenes", kinds=("written",))).scenes
        assert hits == []
    finally:
        reopened.close()
    library.store = None  # closed above; the fixture's close must not run twice
    library.close = lambda: None


def test_words_beside_each_other_count_fully_scattered_ones_a_quarter():
    index = _index(("scattered", [TextSpan("said", 0, 1, "the red team won, we circle back")]),
                   ("phrase", [TextSpan("said", 0, 1, "look at the red circle there")]))
    found = {m.video_id: m for m in index.search(parse_query("a red circle"), ["said"], 10)}
    assert found["phrase"].quality == pytest.approx(1.0)
    assert found["scattered"].quality == pytest.approx(0.25)
    short_partial = _index(("long", [TextSpan("said", 0, 1, "now we discuss the library inspection, thanks all of you")]),
                           ("short", [TextSpan("said", 0, 1, "library renovation")]))
    # BM25 alone prefers the short span holding one word; the quality puts the whole phrase first.
    assert [m.video_id for m in short_partial.search(parse_query("library inspection"), ["said"], 10)] == ["long", "short"]


@pytest.mark.timeout(300)
def test_on_milvus_spans_are_stored_there_and_searched_by_the_index_beside_it(tmp_path):
    """milvus-lite keeps the spans (a blob of the video's generation); the lexical index beside it
    is rebuilt from Milvus when a Searcher starts and follows its deletes."""
    settings = {"backend": "milvus", "milvus_uri": str(tmp_path / "milvus.db")}
    searcher = open_searcher(tmp_path / "unused", _embedder(), **settings)
    try:
        spans = (TextSpan("said", 1.2, 1.9, "the quarterly budget", "en", "speech"),)
        searcher.upsert_video(make_video("talk", 2), make_scenes(2), one_hot(2, [1, 3]), None, VideoExtras(text_spans=spans))
        searcher.upsert_video(make_video("red", 2), make_scenes(2), one_hot(2, [0, 3]), None, VideoExtras())
        hit = searcher.search(text="quarterly budget", params=SearchParams(mode="scenes", top_k=1)).scenes[0]
        assert (hit.video_id, hit.moment.index, hit.matched_kinds) == ("talk", 1, ("said",))
    finally:
        searcher.close()
    reopened = open_searcher(tmp_path / "unused", _embedder(), **settings)
    try:
        assert reopened.get_text_spans("talk") == spans and reopened.lexical.span_count == 1
        hit = reopened.search(text="budget", params=SearchParams(mode="scenes", kinds=("said",))).scenes[0]
        assert hit.text_matches[0].marked() == "the quarterly [budget]"
        reopened.delete_video("talk")
        assert reopened.search(text="budget", params=SearchParams(mode="scenes", kinds=("said",))).scenes == []
    finally:
        reopened.close()
