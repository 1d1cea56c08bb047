"""Moment retrieval through the real services with the committed demo CLIP: each subject of
a long take (one 46-second take joined only by dissolves, which no cut detector sees, and one
mixing dissolves, fades through black, pans and cuts, with flashes and fast motion) is found
in its video and at its time, beside ordinary hard-cut videos. The smaller version of
bench/quality/moments.py; a regression to one embedding per scene fails here."""

from __future__ import annotations

import numpy as np
import pytest
from videosearch.demo.longtakes import generate_hard_cut_video, generate_long_take
from videosearch.demo.moment_quality import index_and_evaluate
from videosearch.demo.videos import random_scenes
from videosearch.launcher import ClusterConfig, LocalCluster

from tests.conftest import REPO_ROOT

DEMO_MODEL = REPO_ROOT / "models" / "demo-clip"
# 320x180, not the bench's 480x270: the demo CLIP sees 40 px frames either way, and the smaller
# frames render, encode and decode in under half the time (the report stays at R@1 1.0).
SIZE = (320, 180)
pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("moments")
    rng = np.random.default_rng(13)
    videos = [
        generate_long_take(out / "dissolves.mp4", random_scenes(8, rng), transitions=["dissolve"] * 7, size=SIZE, seed=1),
        generate_long_take(out / "mixed.mp4", random_scenes(8, rng),
                           transitions=["dissolve", "fade", "pan", "cut", "pan", "dissolve", "fade"],
                           size=SIZE, seed=2, flashes=1, fast_motion=1),
    ]
    videos += [generate_hard_cut_video(out / f"cuts_{i}.mp4", random_scenes(4, rng), rng, size=SIZE) for i in range(3)]
    return out, {"videos": videos}


def test_every_subject_is_found_at_its_moment(tmp_path, corpus):
    corpus_dir, truth = corpus
    assert truth["videos"][0]["duration_seconds"] == 46.0 and len(truth["videos"][0]["subjects"]) == 8
    config = ClusterConfig(
        model=str(DEMO_MODEL), data_dir=str(tmp_path / "data"), allowed_roots=(str(corpus_dir),),
        embedder_port=0, searcher_port=0, indexer_port=0,
        # float32: the auto dtype is chosen by timing at start-up, and a busy machine could flip it.
        extra_env={"HF_HUB_OFFLINE": "1", "VIDEOSEARCH_EMBEDDER_DTYPE": "float32"},
    )
    with LocalCluster(config) as cluster:
        report = index_and_evaluate({"indexer": cluster.address("indexer"), "searcher": cluster.address("searcher")},
                                   corpus_dir, truth)
    print("\n" + report.table())
    long_takes, hard_cuts = report.by_kind["long_take"], report.by_kind["hard_cut"]
    assert long_takes.queries == 16 and hard_cuts.queries == 12
    assert long_takes.video_r1 >= 0.95 and hard_cuts.video_r1 >= 0.95, report.table()
    assert long_takes.iou_found >= 0.9 and hard_cuts.iou_found >= 0.9, report.table()
    assert report.moments > report.scenes, "long scenes were split into moments"
