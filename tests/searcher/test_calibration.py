"""Calibrated relevance: the curve through a null distribution, its inverse for filters,
which null a query gets, and a real Searcher applying it (vectors stored by hand, a real
Embedder-shaped text embedder is not needed for vector and stored-example queries)."""

from __future__ import annotations

import numpy as np
import pytest

from videosearch.searcher.ranking import calibration
from videosearch.searcher.ranking.calibration import Calibration, Calibrator, fit, image_null, query_kind, text_null


def test_the_null_p99_maps_to_one_half_and_the_median_to_one_percent():
    null = np.random.default_rng(0).normal(0.15, 0.03, 20_000)  # a CLIP's unrelated image-caption cosines
    c = fit("text", null)
    assert c.null_pairs == 20_000
    assert c.relevance(c.null_p99) == pytest.approx(0.5)
    assert c.relevance(c.null_median) == pytest.approx(0.01, abs=1e-6)
    assert c.relevance(0.32) > 0.99 and c.relevance(0.10) < 0.01, "a CLIP match is strong, an unrelated pair is not"
    assert 0.5 * len(null) / 100 < np.sum(c.relevance(null) >= 0.5) < 2 * len(null) / 100


def test_two_models_on_different_raw_scales_get_the_same_relevance_for_the_same_standing():
    rng = np.random.default_rng(1)
    clip, siglip = fit("text", rng.normal(0.15, 0.03, 5000)), fit("text", rng.normal(-0.05, 0.02, 5000))
    # the same number of null standard deviations above each null's mean
    assert clip.relevance(0.15 + 4 * 0.03) == pytest.approx(siglip.relevance(-0.05 + 4 * 0.02), abs=0.05)


@pytest.mark.parametrize("relevance", [0.01, 0.2, 0.5, 0.8, 0.99])
def test_raw_score_inverts_relevance(relevance):
    c = Calibration("text", 0.1, 0.25, 100)
    assert c.relevance(c.raw_score(relevance)) == pytest.approx(relevance, abs=1e-9)


def test_raw_score_is_clamped_to_cosines():
    c = Calibration("text", 0.1, 0.25, 100)
    assert c.raw_score(0.0) == -1.0 and c.raw_score(1.0) == 1.0
    assert Calibration("text", 0.9, 0.99, 10).raw_score(0.999999) == 1.0


def test_an_empty_null_gives_a_curve_centred_on_one_half():
    c = fit("image", np.empty(0))
    assert c.null_pairs == 0 and c.relevance(0.5) == pytest.approx(0.5)


def test_which_null_a_query_gets():
    assert query_kind(["text"]) == "text" and query_kind(["text", "text"]) == "text"
    assert query_kind(["text", "image"]) == "image" and query_kind(["scene"]) == "image"
    assert query_kind(["vector"]) == "image" and query_kind([]) == "image"


def test_the_image_null_leaves_out_pairs_within_a_video():
    rows = np.eye(3, dtype=np.float32)[[0, 0, 1, 2]]  # video a holds two identical moments
    scores = image_null(rows, np.array(["a", "a", "b", "c"], dtype=object))
    assert scores.max() == 0.0 and scores.size == 10  # 4x4 pairs less the 2x2 of video a and the 2 singles' selves
    assert image_null(rows[:2], np.array(["a", "a"], dtype=object)).tolist() == [1.0, 1.0], "one video: not self"
    assert text_null(rows, np.eye(3, dtype=np.float32)).size == 12


def test_the_calibrator_measures_once_and_again_when_the_collection_grows():
    calls = {"sample": 0, "embed": 0}
    rng = np.random.default_rng(2)
    rows = rng.normal(size=(20, 8)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)

    def sample():
        calls["sample"] += 1
        return rows, np.arange(20).astype(str).astype(object)

    def embed(texts):
        calls["embed"] += 1
        out = rng.normal(size=(len(texts), 8)).astype(np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    calibrator = Calibrator()
    first = calibrator.get("m", "text", 20, sample, embed)
    assert first.null_pairs == 20 * len(calibration.REFERENCE_CAPTIONS)
    assert calibrator.get("m", "text", 24, sample, embed) is first, "a small change reuses the measurement"
    embeds = -(-len(calibration.REFERENCE_CAPTIONS) // calibration.CAPTIONS_PER_REQUEST)
    assert calls == {"sample": 1, "embed": embeds} and embeds > 1, "a few small requests, once"
    calibrator.get("m", "text", 40, sample, embed)
    assert calls == {"sample": 2, "embed": embeds}, "the reference captions are embedded once per model"
    calibrator.get("m", "image", 40, sample, embed)
    assert calls == {"sample": 3, "embed": embeds}
    calibrator.forget("m")
    calibrator.get("m", "text", 40, sample, embed)
    assert calls == {"sample": 4, "embed": 2 * embeds}


def test_the_reference_captions_are_english_and_chinese():
    assert any(c.isascii() for c in calibration.REFERENCE_CAPTIONS)
    assert any(not c.isascii() for c in calibration.REFERENCE_CAPTIONS)
    assert len(set(calibration.REFERENCE_CAPTIONS)) == len(calibration.REFERENCE_CAPTIONS)


def test_a_searcher_reports_relevance_and_filters_on_it(searcher, rng):
    from tests.searcher.searcher_testlib import DIM, make_scenes, make_video, random_unit

    from videosearch.searcher.types import SearchFilter, SearchParams

    stored = {f"v{i:02d}": random_unit(rng, 3, DIM) for i in range(12)}
    for video_id, vectors in stored.items():
        searcher.upsert_video(make_video(video_id, 3), make_scenes(3), vectors)
    query = stored["v03"][1]  # exactly one stored moment: far above what other videos' moments score
    result = searcher.search(vector=query, params=SearchParams(top_k=12))
    assert result.calibration.query_kind == "image" and result.calibration.null_pairs == 36 * 36 - 12 * 9
    assert result.strong_relevance == calibration.STRONG_RELEVANCE
    top, rest = result.videos[0], result.videos[1:]
    assert top.video.video_id == "v03" and top.relevance > 0.95 and top.scenes[0].relevance == top.relevance
    assert all(hit.relevance == pytest.approx(result.calibration.relevance(hit.score)) for hit in rest)
    assert sum(hit.relevance >= 0.5 for hit in rest) <= 2, "random moments are rarely strong"

    strong = searcher.search(vector=query, params=SearchParams(top_k=12, filter=SearchFilter(min_relevance=0.5)))
    assert [hit.video.video_id for hit in strong.videos] == \
        [hit.video.video_id for hit in result.videos if hit.relevance >= 0.5]
    with pytest.raises(Exception, match="min_relevance"):
        searcher.search(vector=query, params=SearchParams(filter=SearchFilter(min_relevance=1.5)))
