"""The single decode pass: cuts equal PySceneDetect's, samples are exact, pixels are the frames'."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from scenedetect import ContentDetector, detect
from videosearch.common.errors import Cancelled, InvalidArgument
from videosearch.indexer.media import facade as media
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.media.detector_settings import DetectorSettings
from videosearch.embedder.preprocessing import FramePreprocessor
from videosearch.indexer.media.sampling import SamplingPolicy, sample_positions
from videosearch.indexer.media.scenes import detect_cuts

from .helpers import (
    clip_preprocessing,
    decode_all,
    drifting_square_frames,
    golden_cuts,
    write_video,
)

SHARED = ["testvideo.mp4", "counter.mp4", "fades.mp4", "delayed_start.mp4", "issue-134-rotate.mp4"]
SMALL = clip_preprocessing(32)


def read_scenes(path, **options):
    reader = media.iter_scenes(path, preprocessing=options.pop("preprocessing", SMALL), **options)
    return reader, list(reader)


@pytest.fixture(scope="module")
def shared_runs(videos):
    """Each shared video read once: (reader, scenes, independently decoded frames)."""
    return {name: (*read_scenes(videos / name), decode_all(videos / name)) for name in SHARED}


@pytest.mark.parametrize("name", SHARED)
def test_cuts_equal_pyscenedetect(videos, shared_runs, name):
    reader, scenes, frames = shared_runs[name]
    cuts = [scene.start_frame for scene in scenes[1:]]
    reference = [start.frame_num for start, _ in detect(str(videos / name), ContentDetector())][1:]
    assert cuts == reference
    assert detect_cuts(videos / name) == reference
    golden = golden_cuts(videos, name)
    if golden is not None:
        assert cuts == golden


def test_testvideo_has_its_known_cuts(shared_runs):
    _, scenes, _ = shared_runs["testvideo.mp4"]
    assert [(s.start_frame, s.end_frame) for s in scenes] == [(0, 30), (30, 180), (180, 394), (394, 720)]


def test_threshold_is_configurable(videos):
    golden = golden_cuts(videos, "testvideo.mp4", "t30")
    assert golden is not None
    assert detect_cuts(videos / "testvideo.mp4", DetectorSettings(threshold=30.0)) == golden
    # A minimum scene length longer than the first scene merges it away.
    assert detect_cuts(videos / "testvideo.mp4", DetectorSettings(min_scene_len=40))[0] != 30


@pytest.mark.parametrize("name", SHARED)
def test_scenes_tile_the_video_and_samples_are_exact(shared_runs, name):
    reader, scenes, frames = shared_runs[name]
    info = reader.video_info
    assert info.frame_count == len(frames) and info.frame_count_exact
    assert scenes[0].start_frame == 0 and scenes[-1].end_frame == len(frames)
    for i, scene in enumerate(scenes):
        assert scene.index == i
        if i:
            assert scene.start_frame == scenes[i - 1].end_frame
        # Sampled through time (default one per second, 3 to 160 per scene), exactly at the
        # midpoints of K equal parts: the scenes here are shorter than the candidate buffer.
        k = reader.sampling.in_frames(info.fps).count(scene.frame_count)
        assert k == min(max(round(scene.frame_count / float(info.fps)), 3), 160) or scene.frame_count <= 3
        assert scene.sample_frames == sample_positions(scene.start_frame, scene.end_frame, k)
        assert scene.fps == info.fps
        # These files have a constant frame rate: their timestamps are frame / fps.
        assert scene.start_seconds == pytest.approx(float(scene.start_frame / info.fps), abs=1e-6)
        assert scene.end_seconds == pytest.approx(float(scene.end_frame / info.fps), abs=1e-6)


@pytest.mark.parametrize("name", ["testvideo.mp4", "issue-134-rotate.mp4"])
def test_pixels_are_the_sampled_frames_preprocessed(videos, shared_runs, name):
    """With OpenCV's decoder each crop is exactly its frame preprocessed; with the default (PyAV,
    frames shrunk before their colour conversion) the same frames' crops, within a few levels."""
    _, default_scenes, frames = shared_runs[name]
    _, scenes = read_scenes(videos / name, decoder=DecoderSettings(library="opencv"))
    for a, b in zip(default_scenes, scenes, strict=True):
        assert a.sample_frames == b.sample_frames
        assert np.abs(a.pixels.astype(int) - b.pixels.astype(int)).mean() < 2
    preprocess = FramePreprocessor(SMALL)
    for scene in scenes:
        assert scene.pixels.dtype == np.uint8 and scene.pixels.shape == (len(scene.sample_frames), 3, 32, 32)
        for frame_number, pixels in zip(scene.sample_frames, scene.pixels, strict=True):
            expected = preprocess.finish(preprocess.candidate(frames[frame_number]))
            assert np.array_equal(pixels, expected), frame_number
        # Different frames of a scene really differ (the sampler did not repeat one).
        assert not np.array_equal(scene.pixels[0], scene.pixels[-1])


