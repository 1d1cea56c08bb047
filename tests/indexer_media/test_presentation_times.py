"""Scene, sample and moment times come from the frames' presentation timestamps, checked on
a variable-frame-rate video the test makes (frames dropped, the rest keeping their times)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from videosearch.common.timecode import PresentationTime, Timecode, format_seconds
from videosearch.indexer.media import facade as media
from videosearch.indexer.media.frame_times import FrameTimes
from videosearch.indexer.media.moments import MomentSettings, split_scene

from .helpers import clip_preprocessing
from .made_videos import make_vfr_video

MS = 1e-3


@pytest.fixture(scope="module")
def vfr_video(tmp_path_factory):
    return make_vfr_video(tmp_path_factory.mktemp("vfr") / "dropped-frames.mp4")


@pytest.fixture(scope="module")
def vfr_scenes(vfr_video):
    reader = media.iter_scenes(vfr_video.path, preprocessing=clip_preprocessing(32))
    return reader, list(reader)


def test_cut_times_are_the_cut_frames_timestamps_not_frame_over_fps(vfr_video, vfr_scenes):
    reader, scenes = vfr_scenes
    cuts = vfr_video.decoded_cuts
    assert [s.start_frame for s in scenes] == [0, *cuts], "the cuts themselves are found as on any video"
    fps = reader.video_info.fps
    for scene, cut in zip(scenes[1:], cuts):
        assert scene.start_seconds == pytest.approx(vfr_video.pts_seconds(cut), abs=MS)
        # What frame / average fps says is far off on this file (frames were dropped before the cut).
        assert abs(float(cut / fps) - vfr_video.pts_seconds(cut)) > 0.1
    for scene, following in zip(scenes, scenes[1:]):
        assert scene.end == following.start, "a scene ends where the next one starts"
    assert scenes[0].start_seconds == 0.0
    assert scenes[-1].end_seconds == pytest.approx(vfr_video.duration_seconds, abs=MS)
    assert reader.frame_times.duration_seconds == pytest.approx(vfr_video.duration_seconds, abs=MS)
    assert reader.frame_times.estimated == 0, "every frame of this file has its own timestamp"


def test_sampled_frames_carry_their_timestamps(vfr_video, vfr_scenes):
    _, scenes = vfr_scenes
    for scene in scenes:
        assert len(scene.sample_times) == len(scene.sample_frames) >= 3
        for frame, time in zip(scene.sample_frames, scene.sample_times):
            assert time.seconds == pytest.approx(vfr_video.pts_seconds(frame), abs=MS)


def test_every_frame_time_is_its_timestamp(vfr_video, vfr_scenes):
    reader, _ = vfr_scenes
    times = reader.frame_times
    assert len(times) == len(vfr_video.kept)
    assert max(abs(times.seconds(n) - vfr_video.pts_seconds(n)) for n in range(len(times))) < MS


def test_missing_or_backward_timestamps_fall_back_to_one_nominal_frame():
    times = FrameTimes(Fraction(25))
    for msec in (float("nan"), 40.0, 0.0, 200.0, 150.0):  # no PTS, fine, none (0), a jump, backwards
        times.append(msec)
    assert [times.seconds(n) for n in range(5)] == pytest.approx([0.0, 0.04, 0.08, 0.2, 0.24])
    assert times.estimated == 3
    assert times.seconds(5) == pytest.approx(0.28), "the last frame lasts as long as the interval before it"
    assert times.exact_seconds(5) - times.exact_seconds(3) == Fraction(8, 100), "exact lengths"
    with pytest.raises(IndexError):
        times.seconds(6)
    shifted = FrameTimes(Fraction(25))
    for msec in (-40.0, 0.0, 40.0):  # an edit list that starts before the first frame
        shifted.append(msec)
    assert [shifted.seconds(n) for n in range(3)] == pytest.approx([0.0, 0.04, 0.08]) and shifted.estimated == 0
    single = FrameTimes(Fraction(30000, 1001))
    single.append(0.0)
    assert single.duration_seconds == pytest.approx(1001 / 30000), "one frame lasts one nominal frame"


@pytest.mark.parametrize("fps", [Fraction(30000, 1001), Fraction(24000, 1001), Fraction(60000, 1001), Fraction(25)])
def test_timecodes_from_seconds_equal_frame_timecodes_at_constant_rate(fps):
    # At 30000/1001 frame 15 is 500.5 ms: a rounding tie, which both round to even.
    for frame in range(0, 20000, 3):
        assert format_seconds(float(frame / fps)) == str(Timecode(frame, fps))
    assert str(PresentationTime(90_061_001, Fraction(1, 1000))) == "25:01:01.001"


def test_moment_splitting_uses_the_scene_length_in_seconds():
    # Two subjects of 5 samples each: worth two moments when the scene is long enough to split.
    x = np.zeros((10, 4), np.float32)
    x[:5, 0] = 1.0
    x[5:, 1] = 1.0
    sampled = list(range(5, 100, 10))
    by_frames = split_scene(x, sampled, 0, 100, 10.0, MomentSettings())  # 100 frames at 10 fps: 10 s
    assert len(by_frames) == 2
    timed = split_scene(x, sampled, 0, 100, 10.0, MomentSettings(), seconds=4.0)  # the timestamps say 4 s
    assert len(timed) == 1 and math.isclose(float(timed[0].embedding @ timed[0].embedding), 1.0, rel_tol=1e-5)
