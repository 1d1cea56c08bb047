"""Exact ranking against a brute-force reference: video MAX / MEAN, scene mode, ties,
updates, compaction and concurrent readers."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from videosearch.searcher.ranking.index import MomentIndex
from videosearch.searcher.types import SearchParams

from tests.searcher.searcher_testlib import (
    DIM,
    make_scenes,
    make_video,
    one_hot,
    random_unit,
    unit,
)


def reference(collection: dict[str, np.ndarray], query: np.ndarray, params: SearchParams):
    """Plain-Python ranking in float64: [(video_id, score, [(scene index, score), ...])] or scene hits."""
    q = query.astype(np.float64)
    if params.mode == "scenes":
        hits = [(vid, i, float(v.astype(np.float64) @ q)) for vid, rows in collection.items() for i, v in enumerate(rows)]
        hits.sort(key=lambda h: (-h[2], h[0], h[1]))
        return hits[: params.top_k]
    videos = []
    for vid, rows in collection.items():
        scores = rows.astype(np.float64) @ q
        score = scores.max() if params.video_scoring == "max" else scores.mean()
        scenes = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[: params.scenes_per_video]
        videos.append((vid, float(score), [(i, float(scores[i])) for i in scenes]))
    videos.sort(key=lambda v: (-v[1], v[0]))
    return videos[: params.top_k]


def build(collection: dict[str, np.ndarray], **kwargs) -> MomentIndex:
    index = MomentIndex(DIM, **kwargs)
    serial = 0
    for generation, (vid, rows) in enumerate(collection.items()):
        index.upsert(make_video(vid, len(rows)), make_scenes(len(rows)), rows, serial, generation)
        serial += len(rows)
    return index


def assert_same_videos(got, want):
    assert [h.video.video_id for h in got] == [w[0] for w in want]
    for hit, (_vid, score, scenes) in zip(got, want):
        assert hit.score == pytest.approx(score, abs=1e-5)
        assert [s.scene.index for s in hit.scenes] == [i for i, _ in scenes]
        assert [s.score for s in hit.scenes] == pytest.approx([s for _, s in scenes], abs=1e-5)


def assert_same_scenes(got, want):
    assert [(h.video_id, h.scene.index) for h in got] == [(v, i) for v, i, _ in want]
    assert [h.score for h in got] == pytest.approx([s for _, _, s in want], abs=1e-5)


def random_collection(rng, n_videos=60, max_scenes=8):
    ids = [f"vid{int(i):04d}" for i in rng.permutation(n_videos)]  # insertion order != id order
    return {vid: random_unit(rng, int(rng.integers(1, max_scenes + 1))) for vid in ids}


@pytest.mark.parametrize("scoring", ["max", "mean"])
def test_video_ranking_matches_brute_force(rng, scoring):
    collection = random_collection(rng)
    index = build(collection)
    for query in random_unit(rng, 20):
        params = SearchParams(top_k=10, scenes_per_video=3, video_scoring=scoring)
        videos, scenes = index.search(query, params)
        assert scenes == []
        assert_same_videos(videos, reference(collection, query, params))


def test_max_and_mean_rank_differently(rng):
    # One video with a single perfect scene among bad ones, another uniformly good.
    q = unit(np.eye(DIM)[0])
    spiky = unit(np.vstack([np.eye(DIM)[0], -np.eye(DIM)[0] + 0.01, -np.eye(DIM)[0] + 0.01]))
    steady = unit(np.vstack([np.eye(DIM)[0] + np.eye(DIM)[1]] * 3))
    index = build({"spiky": spiky, "steady": steady})
    by_max, _ = index.search(q, SearchParams(video_scoring="max"))
    by_mean, _ = index.search(q, SearchParams(video_scoring="mean"))
    assert [h.video.video_id for h in by_max] == ["spiky", "steady"]
    assert [h.video.video_id for h in by_mean] == ["steady", "spiky"]


def test_scene_mode_matches_brute_force(rng):
    collection = random_collection(rng)
    index = build(collection)
    for query in random_unit(rng, 20):
        params = SearchParams(top_k=25, mode="scenes")
        videos, scenes = index.search(query, params)
        assert videos == []
        assert_same_scenes(scenes, reference(collection, query, params))


def test_ties_break_by_video_id_then_scene_index():
    # Exact scores: one-hot rows give 1.0 or 0.0 whatever the BLAS summation order.
    collection = {
        "c": one_hot(3, [0, 1, 0]),
        "a": one_hot(2, [1, 0]),
        "b": one_hot(4, [2, 0, 0, 0]),
        "d": one_hot(1, [3]),
    }
    index = build(collection)
    q = np.eye(DIM, dtype=np.float32)[0]
    videos, _ = index.search(q, SearchParams(top_k=2, scenes_per_video=2))
    assert [(h.video.video_id, h.score) for h in videos] == [("a", 1.0), ("b", 1.0)]
    assert [s.scene.index for s in videos[1].scenes] == [1, 2]
    _, scenes = index.search(q, SearchParams(top_k=4, mode="scenes"))
    assert [(h.video_id, h.scene.index) for h in scenes] == [("a", 1), ("b", 1), ("b", 2), ("b", 3)]
    videos, _ = index.search(q, SearchParams(top_k=10, scenes_per_video=1, video_scoring="mean"))
    assert [h.video.video_id for h in videos] == ["b", "c", "a", "d"]  # means 0.75, 0.667, 0.5, 0


def test_top_k_beyond_the_collection_returns_everything(rng):
    collection = random_collection(rng, n_videos=4, max_scenes=2)
    index = build(collection)
    videos, _ = index.search(random_unit(rng, 1)[0], SearchParams(top_k=1000, scenes_per_video=100))
    assert sorted(h.video.video_id for h in videos) == sorted(collection)
    _, scenes = index.search(random_unit(rng, 1)[0], SearchParams(top_k=1000, mode="scenes"))
    assert len(scenes) == sum(len(v) for v in collection.values())


def test_hits_carry_scene_timing(rng):
    index = build({"v": random_unit(rng, 3)})
    _, scenes = index.search(random_unit(rng, 1)[0], SearchParams(top_k=3, mode="scenes"))
    expected = {s.index: s for s in make_scenes(3)}
    for hit in scenes:
        assert hit.scene == expected[hit.scene.index]


def test_replacements_and_deletes_match_brute_force_through_compaction(rng):
    collection = random_collection(rng, n_videos=30)
    index = build(collection)
    serial = 10_000
    for step in range(120):
        vid = f"vid{int(rng.integers(0, 40)):04d}"
        if step % 4 == 3 and vid in collection:
            index.delete(vid, step)
            del collection[vid]
        else:
            rows = random_unit(rng, int(rng.integers(1, 6)))
            index.upsert(make_video(vid, len(rows)), make_scenes(len(rows)), rows, serial, step)
            serial += len(rows)
            collection[vid] = rows
        if step % 10 == 0:
            query = random_unit(rng, 1)[0]
            for params in (SearchParams(top_k=8), SearchParams(top_k=8, video_scoring="mean")):
                assert_same_videos(index.search(query, params)[0], reference(collection, query, params))
            params = SearchParams(top_k=20, mode="scenes")
            assert_same_scenes(index.search(query, params)[1], reference(collection, query, params))
    assert index.video_count == len(collection)
    assert index.scene_count == sum(len(v) for v in collection.values())
    assert index._snapshot.n_rows < serial - 10_000 + sum(len(v) for v in collection.values())  # compaction ran


def test_empty_index_returns_nothing(rng):
    index = MomentIndex(DIM)
    assert index.search(random_unit(rng, 1)[0], SearchParams()) == ([], [])
    index = build({"v": random_unit(rng, 2)})
    index.delete("v", 1)
    assert index.search(random_unit(rng, 1)[0], SearchParams()) == ([], [])
    assert index.search(random_unit(rng, 1)[0], SearchParams(mode="scenes")) == ([], [])


def test_readers_run_concurrently_with_writers(rng):
    collection = random_collection(rng, n_videos=50)
    index = build(collection)
    queries = random_unit(rng, 50)
    errors: list[BaseException] = []
    stop = threading.Event()

    def read():
        try:
            while not stop.is_set():
                for q in queries:
                    videos, _ = index.search(q, SearchParams(top_k=5))
                    assert len(videos) == 5
                    assert len({h.video.video_id for h in videos}) == 5
                    assert all(np.isfinite(h.score) and h.scenes for h in videos)
                    _, scenes = index.search(q, SearchParams(top_k=5, mode="scenes"))
                    assert len(scenes) == 5 and all(np.isfinite(h.score) for h in scenes)
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(3)]
    for t in readers:
        t.start()
    serial = 100_000
    for step in range(300):
        vid = f"vid{step % 70:04d}"
        if step % 3 == 2:
            index.delete(vid, step)
        else:
            rows = random_unit(rng, 1 + step % 6)
            index.upsert(make_video(vid, len(rows)), make_scenes(len(rows)), rows, serial, step)
            serial += len(rows)
    stop.set()
    for t in readers:
        t.join()
    assert not errors, errors[0]
