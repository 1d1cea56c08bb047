"""Approximate index: recall against exact search, and deletes/adds stay correct."""

from __future__ import annotations

import numpy as np
import pytest
from videosearch.searcher.ranking.ann import AnnParams
from videosearch.searcher.ranking.index import MomentIndex
from videosearch.searcher.storage.store import Collection, LoadedCollection, StoredVideo
from videosearch.searcher.types import SearchParams

from tests.searcher.searcher_testlib import make_scenes, make_video, unit

DIM = 64
SCENES_PER_VIDEO = 20


def clustered(rng, n_videos, latent=16):
    """CLIP-like data: low intrinsic dimension, scenes of a video close to each other."""
    projection = rng.standard_normal((latent, DIM))
    topics = rng.standard_normal((n_videos, latent))
    z = np.repeat(topics, SCENES_PER_VIDEO, axis=0) + 0.5 * rng.standard_normal((n_videos * SCENES_PER_VIDEO, latent))
    return unit(z @ projection + 0.3 * rng.standard_normal((len(z), DIM))), projection


def loaded(vectors, n_videos) -> LoadedCollection:
    videos = [
        StoredVideo(make_video(f"v{i:05d}", SCENES_PER_VIDEO, dim=DIM), i * SCENES_PER_VIDEO)
        for i in range(n_videos)
    ]
    return LoadedCollection(Collection("m", DIM), videos, vectors, generation=1)


@pytest.fixture(scope="module")
def ann_index():
    rng = np.random.default_rng(7)
    n_videos = 1000  # 20k scenes
    vectors, projection = clustered(rng, n_videos)
    index = MomentIndex(ann_mode="hnsw", ann_params=AnnParams(connectivity=16, expansion_add=64, expansion_search=64))
    index.load(loaded(vectors, n_videos))
    assert index.wait_for_ann(timeout=120)
    return index, vectors, projection, rng


def queries(rng, projection, n):
    return unit(rng.standard_normal((n, projection.shape[0])) @ projection + 0.3 * rng.standard_normal((n, DIM)))


def test_recall_at_10_against_exact(ann_index):
    index, _vectors, projection, rng = ann_index
    scene_recall, video_recall = [], []
    for q in queries(rng, projection, 100):
        _, exact = index.search(q, SearchParams(top_k=10, mode="scenes"))
        _, approx = index.search(q, SearchParams(top_k=10, mode="scenes", approximate=True))
        scene_recall.append(len({(h.video_id, h.scene.index) for h in exact} & {(h.video_id, h.scene.index) for h in approx}) / 10)
        exact_v, _ = index.search(q, SearchParams(top_k=10))
        approx_v, _ = index.search(q, SearchParams(top_k=10, approximate=True))
        video_recall.append(len({h.video.video_id for h in exact_v} & {h.video.video_id for h in approx_v}) / 10)
        # Re-scored exactly: scores of the approximate hits are true cosines.
        for hit in approx:
            assert hit.score == pytest.approx(float(_vectors[int(hit.video_id[1:]) * SCENES_PER_VIDEO + hit.scene.index] @ q), abs=1e-5)
    assert np.mean(scene_recall) >= 0.95
    assert np.mean(video_recall) >= 0.95


def test_deleted_videos_never_appear_and_added_ones_do(ann_index):
    index, vectors, projection, rng = ann_index
    assert index.ann_ready
    # Delete the videos that best match a set of queries; they must vanish from approximate results.
    probe = queries(rng, projection, 20)
    doomed = set()
    for q in probe:
        videos, _ = index.search(q, SearchParams(top_k=3, approximate=True))
        doomed.update(h.video.video_id for h in videos)
    for generation, vid in enumerate(sorted(doomed), start=2):
        index.delete(vid, generation)
    for q in probe:
        videos, _ = index.search(q, SearchParams(top_k=20, approximate=True))
        _, scenes = index.search(q, SearchParams(top_k=50, mode="scenes", approximate=True))
        assert not doomed & {h.video.video_id for h in videos}
        assert not doomed & {h.video_id for h in scenes}
        assert len(videos) == 20 and len(scenes) == 50

    # New (and re-added) videos are found by their own scene vectors.
    new_rows = unit(rng.standard_normal((5, DIM)))
    serial = 10_000_000
    for i, vid in enumerate(["new-a", "new-b", sorted(doomed)[0]]):
        rows = unit(new_rows + 0.01 * i)
        index.upsert(make_video(vid, 5, dim=DIM), make_scenes(5), rows, serial, 1000 + i)
        serial += 5
        _, scenes = index.search(rows[3], SearchParams(top_k=1, mode="scenes", approximate=True))
        assert (scenes[0].video_id, scenes[0].scene.index) == (vid, 3)
    # Replacing keeps only the new version's scenes.
    replacement = unit(rng.standard_normal((2, DIM)))
    index.upsert(make_video("new-a", 2, dim=DIM), make_scenes(2), replacement, serial, 2000)
    _, scenes = index.search(new_rows[3], SearchParams(top_k=100, mode="scenes", approximate=True))
    assert not [h for h in scenes if h.video_id == "new-a" and h.scene.index >= 2]


def test_saved_index_is_reused_only_when_fresh(tmp_path):
    rng = np.random.default_rng(3)
    vectors, _ = clustered(rng, 50)
    params = AnnParams(connectivity=8, expansion_add=32, expansion_search=32)
    first = MomentIndex(ann_mode="hnsw", ann_params=params, ann_dir=tmp_path)
    first.load(loaded(vectors, 50), {"generation": 1, "model_id": "m"})
    assert first.wait_for_ann(60)
    assert (tmp_path / "manifest.json").exists()

    same = MomentIndex(ann_mode="hnsw", ann_params=params, ann_dir=tmp_path)
    same.load(loaded(vectors, 50), {"generation": 1, "model_id": "m"})
    assert same.ann_ready and same._ann_building is None  # loaded, not rebuilt

    newer = MomentIndex(ann_mode="hnsw", ann_params=params, ann_dir=tmp_path)
    newer.load(loaded(vectors, 50), {"generation": 2, "model_id": "m"})
    assert newer._ann_building is not None or newer.ann_ready is False or newer.ann_build_seconds is not None
    assert newer.wait_for_ann(60)
    assert newer.ann_build_seconds is not None  # it was rebuilt


def test_auto_mode_builds_only_above_the_threshold():
    rng = np.random.default_rng(5)
    vectors, _ = clustered(rng, 10)
    small = MomentIndex(ann_mode="auto", ann_threshold=1000)
    small.load(loaded(vectors, 10))
    assert not small.wait_for_ann(5)
    big = MomentIndex(ann_mode="auto", ann_threshold=200)
    big.load(loaded(vectors, 10))
    assert big.wait_for_ann(60)
