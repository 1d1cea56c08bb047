"""Splitting a long scene into moments where its sampled frames' embeddings change."""

from __future__ import annotations

import numpy as np
import pytest
from videosearch.indexer.media.moments import MomentSettings, change_points, split_scene


@pytest.fixture
def rng():
    return np.random.default_rng(5)


def subjects(rng, lengths, dim=32, noise=0.15, similar=0.0):
    """Unit frame embeddings: one cluster per subject (``lengths`` samples each)."""
    centres = rng.standard_normal((len(lengths), dim))
    if similar:
        centres = similar * centres[:1] + (1 - similar) * centres
    rows = np.concatenate([centres[i] + noise * rng.standard_normal((n, dim)) for i, n in enumerate(lengths)])
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def test_change_points_find_each_subject(rng):
    x = subjects(rng, [5, 4, 6, 4])
    assert change_points(x, penalty=0.6, min_samples=2) == [5, 9, 15, 19]


def test_steady_footage_stays_one_moment(rng):
    x = subjects(rng, [40], noise=0.3)
    moments = split_scene(x, list(range(0, 1000, 25)), 0, 1000, 25.0)
    assert len(moments) == 1 and (moments[0].start_frame, moments[0].end_frame) == (0, 1000)


def test_short_scenes_are_not_split(rng):
    x = subjects(rng, [2, 2])
    settings = MomentSettings(min_scene_seconds=6.0)
    assert len(split_scene(x, [10, 30, 60, 90], 0, 100, 25.0, settings)) == 1  # 4 s < 6 s
    assert len(split_scene(x, [10, 30, 60, 90], 0, 100, 25.0, MomentSettings(min_scene_seconds=1.0))) == 2


def test_moments_tile_the_scene_with_boundaries_between_samples(rng):
    x = subjects(rng, [4, 4, 4])
    frames = [1012 + 25 * i for i in range(12)]  # one sample a second from frame 1000
    moments = split_scene(x, frames, 1000, 1300, 25.0)
    assert [(m.first_sample, m.end_sample) for m in moments] == [(0, 4), (4, 8), (8, 12)]
    assert moments[0].start_frame == 1000 and moments[-1].end_frame == 1300
    assert all(a.end_frame == b.start_frame for a, b in zip(moments, moments[1:]))
    assert moments[1].start_frame == (frames[3] + frames[4] + 1) // 2  # halfway between the samples
    for m in moments:
        assert np.linalg.norm(m.embedding) == pytest.approx(1.0, abs=1e-5)
        assert float(m.embedding @ x[m.first_sample]) > 0.8


def test_near_identical_neighbours_are_merged(rng):
    x = subjects(rng, [6, 6], noise=0.02, similar=0.9)
    means = [x[:6].mean(0), x[6:].mean(0)]
    cosine = float(means[0] @ means[1] / np.linalg.norm(means[0]) / np.linalg.norm(means[1]))
    assert 0.95 < cosine < 0.999  # two barely different stretches
    low_penalty = dict(min_scene_seconds=0, penalty=0.01)
    assert len(split_scene(x, list(range(12)), 0, 300, 1.0, MomentSettings(**low_penalty, merge_cosine=0.95))) == 1
    assert len(split_scene(x, list(range(12)), 0, 300, 1.0, MomentSettings(**low_penalty, merge_cosine=1.0))) == 2


def test_bad_settings_say_what_to_change():
    with pytest.raises(ValueError, match="penalty"):
        MomentSettings(penalty=0).validate()
    with pytest.raises(ValueError, match="min samples"):
        MomentSettings(min_samples=0).validate()


def test_moments_join_across_a_cut_only_where_nothing_changed(rng):
    from videosearch.indexer.media.moments import VideoMoment, join_across_cuts

    x = subjects(rng, [3, 3, 3])  # subject A, A again after a spurious cut, then B after a real cut
    a1 = VideoMoment(0, 0, 30, x[0:3])
    a2 = VideoMoment(1, 30, 100, x[0:3][::-1] * 0.99 + 0.01 * x[3:6])  # the same subject, barely different
    a2 = VideoMoment(1, 30, 100, a2.frame_embeddings / np.linalg.norm(a2.frame_embeddings, axis=1, keepdims=True))
    b = VideoMoment(2, 100, 160, x[6:9])
    joined = join_across_cuts([a1, a2, b], join_cosine=0.85)
    assert [(m.scene_index, m.start_frame, m.end_frame, len(m.frame_embeddings)) for m in joined] == [(0, 0, 100, 6), (2, 100, 160, 3)]
    assert len(join_across_cuts([a1, a2, b], join_cosine=1.01)) == 3  # above 1: never joins
    # Both sides last (30 and 70 frames, both >= 30): two similar shots stay apart.
    assert len(join_across_cuts([a1, a2, b], join_cosine=0.85, max_frames=30)) == 3
    assert len(join_across_cuts([a1, a2, b], join_cosine=0.85, max_frames=31)) == 2
    # Measured by presentation time: a1 lasts 1 s at 30 fps, but 3 s where the timestamps say so (VFR).
    at_30fps, slow_start = (lambda frame: frame / 30), (lambda frame: 3 * frame / 30 if frame <= 30 else 2 + frame / 30)
    assert len(join_across_cuts([a1, a2, b], join_cosine=0.85, max_seconds=2.0, seconds=at_30fps)) == 2
    assert len(join_across_cuts([a1, a2, b], join_cosine=0.85, max_seconds=2.0, seconds=slow_start)) == 3
    # Moments of one scene are never joined here: the change-point search already split them on purpose.
    same_scene = [VideoMoment(0, 0, 30, x[0:3]), VideoMoment(0, 30, 60, x[0:3])]
    assert len(join_across_cuts(same_scene, join_cosine=0.0)) == 2
