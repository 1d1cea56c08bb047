"""Which sampled frames reuse an embedding (videosearch.indexer.media.reuse): decided on the CLIP crops,
against the scene's last embedded frame, never the previous sample."""

from __future__ import annotations

import numpy as np
from videosearch.indexer.media import facade as media
from videosearch.indexer.media.reuse import DEFAULT_MAX_DIFFERENCE, GRID, embedding_sources

from .helpers import clip_preprocessing

SIZE = 64


def crops(*frames: np.ndarray) -> np.ndarray:
    return np.stack([np.ascontiguousarray(f.transpose(2, 0, 1)) for f in frames])


def still(level: int) -> np.ndarray:
    return np.full((SIZE, SIZE, 3), level, np.uint8)


def test_identical_and_noisy_frames_reuse_the_first_embedding():
    rng = np.random.default_rng(0)
    noisy = [np.clip(still(120).astype(int) + rng.integers(-20, 21, (SIZE, SIZE, 3)), 0, 255).astype(np.uint8)
             for _ in range(4)]
    assert embedding_sources(crops(still(120), still(120), *noisy)) == [0] * 6


def test_a_subject_entering_one_cell_is_embedded():
    with_subject = still(120)
    cell = SIZE // GRID
    with_subject[:cell, :cell] = 255  # one grid cell of 256 turns white
    assert embedding_sources(crops(still(120), with_subject, with_subject)) == [0, 1, 1]


def test_a_slow_change_is_measured_from_the_anchor_not_the_previous_sample():
    step = DEFAULT_MAX_DIFFERENCE * 0.6  # each sample moves less than the threshold ...
    frames = [still(int(100 + i * step)) for i in range(4)]
    # ... but the third is more than the threshold away from the first: it is embedded.
    assert embedding_sources(crops(*frames)) == [0, 0, 2, 2]


def test_zero_turns_reuse_off():
    assert embedding_sources(crops(still(1), still(1), still(1)), 0) == [0, 1, 2]


def test_real_video_scenes_reuse_only_within_a_still_stretch(shared_videos):
    """testvideo.mp4: some of its one-per-second samples repeat their anchor closely enough;
    no scene reuses its way past a frame that changed (each source precedes its user)."""
    scenes = list(media.iter_scenes(shared_videos / "testvideo.mp4", preprocessing=clip_preprocessing(224)))
    sources = [embedding_sources(s.pixels) for s in scenes]
    reused = sum(len(s) - len(set(s)) for s in sources)
    assert 0 < reused < sum(len(s) for s in sources)
    for scene_sources in sources:
        assert scene_sources[0] == 0 and all(src <= i for i, src in enumerate(scene_sources))
