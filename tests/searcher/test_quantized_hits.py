"""The quantized tier assembles hits from the timing it keeps in memory (ranking/row_timing.py), not
from the store: every hit's scene and moment must equal what the store holds for the version that was
ranked, after a build, writes, a restart that replays them, and from a tier saved before the timing
was kept (its timing is read from the store once and saved beside the codes).

Videos here have uneven scenes of one to three moments each, with times that are not frame / fps, so
a moment, its scene or a neighbour's row mixed up shows."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from videosearch.searcher.ranking.row_timing import moment_at, scene_at, timing_rows
from videosearch.searcher.storage.store import row_columns
from videosearch.searcher.types import MomentRecord, SceneRecord, SearchParams

from tests.searcher.searcher_testlib import make_video, open_searcher, unit

DIM = 32
VIDEOS = 40

pytestmark = pytest.mark.timeout(300)


def timed_video(rng: np.random.Generator, scenes: int) -> tuple[list[SceneRecord], list[MomentRecord]]:
    """Scenes of uneven lengths split into 1-3 moments, with times drifting off frame / fps (like VFR)."""
    scene_records, moment_records, frame, seconds = [], [], 0, 0.0
    for s in range(scenes):
        length = int(rng.integers(20, 90))
        cuts = sorted({0, *rng.integers(1, length, int(rng.integers(0, 3))).tolist()})
        bounds = [*cuts, length]
        times = [seconds + b / 29.97 + float(rng.uniform(0, 0.01)) for b in bounds]
        scene_records.append(SceneRecord(s, frame, frame + length, times[0], times[-1], len(bounds) - 1))
        for a, b, ta, tb in zip(bounds[:-1], bounds[1:], times[:-1], times[1:]):
            moment_records.append(MomentRecord(len(moment_records), s, frame + a, frame + b, ta, tb, int(rng.integers(1, 5))))
        frame, seconds = frame + length, times[-1]
    return scene_records, moment_records


def upsert(searcher, rng, video_id: str, topic: np.ndarray) -> np.ndarray:
    scenes, moments = timed_video(rng, int(rng.integers(2, 6)))
    vectors = unit(topic + 0.5 * rng.standard_normal((len(moments), DIM)))
    video = dataclasses.replace(make_video(video_id, len(scenes), dim=DIM), frame_count=scenes[-1].end_frame,
                                duration_seconds=scenes[-1].end_seconds, moment_count=len(moments))
    searcher.upsert_video(video, scenes, vectors, moments=moments)
    return vectors


def assert_hits_match_the_store(searcher, queries: np.ndarray) -> int:
    """Every hit of every search against the store's records of the version ranked; returns how many."""
    checked = 0
    for q in queries:
        for mode in ("scenes", "videos"):
            for approximate in (True, False):
                got = searcher.search(vector=q, params=SearchParams(top_k=8, mode=mode, approximate=approximate))
                hits = got.scenes if mode == "scenes" else [s for v in got.videos for s in v.scenes]
                for hit in hits:
                    tier = searcher.index
                    serial = int(tier._state.seg_serials[tier._video_segment[hit.video_id]])
                    scenes, moments = searcher.index.store.get_scenes_and_moments(hit.video_id, serial)
                    assert hit.moment == moments[hit.moment.index]
                    assert hit.scene == scenes[hit.moment.scene_index]
                    checked += 1
    return checked


def test_timing_rows_give_back_the_records(rng):
    scenes, moments = timed_video(rng, 6)
    rows = timing_rows(row_columns(scenes, moments))
    assert [moment_at(rows, i, i) for i in range(len(moments))] == moments
    assert [scene_at(rows, i) for i in range(len(moments))] == [scenes[m.scene_index] for m in moments]


def test_hits_come_from_memory_and_equal_the_stored_records(tmp_path, rng):
    data_dir = tmp_path / "data"
    topics = rng.standard_normal((VIDEOS, DIM))
    filler = open_searcher(data_dir, ann="none", ranking_precision="float32")
    try:
        stored = [upsert(filler, rng, f"v{i:03d}", topics[i]) for i in range(VIDEOS)]
    finally:
        filler.close()
    queries = unit(np.stack([v[0] for v in stored[:12]]) + 0.1 * rng.standard_normal((12, DIM)))

    searcher = open_searcher(data_dir, ann="none", ranking_precision="int8", quantized_probe=16)
    try:
        assert searcher.index.build_seconds is not None
        reads = []
        real = searcher.index.store.get_scenes_and_moments
        searcher.index.store.get_scenes_and_moments = lambda *a: reads.append(a) or real(*a)  # type: ignore[method-assign]
        searcher.search(vector=queries[0], params=SearchParams(top_k=8, mode="videos"))
        searcher.search(vector=queries[0], params=SearchParams(top_k=8, mode="scenes"))
        assert reads == []  # no store read for the hits' timing
        searcher.index.store.get_scenes_and_moments = real  # type: ignore[method-assign]
        assert assert_hits_match_the_store(searcher, queries) > 100
        # A replaced video (other scenes and moments) and a new one, written after the save
        replaced = upsert(searcher, rng, "v003", topics[3])
        added = upsert(searcher, rng, "late", topics[5])
        assert assert_hits_match_the_store(searcher, unit(np.stack([replaced[0], added[-1]]))) > 0
    finally:
        searcher.close()

    # As if saved before the tier kept the timing: no timing files; they are read from the store and saved.
    tier_dir = data_dir / "quantized"
    files = tier_dir / json.loads((tier_dir / "manifest.json").read_text())["files"]
    for path in files.glob("timing-*.npy"):
        path.unlink()
    for attempt in range(2):
        again = open_searcher(data_dir, ann="none", ranking_precision="int8", quantized_probe=16)
        try:
            assert again.index.build_seconds is None and again.index.replayed == 2  # loaded, the two writes replayed
            assert list(files.glob("timing-*.npy"))
            assert assert_hits_match_the_store(again, np.concatenate([queries, unit(np.stack([replaced[0], added[-1]]))])) > 100
        finally:
            again.close()


def test_a_compaction_keeps_each_rows_timing(tmp_path, rng, monkeypatch):
    from videosearch.searcher.ranking import quantized

    monkeypatch.setattr(quantized, "BLOCK_ROWS", 64)  # compactions and fresh blocks come soon
    data_dir = tmp_path / "data"
    topics = rng.standard_normal((VIDEOS, DIM))
    searcher = open_searcher(data_dir, ann="none", ranking_precision="int8", quantized_probe=16)
    try:
        for round_ in range(4):  # each round replaces every video: dead rows pile up and get compacted
            vectors = [upsert(searcher, rng, f"v{i:03d}", topics[i]) for i in range(VIDEOS // 2)]
        assert searcher.index._state.end_row < 4 * searcher.index.moment_count  # compacted at least once
        queries = unit(np.stack([v[0] for v in vectors[:8]]))
        assert assert_hits_match_the_store(searcher, queries) > 50
    finally:
        searcher.close()
