"""The Searcher domain object: validation, pagination, model checks, reopen."""

from __future__ import annotations

import dataclasses
from fractions import Fraction

import numpy as np
import pytest
from videosearch.common.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from videosearch.searcher.service import Searcher
from videosearch.searcher.query_embedder import RemoteQueryEmbedder
from videosearch.searcher.types import SceneRecord, SearchParams

from tests.searcher.searcher_testlib import (
    DIM,
    MODEL,
    make_scenes,
    make_video,
    open_searcher,
    random_unit,
    unit,
)


def add(searcher, vid, n=3, rng=None, **kw):
    rng = rng or np.random.default_rng(abs(hash(vid)) % 1000)
    return searcher.upsert_video(make_video(vid, n, **kw), make_scenes(n), random_unit(rng, n, kw.get("dim", DIM)))


def test_upsert_get_replace_delete(searcher, rng):
    stored, replaced = add(searcher, "v", 3, rng)
    assert not replaced and stored.scene_count == 3 and stored.indexed_at is not None
    video, scenes = searcher.get_video("v")
    assert video == stored and scenes == make_scenes(3)
    _, replaced = add(searcher, "v", 2, rng)
    assert replaced
    assert len(searcher.get_video("v")[1]) == 2
    assert searcher.stats().scene_count == 2
    assert searcher.delete_video("v") == 2
    with pytest.raises(NotFound, match="no video with id 'v'"):
        searcher.get_video("v")
    with pytest.raises(NotFound):
        searcher.delete_video("v")
    assert searcher.stats().video_count == 0


def test_contents_survive_reopen(tmp_path, rng):
    first = open_searcher(tmp_path / "d", ann="none")
    add(first, "a", 2, rng)
    add(first, "b", 4, rng)
    first.delete_video("a")
    q = random_unit(rng, 1)[0]
    before = first.search(vector=q)
    first.close()
    second = open_searcher(tmp_path / "d", ann="none")
    assert second.stats().scene_count == 4 and second.stats().model_id == MODEL
    after = second.search(vector=q)
    assert [(h.video.video_id, h.score) for h in after.videos] == [(h.video.video_id, h.score) for h in before.videos]
    # Scene timing is rebuilt from the store, not from the upserts of the first process.
    hits = second.search(vector=q, params=SearchParams(top_k=4, mode="scenes")).scenes
    assert sorted(h.scene.index for h in hits) == [0, 1, 2, 3]
    assert all(h.scene == make_scenes(4)[h.scene.index] for h in hits)
    add(second, "c", 1, rng)  # still writable after the post-load reopen
    second.close()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda v, s, e: (v, [], e[:0]), "at least one scene"),
        (lambda v, s, e: (v, [dataclasses.replace(s[0], index=1), *s[1:]], e), r"scenes\[0\].index is 1"),
        (lambda v, s, e: (v, [dataclasses.replace(s[0], end_frame=0), *s[1:]], e), r"need 0 <= start_frame < end_frame"),
        (lambda v, s, e: (v, [s[0], dataclasses.replace(s[1], start_frame=10), s[2]], e), "must not overlap"),
        (lambda v, s, e: (v, s, e[:2]), r"shape \[2, 16\]; need \[3, 16\]"),
        (lambda v, s, e: (v, s, np.full_like(e, np.nan)), "NaN"),
        (lambda v, s, e: (v, s, e * 2), "must be L2-normalized"),
        (lambda v, s, e: (v, s, np.zeros_like(e)), "must be L2-normalized"),
        (lambda v, s, e: (dataclasses.replace(v, video_id=""), s, e), "video_id is empty"),
        (lambda v, s, e: (dataclasses.replace(v, model_id=""), s, e), "model_id is empty"),
        (lambda v, s, e: (dataclasses.replace(v, embedding_dim=8), s, e), r"need \[3, 8\]"),
        (lambda v, s, e: (dataclasses.replace(v, fps=Fraction(0)), s, e), "positive frame rate"),
    ],
)
def test_bad_upserts_are_invalid_arguments(searcher, rng, change, message):
    video, scenes, embeddings = change(make_video("v", 3), make_scenes(3), random_unit(rng, 3))
    with pytest.raises(InvalidArgument, match=message):
        searcher.upsert_video(video, scenes, embeddings)
    assert searcher.stats().video_count == 0


def test_nearly_unit_embeddings_are_renormalized(searcher, rng):
    rows = random_unit(rng, 2) * np.float32(1.004)
    searcher.upsert_video(make_video("v", 2), make_scenes(2), rows)
    stored = searcher.store.get_embeddings("v")
    np.testing.assert_allclose(np.linalg.norm(stored, axis=1), 1.0, atol=1e-6)