def test_scene_timecodes(shared_runs):
    _, scenes, _ = shared_runs["testvideo.mp4"]
    assert scenes[1].fps == Fraction(30000, 1001)
    assert str(scenes[1].start) == "00:00:01.001"
    assert scenes[1].frame_count == 150


@pytest.mark.parametrize("k", [1, 2, 5])
def test_frames_per_scene(videos, k):
    _, scenes = read_scenes(videos / "issue-134-rotate.mp4", sampling=SamplingPolicy.fixed(k))
    for scene in scenes:
        assert scene.sample_frames == sample_positions(scene.start_frame, scene.end_frame, k)
        assert len(scene.pixels) == k


def test_scene_shorter_than_k_gives_each_frame_once(tmp_path):
    # Two hard cuts 2 frames apart with min_scene_len=1: a 2-frame scene in the middle.
    black, white, grey = (np.full((48, 64, 3), v, np.uint8) for v in (0, 255, 128))
    path = write_video(tmp_path / "short.mp4", [black] * 10 + [white] * 2 + [grey] * 10)
    _, scenes = read_scenes(path, sampling=SamplingPolicy.fixed(3), detector=DetectorSettings(min_scene_len=1))
    assert [(s.start_frame, s.end_frame) for s in scenes] == [(0, 10), (10, 12), (12, 22)]
    assert scenes[1].sample_frames == [10, 11] and len(scenes[1].pixels) == 2


def test_long_scene_samples_stay_within_the_documented_bound(tmp_path):
    frames = list(drifting_square_frames(2000))
    path = write_video(tmp_path / "long.mp4", frames)
    capacity = 24
    reader, scenes = read_scenes(path, max_candidates=capacity, preprocess_workers=0, sampling=SamplingPolicy.fixed(3))
    assert len(scenes) == 1 and scenes[0].end_frame == 2000
    ideal = sample_positions(0, 2000, 3)
    assert scenes[0].sample_frames != ideal  # the buffer was too small to be exact ...
    for got, want in zip(scenes[0].sample_frames, ideal, strict=True):
        assert abs(got - want) < 2000 / capacity  # ... but within the bound
    decoded = decode_all(path)
    preprocess = FramePreprocessor(SMALL)
    for frame_number, pixels in zip(scenes[0].sample_frames, scenes[0].pixels, strict=True):
        assert np.array_equal(pixels, preprocess(decoded[frame_number]))


def test_scenes_are_yielded_before_the_video_ends(videos):
    seen = []
    reader = media.iter_scenes(
        videos / "testvideo.mp4", preprocessing=SMALL, progress_every=1,
        on_progress=lambda done, total: seen.append(done),
    )
    first = next(iter(reader))
    assert first.end_frame == 30
    assert seen[-1] < 60  # decoding went barely past the cut (the frames queued ahead)
    assert reader.video_info is not None and not reader.video_info.frame_count_exact


