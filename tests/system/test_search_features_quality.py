"""The smaller pytest version of bench/quality's issue-9 part: image queries, "more like this"
and negative queries through the real services (separate processes) with the committed demo
CLIP, on a corpus where every caption appears in two or three videos."""

from __future__ import annotations

import json

import numpy as np
import pytest
from videosearch.demo import world
from videosearch.demo.quality import index_corpus
from videosearch.demo.search_quality import evaluate_search_features
from videosearch.demo.videos import generate_demo_video
from videosearch.launcher import ClusterConfig, LocalCluster
from videosearch.client.searcher import SearcherClient

from tests.conftest import REPO_ROOT

DEMO_MODEL = REPO_ROOT / "models" / "demo-clip"
pytestmark = pytest.mark.timeout(600)


def corpus_with_repeats(out_dir, rng) -> dict:
    """8 videos of 3 scenes; 12 captions, each in two videos: a red one of every shape (which the
    negative queries must keep from the top) and 7 others."""
    others = [c for c in world.CAPTIONS if " red " not in c]
    captions = [f"a red {shape}" for shape in world.SHAPES] + [others[i] for i in rng.choice(len(others), 7, replace=False)]
    slots = rng.permutation(np.repeat(np.arange(12), 2))
    videos = []
    for v in range(8):
        chosen = [captions[i] for i in slots[3 * v : 3 * v + 3]]
        path = out_dir / f"repeat_{v:02d}.mp4"
        videos.append(generate_demo_video(path, chosen, rng, size=(320, 180), frames_per_scene=(30, 45)))
    corpus = {"videos": videos}
    (out_dir / "index.json").write_text(json.dumps(corpus))
    return corpus


def test_image_like_and_negative_queries_on_the_demo_world(tmp_path):
    corpus_dir = tmp_path / "corpus"
    corpus_dir.mkdir()
    corpus = corpus_with_repeats(corpus_dir, np.random.default_rng(2024))
    config = ClusterConfig(
        model=str(DEMO_MODEL), data_dir=str(tmp_path / "data"), allowed_roots=(str(corpus_dir),),
        embedder_port=0, searcher_port=0, indexer_port=0, extra_env={"HF_HUB_OFFLINE": "1"},
    )
    with LocalCluster(config) as cluster:
        ids = index_corpus(cluster.address("indexer"), corpus_dir, corpus)
        with SearcherClient(cluster.address("searcher")) as searcher:
            report = evaluate_search_features(searcher, corpus, ids)
    print("\n" + report.table())
    assert report.image_queries >= 10 and report.like_queries >= 20 and report.negative_queries >= 4
    assert report.image_video_r1 >= 0.95, report.table()
    assert report.like_precision_at_5 >= 0.8, report.table()
    assert report.negative_violations == 0, report.table()