def test_model_mismatch_is_a_failed_precondition(searcher, rng):
    add(searcher, "v", 2, rng)
    with pytest.raises(FailedPrecondition, match=f"holds embeddings of model '{MODEL}'.*re-index.*data dir"):
        add(searcher, "w", 2, rng, model_id="another/model")
    with pytest.raises(FailedPrecondition, match="another/model"):
        searcher.search(vector=random_unit(rng, 1)[0], model_id="another/model")
    assert searcher.search(vector=random_unit(rng, 1)[0], model_id=MODEL).videos


@pytest.mark.parametrize(
    "params, message",
    [
        (SearchParams(top_k=-1), "top_k must be between 1 and 1000"),
        (SearchParams(top_k=1001), "top_k must be between 1 and 1000"),
        (SearchParams(scenes_per_video=101), "scenes_per_video must be between 1 and 100"),
        (SearchParams(scenes_per_video=-2), "scenes_per_video must be between 1 and 100"),
    ],
)
def test_bad_search_limits(searcher, rng, params, message):
    add(searcher, "v", 2, rng)
    with pytest.raises(InvalidArgument, match=message):
        searcher.search(vector=random_unit(rng, 1)[0], params=params)


def test_search_defaults_and_bad_queries(searcher, rng):
    for i in range(12):
        add(searcher, f"v{i:02d}", 5, rng)
    result = searcher.search(vector=random_unit(rng, 1)[0], params=SearchParams(top_k=0, scenes_per_video=0))
    assert len(result.videos) == 10 and all(len(h.scenes) == 3 for h in result.videos)
    assert result.model_id == MODEL and result.rank_ms > 0
    with pytest.raises(InvalidArgument, match="has 8 dimensions but the stored embeddings have 16"):
        searcher.search(vector=random_unit(rng, 1, 8)[0])
    with pytest.raises(InvalidArgument, match="all zeros"):
        searcher.search(vector=np.zeros(DIM, np.float32))
    with pytest.raises(InvalidArgument, match="NaN"):
        searcher.search(vector=np.full(DIM, np.inf, np.float32))
    with pytest.raises(InvalidArgument, match="query text is empty"):
        searcher.search(text="   ")
    with pytest.raises(InvalidArgument, match="exactly one query"):
        searcher.search()
    # Un-normalized queries are normalized: scores stay cosines.
    q = random_unit(rng, 1)[0]
    assert searcher.search(vector=q * 7).videos[0].score == pytest.approx(searcher.search(vector=q).videos[0].score)


def test_empty_collection_returns_an_empty_result(searcher, rng):
    result = searcher.search(vector=random_unit(rng, 1)[0])
    assert result.videos == [] and result.scenes == []
    assert searcher.search(text="a red circle").videos == []  # no Embedder needed for nothing


def test_text_search_without_a_reachable_embedder_is_unavailable(tmp_path, rng):
    unreachable = RemoteQueryEmbedder("127.0.0.1:1", timeout=2)
    searcher = open_searcher(tmp_path / "d", unreachable, ann="none")
    try:
        add(searcher, "v", 2, rng)
        with pytest.raises(Unavailable, match="unreachable"):
            searcher.search(text="a dog")
    finally:
        searcher.close()
        unreachable.close()


def test_pagination(searcher, rng):
    ids = [f"v{i:02d}" for i in range(7)]
    for vid in reversed(ids):
        add(searcher, vid, 1, rng)
    seen, token, pages = [], "", 0
    while True:
        videos, token, total = searcher.list_videos(3, token)
        assert total == 7
        seen += [v.video_id for v in videos]
        pages += 1
        if not token:
            break
    assert seen == ids and pages == 3
    assert [v.video_id for v in searcher.list_videos(0)[0]] == ids
    with pytest.raises(InvalidArgument, match="page_size must not be negative"):
        searcher.list_videos(-1)
    for bad in ["%%%", "bm90IG91cnM=", "x"]:
        with pytest.raises(InvalidArgument, match="page_token is malformed"):
            searcher.list_videos(3, bad)


def test_page_size_defaults_to_50_and_caps_at_1000(searcher, rng):
    rows = unit(np.ones((1, DIM)))
    for i in range(1003):
        searcher.store.leveldb.put_video(make_video(f"v{i:04d}", 1), make_scenes(1), rows)
    assert len(searcher.list_videos(0)[0]) == 50
    videos, token, _ = searcher.list_videos(5000)
    assert len(videos) == 1000 and token
    assert len(searcher.list_videos(5000, token)[0]) == 3


def test_scene_records_roundtrip_unchanged(searcher, rng):
    scenes = [SceneRecord(0, 0, 7, 0.0, 0.2335, 1), SceneRecord(1, 9, 100, 0.3, 3.3366, 4)]
    searcher.upsert_video(make_video("v", 2, length=50), scenes, random_unit(rng, 2))
    assert searcher.get_video("v")[1] == scenes
