import json

import numpy as np

import cv2
import scenedetect  # noqa: F401 - a required dependency: a broken install fails here

import itertools

from videosearch.demo.videos import (
    generate_demo_corpus,
    generate_demo_video,
    random_scenes,
)


def _read_count(path):
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    return n


def _cuts(path):
    from scenedetect import ContentDetector, detect

    scenes = detect(str(path), ContentDetector())
    return [(s.frame_num, e.frame_num) for s, e in scenes]


def test_video_cuts_match_ground_truth(tmp_path):
    rng = np.random.default_rng(7)
    scenes = random_scenes(5, rng)
    path = tmp_path / "v.mp4"
    gt = generate_demo_video(path, scenes, rng, size=(320, 180), frames_per_scene=(20, 40))
    assert json.loads(path.with_suffix(".json").read_text()) == gt
    assert [s["caption"] for s in gt["scenes"]] == scenes
    assert gt["fps"] == "25" and gt["scenes"][0]["start_frame"] == 0
    assert gt["scenes"][-1]["end_frame"] == gt["frame_count"]
    assert _read_count(path) == gt["frame_count"]
    expected = [(s["start_frame"], s["end_frame"]) for s in gt["scenes"]]
    assert _cuts(path) == expected


def test_corpus_index(tmp_path):
    index = generate_demo_corpus(tmp_path, 2, (2, 3), seed=3, size=(160, 90), frames_per_scene=(16, 20))
    assert len(index["videos"]) == 2
    on_disk = json.loads((tmp_path / "index.json").read_text())
    assert on_disk == index
    for v in index["videos"]:
        assert (tmp_path / v["file"]).is_file() and (tmp_path / v["ground_truth"]).is_file()
        assert 2 <= len(v["scenes"]) <= 3
        caps = [s["caption"] for s in v["scenes"]]
        assert all(a != b for a, b in itertools.pairwise(caps))
