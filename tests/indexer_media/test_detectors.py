"""Every detector setting, driven frame by frame, gives PySceneDetect's own cuts on the shared videos."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import pytest
from scenedetect import AdaptiveDetector, ContentDetector, FrameTimecode, HashDetector, ThresholdDetector, detect
from videosearch.common.errors import InvalidArgument
from videosearch.indexer.media.detector_settings import BASE_DETECTORS, DEFAULT_DETECTOR, DETECTORS, DetectorSettings
from videosearch.indexer.media.detectors import CutDetector, _Adaptive, _Content, make_cut_detector, merge_cuts
from videosearch.indexer.media.facade import VideoInfo, open_video

GOLDEN_VIDEOS = ["testvideo.mp4", "counter.mp4", "fades.mp4"]  # goldens for all four detectors
OTHER_VIDEOS = ["delayed_start.mp4", "issue-134-rotate.mp4"]  # no goldens: PySceneDetect itself is the reference
SHARED = GOLDEN_VIDEOS + OTHER_VIDEOS
GOLDEN_NAMES = {"content": "ContentDetector", "adaptive": "AdaptiveDetector",
                "threshold": "ThresholdDetector", "hash": "HashDetector"}
CLASSES = {"content": ContentDetector, "adaptive": AdaptiveDetector,
           "threshold": ThresholdDetector, "hash": HashDetector}


def run(detector, frames) -> tuple[list[int], int]:
    """(cuts, largest lag seen): every report checked against the detector's max_lag."""
    cuts: list[int] = []
    worst = 0
    index = -1
    for index, frame in enumerate(frames):
        reported = detector.process(index, frame)
        for cut in reported:
            assert index - detector.max_lag <= cut <= index, (cut, index, detector.max_lag)
            worst = max(worst, index - cut)
        cuts += reported
    return cuts + detector.finish(index), worst


def decoded_frames(path: Path):
    capture, _, frame = open_video(path)
    try:
        while frame is not None:
            yield frame
            ok, frame = capture.read()
            frame = frame if ok else None
    finally:
        capture.release()


@pytest.fixture(scope="module")
def all_cuts(videos):
    """One decode per video feeding every setting at once: {video: {name: (cuts, worst lag, max_lag)}}."""
    out = {}
    for video in SHARED:
        _, info, _ = open_video(videos / video)
        detectors = {name: make_cut_detector(DetectorSettings(name), info) for name in DETECTORS}
        found = {name: [] for name in DETECTORS}
        worst = dict.fromkeys(DETECTORS, 0)
        index = -1
        for index, frame in enumerate(decoded_frames(videos / video)):
            for name, detector in detectors.items():
                reported = detector.process(index, frame)
                for cut in reported:
                    assert index - detector.max_lag <= cut <= index, (name, cut, index)
                    worst[name] = max(worst[name], index - cut)
                found[name] += reported
        out[video] = {name: (found[name] + d.finish(index), worst[name], d.max_lag) for name, d in detectors.items()}
    return out


def golden(videos: Path, video: str, name: str) -> list[int]:
    return json.loads((videos / "goldens" / f"{video}.{GOLDEN_NAMES[name]}.default.json").read_text())["cuts"]


def expected(videos: Path, video: str, name: str) -> list[int]:
    """A combination's cuts are its members' goldens merged (the earliest of close cuts wins)."""
    parts = [golden(videos, video, member) for member in DetectorSettings(name).members]
    return merge_cuts([cut for part in parts for cut in part], 15)


@pytest.mark.parametrize("video", GOLDEN_VIDEOS)
@pytest.mark.parametrize("name", DETECTORS)
def test_cuts_equal_the_goldens(videos, all_cuts, video, name):
    assert all_cuts[video][name][0] == expected(videos, video, name)


@pytest.mark.parametrize("video", OTHER_VIDEOS)
@pytest.mark.parametrize("name", BASE_DETECTORS)
def test_cuts_equal_pyscenedetect_where_there_is_no_golden(videos, all_cuts, video, name):
    reference = [start.frame_num for start, _ in detect(str(videos / video), CLASSES[name]())][1:]
    assert all_cuts[video][name][0] == reference


def test_the_goldens_exercise_every_detector(videos, all_cuts):
    # Otherwise the golden test could pass on detectors that never fire.
    for name in BASE_DETECTORS:
        assert any(all_cuts[v][name][0] for v in SHARED), name
    assert all_cuts["testvideo.mp4"]["threshold"][1] > 0  # a real fade cut reported late


def test_content_at_27_is_contentdetectors_default(videos, all_cuts):
    assert DetectorSettings("content").threshold == 27.0
    _, info, _ = open_video(videos / "testvideo.mp4")
    legacy, _ = run(CutDetector(info, threshold=27.0, min_scene_len=15), decoded_frames(videos / "testvideo.mp4"))
    assert legacy == all_cuts["testvideo.mp4"]["content"][0] == golden(videos, "testvideo.mp4", "content")


