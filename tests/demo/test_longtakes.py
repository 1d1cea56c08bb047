"""Long takes: the ground truth describes the written file, subjects are alone in their ranges,
cuts are where the truth says, and the distractors are what they claim to be."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from videosearch.common.errors import InvalidArgument
from videosearch.demo import world
from videosearch.demo.longtakes import default_transitions, generate_long_take, generate_moment_corpus
from videosearch.indexer.media.detector_settings import DetectorSettings
from videosearch.indexer.media.detectors import make_cut_detector
from videosearch.indexer.media.facade import open_video

MODEL = Path(__file__).resolve().parents[2] / "models" / "demo-clip"
SUBJECTS = ["a red circle", "a blue square", "a green star", "an orange cross", "a purple triangle"]
KINDS = ["dissolve", "fade", "pan", "cut"]
ENTRY_KEYS = {"file", "kind", "fps", "frame_count", "duration_seconds", "subjects", "transitions", "cuts", "gradual", "distractors"}


def decode(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while (got := capture.read())[0]:
        frames.append(got[1])
    capture.release()
    return frames


@pytest.fixture(scope="module")
def take(tmp_path_factory):
    """12.4 s at 320x180: every transition kind, two flashes and two fast motions."""
    path = tmp_path_factory.mktemp("longtake") / "take.mp4"
    truth = generate_long_take(path, SUBJECTS, transitions=KINDS, subject_seconds=2.0, transition_seconds=0.8,
                               size=(320, 180), seed=1, flashes=2, fast_motion=2)
    return path, truth, decode(path)


def test_truth_describes_the_file(take):
    path, truth, frames = take
    assert set(truth) == ENTRY_KEYS and truth["kind"] == "long_take" and truth["file"] == path.name
    capture = cv2.VideoCapture(str(path))
    assert capture.get(cv2.CAP_PROP_FPS) == truth["fps"] == 25.0
    capture.release()
    assert len(frames) == truth["frame_count"] == 2 * 5 * 25 + 3 * 20
    assert truth["duration_seconds"] == truth["frame_count"] / 25
    # Subjects and transitions tile the video in turn.
    spans = []
    for subject, change in itertools.zip_longest(truth["subjects"], truth["transitions"]):
        spans.append((subject["start_frame"], subject["end_frame"]))
        assert subject["start_seconds"] == subject["start_frame"] / 25 and subject["end_seconds"] == subject["end_frame"] / 25
        if change:
            spans.append((change["start_frame"], change["end_frame"]))
    assert spans[0][0] == 0 and spans[-1][1] == truth["frame_count"]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert [s["caption"] for s in truth["subjects"]] == SUBJECTS
    assert [t["kind"] for t in truth["transitions"]] == KINDS
    assert truth["cuts"] == [truth["transitions"][3]["start_frame"]] == [truth["transitions"][3]["end_frame"]]
    assert truth["gradual"] == [t["start_frame"] + 10 for t in truth["transitions"][:3]]
    assert sorted(d["kind"] for d in truth["distractors"]) == ["fast_motion", "fast_motion", "flash", "flash"]


def test_subjects_are_alone_in_their_ranges(take):
    """The demo CLIP names each subject on the first, middle and last frame of its range."""
    torch = pytest.importorskip("torch")
    from videosearch.demo.evaluate import embed_images, embed_texts, load

    _, truth, frames = take
    distractor = {f for d in truth["distractors"] for f in range(d["start_frame"], d["end_frame"])}
    picks, labels = [], []
    for s in truth["subjects"]:
        for f in (s["start_frame"], (s["start_frame"] + s["end_frame"]) // 2, s["end_frame"] - 1):
            f = next(g for g in range(f, s["start_frame"] - 1, -1) if g not in distractor)
            picks.append(np.ascontiguousarray(frames[f][:, :, ::-1]))
            labels.append(world.CAPTIONS.index(s["caption"]))
    model, processor = load(MODEL)
    with torch.no_grad():
        scores = embed_images(model, processor, picks) @ embed_texts(model, processor, world.CAPTIONS).T
    assert scores.argmax(dim=1).tolist() == labels


def test_transition_frames_are_not_one_subject_alone(take):
    # Mid-dissolve both objects show through; mid-fade the frame is nearly black.
    _, truth, frames = take
    dissolve, fade, _pan = truth["gradual"]
    hsv = cv2.cvtColor(frames[dissolve], cv2.COLOR_BGR2HSV)
    hues = hsv[..., 0][hsv[..., 1] > 60]
    red = np.count_nonzero((hues < 8) | (hues > 170))
    blue = np.count_nonzero((hues > 105) & (hues < 130))
    assert red > 300 and blue > 300, (red, blue)
    assert frames[fade].mean() < 12 < frames[truth["subjects"][1]["end_frame"] - 1].mean()


def test_cuts_and_fades_are_where_the_truth_says(take):
    path, truth, frames = take
    _, info, _ = open_video(path)
    found = {}
    for name in ("content", "threshold"):
        detector = make_cut_detector(DetectorSettings(name), info)
        cuts = [c for i, frame in enumerate(frames) for c in detector.process(i, frame)]
        found[name] = cuts + detector.finish(len(frames) - 1)
    assert set(truth["cuts"]) <= set(found["content"])
    fade = truth["transitions"][1]
    assert found["threshold"] and all(fade["start_frame"] <= c < fade["end_frame"] for c in found["threshold"])


def _object_centre(frame_bgr: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2HSV)
    ys, xs = np.nonzero(hsv[..., 1] > 90)  # the object is saturated, the background is not
    return np.array([xs.mean(), ys.mean()])


def test_distractors_are_flashes_and_fast_motion(take):
    _, truth, frames = take
    for d in truth["distractors"]:
        a, b = d["start_frame"], d["end_frame"]
        if d["kind"] == "flash":
            before = frames[a - 1].mean()
            assert all(frames[f].mean() > before + 0.3 * (255 - before) for f in range(a, b))
            assert abs(frames[b].mean() - before) < 10  # and back to normal
        else:
            fast = np.median([np.linalg.norm(_object_centre(frames[f + 1]) - _object_centre(frames[f])) for f in range(a, b - 1)])
            slow = np.median([np.linalg.norm(_object_centre(frames[f + 1]) - _object_centre(frames[f])) for f in range(b + 1, b + 8)])
            assert fast > 10 > 3 > slow, (fast, slow)  # pixels per frame at 180 px high (0.07 of it is 12.6)


def test_a_46_second_take_of_8_subjects(tmp_path):
    subjects = ["a red circle", "a blue square", "a green star", "an orange cross",
                "a purple triangle", "a yellow circle", "a red square", "a blue star"]
    gradual = ["dissolve", "fade", "pan", "dissolve", "fade", "pan", "dissolve"]
    truth = generate_long_take(tmp_path / "long.mp4", subjects, transitions=gradual, size=(64, 36), seed=3)
    assert truth["duration_seconds"] == 8 * 4 + 7 * 2 and truth["frame_count"] == 46 * 25
    assert len(decode(tmp_path / "long.mp4")) == truth["frame_count"]


def test_the_default_mix_has_every_transition():
    assert set(default_transitions(7, np.random.default_rng(0))) == set(KINDS)
    assert len(default_transitions(7, np.random.default_rng(0))) == 7


@pytest.mark.parametrize(
    ("subjects", "options", "words"),
    [
        (["a red circle", "a red square"], {}, "differ in colour and shape"),
        (["a red circle", "a blue circle"], {}, "differ in colour and shape"),
        (["a pink circle"], {}, "CAPTIONS"),
        ([], {}, "at least one subject"),
        (["a red circle", "a blue square"], {"transitions": ["wipe"]}, "unknown transitions"),
        (["a red circle", "a blue square"], {"transitions": []}, "need 1 transitions"),
        (["a red circle"], {"flashes": 2}, "one distractor per subject"),
        (["a red circle"], {"flashes": 1, "subject_seconds": 0.5}, "raise subject_seconds"),
    ],
)
def test_bad_requests_say_what_to_do(tmp_path, subjects, options, words):
    with pytest.raises(InvalidArgument, match=words):
        generate_long_take(tmp_path / "x.mp4", subjects, size=(64, 36), **options)


def test_corpus_mixes_long_takes_and_hard_cuts_and_is_cached(tmp_path):
    options = dict(long_takes=1, hard_cut_videos=1, subjects_per_take=3, seed=5, subject_seconds=2.0,
                   transition_seconds=0.4, flashes_per_take=1, fast_motion_per_take=1, size=(96, 54))
    corpus = generate_moment_corpus(tmp_path, **options)
    assert json.loads((tmp_path / "corpus.json").read_text()) == corpus
    assert [v["kind"] for v in corpus["videos"]] == ["long_take", "hard_cut"]
    for entry in corpus["videos"]:
        assert set(entry) == ENTRY_KEYS
        assert len(decode(tmp_path / entry["file"])) == entry["frame_count"]
    hard = corpus["videos"][1]
    scenes = json.loads((tmp_path / "cuts_000.json").read_text())["scenes"]
    assert [(s["caption"], s["start_frame"], s["end_frame"]) for s in scenes] == [
        (s["caption"], s["start_frame"], s["end_frame"]) for s in hard["subjects"]]
    assert hard["cuts"] == [s["start_frame"] for s in scenes[1:]] and hard["gradual"] == hard["distractors"] == []
    stamps = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    assert generate_moment_corpus(tmp_path, **options) == corpus
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == stamps  # nothing rewritten
    assert generate_moment_corpus(tmp_path, **{**options, "seed": 6})["params"]["seed"] == 6