def test_progress_counts_grow_to_the_decoded_total(videos):
    calls = []
    reader = media.iter_scenes(videos / "fades.mp4", preprocessing=SMALL, on_progress=lambda d, t: calls.append((d, t)))
    list(reader)
    done = [d for d, _ in calls]
    assert done == sorted(done) and len(set(done)) == len(done) and len(done) > 5
    assert calls[-1] == (250, 250)
    assert all(d <= t for d, t in calls)


def test_should_stop_cancels_promptly(videos):
    polls = []

    def should_stop():
        polls.append(1)
        return len(polls) > 40

    decoded = []
    reader = media.iter_scenes(
        videos / "testvideo.mp4", preprocessing=SMALL, should_stop=should_stop,
        progress_every=1, on_progress=lambda d, t: decoded.append(d),
    )
    with pytest.raises(Cancelled, match="cancelled"):
        list(reader)
    assert decoded[-1] == 40  # not one frame processed after should_stop said so


def test_abandoned_reader_releases_its_threads(videos):
    import threading

    before = set(threading.enumerate())
    reader = iter(media.iter_scenes(videos / "testvideo.mp4", preprocessing=SMALL))
    next(reader)
    started = set(threading.enumerate()) - before
    assert started, "the reader decodes on threads of its own"
    reader.close()
    # Only the reader's own threads count: a thread left over from an earlier test may end meanwhile.
    assert not [t for t in started if t.is_alive()]
    assert not set(threading.enumerate()) - before


def test_reader_iterates_once(videos):
    reader = media.iter_scenes(videos / "delayed_start.mp4", preprocessing=SMALL)
    list(reader)
    with pytest.raises(RuntimeError, match="once"):
        iter(reader)


@pytest.mark.parametrize(
    "options, message",
    [(lambda: {"detector": DetectorSettings(threshold=0)}, "threshold"),
     (lambda: {"detector": DetectorSettings(min_scene_len=-1)}, "min_scene_len"),
     (lambda: {"sampling": SamplingPolicy.fixed(0)}, "samples per scene")],
)
def test_bad_options_are_invalid_arguments(videos, options, message):
    with pytest.raises(InvalidArgument, match=message):  # a bad setting is refused when made or when read
        media.iter_scenes(videos / "fades.mp4", preprocessing=SMALL, **options())


def test_not_a_video_is_raised_from_iteration(tmp_path):
    bogus = tmp_path / "bogus.mp4"
    bogus.write_bytes(np.random.default_rng(0).bytes(50_000))
    reader = media.iter_scenes(bogus, preprocessing=SMALL)
    with pytest.raises(media.NotAVideoError, match="ffmpeg"):
        next(iter(reader))


def test_late_cut_from_the_flash_filter(tmp_path):
    # A 5-frame flash right after a cut makes ContentDetector merge, then report the next cut
    # (at 70) only 15 frames later, at frame 85: frames 70..85 must go to the next scene.
    colours = [(0, 0, 0)] * 40 + [(255, 255, 255)] * 5 + [(0, 0, 255)] * 25 + [(128, 128, 128)] * 40
    frames = []
    for i, colour in enumerate(colours):
        frame = np.full((48, 64, 3), colour, np.uint8)
        frame[20:28, i % 56 : i % 56 + 8] = 128  # a small moving patch, so sampled frames differ
        frames.append(frame)
    path = write_video(tmp_path / "flash.mp4", frames)
    reference = [start.frame_num for start, _ in detect(str(path), ContentDetector())][1:]
    assert reference == [40, 70]
    _, scenes = read_scenes(path, sampling=SamplingPolicy.fixed(3))
    assert [(s.start_frame, s.end_frame) for s in scenes] == [(0, 40), (40, 70), (70, 110)]
    decoded = decode_all(path)
    preprocess = FramePreprocessor(SMALL)
    for scene in scenes:
        assert scene.sample_frames == sample_positions(scene.start_frame, scene.end_frame, 3)
        for frame_number, pixels in zip(scene.sample_frames, scene.pixels, strict=True):
            assert np.array_equal(pixels, preprocess(decoded[frame_number]))