def test_threshold_and_min_scene_len_are_applied(videos):
    _, info, _ = open_video(videos / "testvideo.mp4")
    t30 = json.loads((videos / "goldens" / "testvideo.mp4.ContentDetector.t30.json").read_text())["cuts"]
    cuts, _ = run(make_cut_detector(DetectorSettings("content", threshold=30.0), info), decoded_frames(videos / "testvideo.mp4"))
    assert cuts == t30
    a5 = json.loads((videos / "goldens" / "testvideo.mp4.AdaptiveDetector.t5.json").read_text())["cuts"]
    cuts, _ = run(make_cut_detector(DetectorSettings("adaptive", adaptive_threshold=5.0), info), decoded_frames(videos / "testvideo.mp4"))
    assert cuts == a5


def test_merge_keeps_the_earliest_of_close_cuts():
    assert merge_cuts([40, 30, 44, 30, 60, 74, 75], 15) == [30, 60, 75]
    assert merge_cuts([31, 50], 15, last=20) == [50]
    assert merge_cuts([5, 6], 0) == [5, 6]


def _flat(level: int) -> np.ndarray:
    return np.full((48, 64, 3), level, np.uint8)


def test_a_combination_reports_the_earliest_cut_once_and_within_its_lag():
    # A hard cut to black at 20 (ContentDetector) and back at 30: ThresholdDetector puts its cut
    # mid-dark at 25, within min_scene_len of 20, so only 20 survives; then a hard cut at 80.
    frames = [_flat(200)] * 20 + [_flat(0)] * 10 + [_flat(200)] * 50 + [_flat(90)] * 40
    info = VideoInfo("synthetic", Fraction(25), len(frames), 64, 48)
    alone = {n: run(make_cut_detector(DetectorSettings(n), info), frames)[0] for n in ("content", "threshold")}
    assert alone == {"content": [20, 80], "threshold": [25]}
    combined = make_cut_detector(DetectorSettings("content+threshold"), info)
    assert combined.max_lag == max(make_cut_detector(DetectorSettings(n), info).max_lag for n in alone)
    assert run(combined, frames)[0] == [20, 80]


def test_a_long_dark_stretch_puts_the_cut_within_max_lag():
    # 60 dark frames: ThresholdDetector's cut would be mid-dark (10 + 30 = 40), reported at 70,
    # 30 frames late; with a 1 s bound at 25 fps the cut moves to 70 - 25 = 45, still dark.
    frames = [_flat(200)] * 10 + [_flat(0)] * 60 + [_flat(200)] * 20
    info = VideoInfo("synthetic", Fraction(25), len(frames), 64, 48)
    unbounded, lag = run(make_cut_detector(DetectorSettings("threshold"), info), frames)
    assert (unbounded, lag) == ([40], 30)
    bounded = make_cut_detector(DetectorSettings("threshold", max_fade_lag_seconds=1.0), info)
    assert bounded.max_lag == 25
    assert run(bounded, frames) == ([45], 25)


@pytest.mark.parametrize("video", SHARED)
def test_the_frame_scores_are_pyscenedetects_bit_for_bit(videos, video):
    """The content and adaptive detectors compute ContentDetector's frame score in fewer steps
    (detectors._SameScore): every frame's score is the stock detector's, the same float."""
    _, info, _ = open_video(videos / video)
    size = CutDetector(info)._size
    pairs = [
        (ContentDetector(), _Content()),
        (ContentDetector(luma_only=True), _Content(luma_only=True)),
        (AdaptiveDetector(), _Adaptive()),
    ]
    scores: list[list[tuple[float | None, float | None]]] = [[] for _ in pairs]
    cuts: list[tuple[list, list]] = [([], []) for _ in pairs]
    for index, frame in enumerate(decoded_frames(videos / video)):
        small = cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR) if size else frame
        for (stock, ours), seen, found in zip(pairs, scores, cuts):
            found[0].extend(stock.process_frame(FrameTimecode(index, info.fps), small))
            found[1].extend(ours.process_frame(FrameTimecode(index, info.fps), small))
            seen.append((stock._frame_score, ours._frame_score))
    for seen, (stock_cuts, our_cuts) in zip(scores, cuts):
        assert [ours for _, ours in seen] == [stock for stock, _ in seen]
        assert our_cuts == stock_cuts
        assert any(stock for stock, _ in seen), "the video moves: its scores are not all 0"


def test_frames_are_downscaled_as_scenemanager_does():
    info = VideoInfo("synthetic", Fraction(25), 10, 1280, 720)
    assert make_cut_detector(DetectorSettings("hash"), info)._size == (256, 144)
    assert make_cut_detector(DetectorSettings("hash"), VideoInfo("s", Fraction(25), 10, 200, 100))._size is None


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"name": "contnet"}, "unknown cut detector"),
        ({"name": "content+content"}, "combination of distinct"),
        ({"threshold": 0}, "content threshold must be positive"),
        ({"min_scene_len": -1}, "min_scene_len"),
        ({"adaptive_window": 0}, "adaptive_window"),
        ({"fade_threshold": 300}, "fade_threshold"),
        ({"fade_bias": 2}, "fade_bias"),
        ({"hash_threshold": 0}, "hash_threshold"),
        ({"max_fade_lag_seconds": 0}, "max_fade_lag_seconds"),
    ],
)
def test_bad_settings_say_what_to_do(fields, words):
    with pytest.raises(InvalidArgument, match=words):
        DetectorSettings(**fields)


def test_default_is_a_measured_setting():
    assert DEFAULT_DETECTOR in DETECTORS
    assert DetectorSettings().name == DEFAULT_DETECTOR
