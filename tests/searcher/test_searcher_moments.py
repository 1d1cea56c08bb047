"""Moments in the Searcher: stored per video beside its scenes, one embedding each, ranked
as the unit of search (a hit names its moment and its scene), validated on upsert, and
stores written before moments existed (schema 1) upgraded in place."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import plyvel
import pytest
from videosearch.common.errors import InvalidArgument
from videosearch.searcher.service import Searcher
from videosearch.searcher.storage.store import SCHEMA_VERSION, scenes_to_json
from videosearch.searcher.types import MomentRecord, SearchParams

from tests.searcher.searcher_testlib import DIM, make_scenes, make_video, one_hot, open_searcher, random_unit

FPS = Fraction(30000, 1001)


def moments_for(scene_splits: list[list[int]], scenes) -> list[MomentRecord]:
    """Moments cutting each scene at the given frame offsets (empty: one moment)."""
    out = []
    for scene, cuts in zip(scenes, scene_splits):
        bounds = [scene.start_frame, *[scene.start_frame + c for c in cuts], scene.end_frame]
        for a, b in zip(bounds, bounds[1:]):
            out.append(MomentRecord(len(out), scene.index, a, b, float(a / FPS), float(b / FPS), 2))
    return out


@pytest.fixture
def searcher(tmp_path):
    s = open_searcher(tmp_path / "data", ann="none")
    yield s
    s.close()


def test_a_hit_is_the_matching_moment_with_its_scene(searcher):
    # Video "take": one 90-frame scene with three moments showing subjects 0, 1, 2.
    # Video "cuts": three one-moment scenes showing subjects 3, 4, 5.
    take_scenes = make_scenes(1, length=90)
    take_moments = moments_for([[30, 60]], take_scenes)
    searcher.upsert_video(make_video("take", 1, length=90), take_scenes, one_hot(3, [0, 1, 2]), take_moments)
    searcher.upsert_video(make_video("cuts", 3), make_scenes(3), one_hot(3, [3, 4, 5]))

    query = one_hot(1, [1])[0]
    result = searcher.search(vector=query, params=SearchParams(top_k=1))
    [hit] = result.videos
    assert hit.video.video_id == "take" and hit.score == pytest.approx(1.0)
    best = hit.scenes[0]
    assert best.moment == take_moments[1], "the moment that matched, not the whole take"
    assert (best.scene.start_frame, best.scene.end_frame) == (0, 90)

    scenes_mode = searcher.search(vector=query, params=SearchParams(top_k=6, mode="scenes")).scenes
    assert (scenes_mode[0].video_id, scenes_mode[0].moment.index) == ("take", 1)
    # Scene mode ranks moments: the take's other moments come back as hits of their own.
    assert sum(h.video_id == "take" for h in scenes_mode) == 3

    other = searcher.search(vector=one_hot(1, [4])[0], params=SearchParams(top_k=1, mode="scenes")).scenes[0]
    assert other.video_id == "cuts" and other.scene.index == 1 and other.moment.scene_index == 1
    assert (other.moment.start_frame, other.moment.end_frame) == (other.scene.start_frame, other.scene.end_frame)

    stats = searcher.stats()
    assert (stats.video_count, stats.scene_count, stats.moment_count) == (2, 4, 6)
    searcher.delete_video("take")
    assert (searcher.stats().scene_count, searcher.stats().moment_count) == (3, 3)


def test_mean_scoring_averages_moments(searcher):
    scenes = make_scenes(1, length=60)
    searcher.upsert_video(make_video("v", 1, length=60), scenes, one_hot(2, [0, 1]), moments_for([[30]], scenes))
    [hit] = searcher.search(vector=one_hot(1, [0])[0], params=SearchParams(video_scoring="mean")).videos
    assert hit.score == pytest.approx(0.5)


def test_moments_survive_a_restart_and_come_back_from_get(tmp_path, rng):
    scenes = make_scenes(2, length=60)
    moments = moments_for([[20, 41], []], scenes)
    vectors = random_unit(rng, len(moments))
    first = open_searcher(tmp_path / "data", ann="none")
    stored, _ = first.upsert_video(make_video("v", 2, length=60), scenes, vectors, moments)
    assert (stored.scene_count, stored.moment_count) == (2, 4)
    first.close()
    again = open_searcher(tmp_path / "data", ann="none")
    video, got_scenes, got_moments = again.get_video_moments("v")
    assert got_scenes == scenes and got_moments == moments and video.moment_count == 4
    np.testing.assert_allclose(again.store.get_embeddings("v"), vectors, atol=1e-6)  # renormalized on upsert
    hit = again.search(vector=vectors[2], params=SearchParams(top_k=1, mode="scenes")).scenes[0]
    assert hit.moment == moments[2] and hit.scene == scenes[0]
    again.close()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda ms: ms[:-1], "must cover the video"),  # the last scene has no moment
        (lambda ms: [ms[0], ms[2], ms[1], *ms[3:]], "index"),  # out of order
        (lambda ms: [ms[0].__class__(**{**ms[0].__dict__, "end_frame": 25}), *ms[1:]], "without gaps"),
        (lambda ms: [ms[0].__class__(**{**ms[0].__dict__, "start_frame": 5}), *ms[1:]], "tile"),
        (lambda ms: [*ms[:3], ms[3].__class__(**{**ms[3].__dict__, "scene_index": 7})], "scene_index"),
        (lambda ms: [*ms[:3], ms[3].__class__(**{**ms[3].__dict__, "scene_index": 0})], "outside its scene"),
        (lambda ms: [ms[0], ms[1].__class__(**{**ms[1].__dict__, "scene_index": 1})], "outside its scene"),
        (lambda ms: [], "at least one moment"),
    ],
)
def test_bad_moments_are_refused_and_nothing_is_stored(searcher, rng, change, message):
    scenes = make_scenes(2, length=60)
    moments = change(moments_for([[20, 41], []], scenes))
    with pytest.raises(InvalidArgument, match=message):
        searcher.upsert_video(make_video("v", 2, length=60), scenes, random_unit(rng, max(len(moments), 1)), moments)
    assert searcher.store.get_video("v") is None and searcher.stats().moment_count == 0


def test_a_moment_may_run_on_past_a_cut(searcher, rng):
    """A moment joined across a cut (a flash the detector took for one) starts in its scene
    and ends in the next; the hit reports the whole moment and the scene it starts in."""
    scenes = make_scenes(3, length=30)
    moments = [MomentRecord(0, 0, 0, 50, 0.0, float(50 / FPS), 3), MomentRecord(1, 1, 50, 90, float(50 / FPS), float(90 / FPS), 2)]
    searcher.upsert_video(make_video("v", 3), scenes, one_hot(2, [0, 1]), moments)
    hit = searcher.search(vector=one_hot(1, [0])[0], params=SearchParams(mode="scenes", top_k=1)).scenes[0]
    assert (hit.moment.start_frame, hit.moment.end_frame, hit.scene.index) == (0, 50, 0)
    second = searcher.search(vector=one_hot(1, [1])[0], params=SearchParams(mode="scenes", top_k=1)).scenes[0]
    assert second.moment.scene_index == second.scene.index == 1 and (second.scene.start_frame, second.scene.end_frame) == (30, 60)


def test_embeddings_must_have_one_row_per_moment(searcher, rng):
    scenes = make_scenes(1, length=60)
    with pytest.raises(InvalidArgument, match="one row per moment"):
        searcher.upsert_video(make_video("v", 1, length=60), scenes, random_unit(rng, 1), moments_for([[30]], scenes))


def _write_schema_1_store(path, rng) -> dict:
    """A store exactly as schema 1 wrote it: no moments/ keys, one embedding per scene."""
    db = plyvel.DB(str(path / "leveldb"), create_if_missing=True)
    vectors = {}
    db.put(b"meta/schema", b"1")
    db.put(b"meta/collection", json.dumps({"model_id": "test/tiny-clip", "embedding_dim": DIM, "dtype": "<f4"}).encode())
    serial = 0
    for video_id, n in (("a", 2), ("b", 3)):
        video = make_video(video_id, n)
        record = {
            "video_id": video_id, "uri": video.uri, "duration_seconds": video.duration_seconds,
            "fps_numerator": 30000, "fps_denominator": 1001, "frame_count": video.frame_count, "width": 320,
            "height": 240, "content_sha256": video.content_sha256, "model_id": video.model_id,
            "embedding_dim": DIM, "indexed_at": None, "scene_count": n, "scene_serial_base": serial,
        }
        db.put(b"video/" + video_id.encode(), json.dumps(record).encode())
        db.put(b"scenes/" + video_id.encode(), scenes_to_json(video_id, make_scenes(n)))
        vectors[video_id] = random_unit(rng, n)
        for i, row in enumerate(vectors[video_id]):
            db.put(b"emb/" + video_id.encode() + b"\x00" + i.to_bytes(4, "big"), row.astype("<f4").tobytes())
        serial += n
    db.put(b"meta/next_serial", str(serial).encode())
    db.put(b"meta/generation", b"2")
    db.close()
    return vectors


def test_a_schema_1_store_is_upgraded_in_place_and_searches_as_before(tmp_path, rng):
    (tmp_path / "data" / "leveldb").mkdir(parents=True)
    vectors = _write_schema_1_store(tmp_path / "data", rng)
    searcher = open_searcher(tmp_path / "data", ann="none")
    assert int(searcher.store.leveldb.db.get(b"meta/schema")) == SCHEMA_VERSION == 4
    video, scenes, moments = searcher.get_video_moments("b")
    assert video.moment_count == 3 and len(moments) == 3
    assert [(m.scene_index, m.start_frame, m.end_frame) for m in moments] == [(s.index, s.start_frame, s.end_frame) for s in scenes]
    hit = searcher.search(vector=vectors["b"][2], params=SearchParams(top_k=1, mode="scenes")).scenes[0]
    assert (hit.video_id, hit.scene.index, hit.moment.index) == ("b", 2, 2) and hit.score == pytest.approx(1.0)
    # New videos with moments go beside the upgraded ones.
    new_scenes = make_scenes(1, length=60)
    searcher.upsert_video(make_video("c", 1, length=60), new_scenes, random_unit(rng, 2), moments_for([[30]], new_scenes))
    searcher.close()
    reopened = open_searcher(tmp_path / "data", ann="none")
    assert (reopened.stats().video_count, reopened.stats().scene_count, reopened.stats().moment_count) == (3, 6, 7)
    reopened.close()

