"""Retrieval quality through the real services with the committed demo CLIP: a
regression that scrambles embeddings, timestamps or ranking fails here."""

from __future__ import annotations

import pytest
from videosearch.demo.quality import evaluate, index_corpus
from videosearch.demo.videos import generate_demo_corpus
from videosearch.launcher import ClusterConfig, LocalCluster
from videosearch.client.searcher import SearcherClient

from tests.conftest import REPO_ROOT

DEMO_MODEL = REPO_ROOT / "models" / "demo-clip"
pytestmark = pytest.mark.timeout(600)


def test_demo_corpus_is_retrieved_far_better_than_chance(tmp_path):
    assert (DEMO_MODEL / "model.safetensors").exists(), "models/demo-clip is committed with the repository"
    corpus_dir = tmp_path / "corpus"
    # 320x180: the demo CLIP sees 40 px frames, and a quarter of the default's pixels renders and decodes faster.
    corpus = generate_demo_corpus(corpus_dir, 5, (3, 4), seed=99, frames_per_scene=(30, 60), size=(320, 180))
    config = ClusterConfig(
        model=str(DEMO_MODEL), data_dir=str(tmp_path / "data"), allowed_roots=(str(corpus_dir),),
        embedder_port=0, searcher_port=0, indexer_port=0, extra_env={"HF_HUB_OFFLINE": "1"},
    )
    with LocalCluster(config) as cluster:
        ids = index_corpus(cluster.address("indexer"), corpus_dir, corpus)
        with SearcherClient(cluster.address("searcher")) as searcher:
            report = evaluate(searcher, corpus, ids)
    print("\n" + report.table())
    assert report.queries >= 15
    # Chance for video R@1 is about 1/5 here; the pipeline must do far better.
    assert report.video_r1 >= 0.8, report.table()
    assert report.video_mrr >= 0.85, report.table()
    assert report.top_scene_iou_ok >= 0.8, report.table()
    assert report.cut_recall >= 0.98, report.table()
