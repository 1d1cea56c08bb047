"""Chinese queries and Chinese file names end to end, and calibrated relevance with weak
matches folded away: the real demo model in a real Embedder, Searcher and Indexer on port 0,
driven by the CLI (in-process), the web page (TestClient) and the Node client (example.js)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from starlette.testclient import TestClient

from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.searcher.types import SearchFilter, SearchParams
from videosearch.web.app import create_app
from videosearch.web.settings import WebSettings
from videosearch_cli.main import main

MODEL = Path(__file__).resolve().parents[2] / "models" / "demo-clip"
pytestmark = pytest.mark.timeout(600)

# One video per subject; the names are what a Chinese user would call them.
VIDEOS = {"红色的圆.mp4": "a red circle", "蓝色的正方形.mp4": "a blue square", "绿色的三角形.mp4": "a green triangle",
          "黄色的星星.mp4": "a yellow star"}


@dataclass
class Cluster:
    embedder: str
    searcher: str
    indexer: str
    root: Path
    ids: dict[str, str]  # file name -> video id

    @property
    def addresses(self) -> list[str]:
        return ["--indexer-address", self.indexer, "--searcher-address", self.searcher]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from videosearch.demo.videos import generate_demo_video

    embedder = serve_embedder(EmbedderSettings(port=0, model=str(MODEL), dtype="float32"))
    searcher = serve_searcher(SearcherSettings(port=0, data_dir=str(tmp_path_factory.mktemp("searcher")),
                                               embedder_address=embedder.address, ann="none"))
    root = tmp_path_factory.mktemp("视频")
    indexer = IndexerApp(IndexerSettings(port=0, allowed_roots=(str(root),), embedder_address=embedder.address,
                                         searcher_address=searcher.address, workers=1, rpc_timeout_s=30.0)).start()
    try:
        for seed, (name, caption) in enumerate(VIDEOS.items()):
            generate_demo_video(root / name, [caption], np.random.default_rng(seed), size=(160, 96),
                                frames_per_scene=(24, 24))
            (root / name).with_suffix(".json").unlink()
        address = f"127.0.0.1:{indexer.port}"
        assert main(["--indexer-address", address, "--searcher-address", searcher.address, "index", str(root)]) == 0
        with SearcherClient(searcher.address) as client:
            videos, _, _ = client.list_videos()
        ids = {Path(video.uri).name: video.video_id for video in videos}
        assert set(ids) == set(VIDEOS), ids
        yield Cluster(embedder.address, searcher.address, address, root, ids)
    finally:
        indexer.stop(0)
        searcher.stop(0)
        embedder.stop(0)


def run_cli(capsys, cluster: Cluster, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main([*cluster.addresses, *args])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("query", ["一个红色的圆", "a red circle", "红色的圆"])
def test_a_chinese_or_english_query_finds_the_chinese_named_file_first(capsys, cluster, query):
    code, out = run_cli(capsys, cluster, "search", query, "--json")
    assert code == 0
    found = json.loads(out)
    assert found["query"] == query, "the query comes back as typed, not escaped"
    assert "红色的圆.mp4" in out, "the Chinese file name is printed as text, not as \\u escapes"
    top = found["videos"][0]
    assert top["video"]["path"].endswith("红色的圆.mp4")
    assert top["relevance"] >= found["strong_relevance"] > 0
    assert all(v["relevance"] < found["strong_relevance"] for v in found["videos"][1:]), \
        "only the video that shows a red circle is a strong match"
    assert found["model_id"].startswith("demo-clip") and "demo world" in found["model_notice"]
    assert found["calibration"]["query_kind"] == "text" and found["calibration"]["null_pairs"] > 0


def test_the_table_shows_strong_matches_and_folds_the_weak_ones(capsys, cluster):
    code, out = run_cli(capsys, cluster, "search", "一个蓝色的正方形")
    assert code == 0
    assert "蓝色的正方形.mp4" in out and "红色的圆.mp4" not in out
    assert f"{len(VIDEOS) - 1} weak matches" in out and "--all" in out
    assert "note: demo model" in out
    code, everything = run_cli(capsys, cluster, "search", "一个蓝色的正方形", "--all")
    assert code == 0 and all(name in everything for name in VIDEOS)


def test_min_score_is_on_the_calibrated_scale(capsys, cluster):
    code, out = run_cli(capsys, cluster, "search", "一个绿色的三角形", "--min-score", "0.5", "--json")
    assert code == 0
    assert [Path(v["video"]["path"]).name for v in json.loads(out)["videos"]] == ["绿色的三角形.mp4"]
    with SearcherClient(cluster.searcher) as searcher:
        strict = searcher.search(text="a green triangle",
                                 params=SearchParams(filter=SearchFilter(min_relevance=0.999999)))
    assert strict.videos == [], "nothing reaches relevance 1"


def test_relevance_is_calibrated_the_same_way_for_an_image_query(cluster):
    from videosearch.demo.search_quality import render_jpeg
    from videosearch.searcher.types import QueryTerm

    with SearcherClient(cluster.searcher) as searcher:
        result = searcher.search(terms=[QueryTerm(image=render_jpeg("a yellow star", np.random.default_rng(9)))])
    # image queries are measured against moments of other videos (12 pairs here: four one-moment
    # videos are too few to tell the weak from the strong reliably, so only the order is checked)
    assert result.calibration.query_kind == "image" and result.calibration.null_pairs == 4 * 3
    assert Path(result.videos[0].video.uri).name == "黄色的星星.mp4"
    assert result.videos[0].relevance >= result.strong_relevance
    relevance = [hit.relevance for hit in result.videos]
    assert relevance == sorted(relevance, reverse=True) and relevance[-1] < result.strong_relevance


def test_the_web_page_takes_a_chinese_query_and_folds_weak_matches(cluster):
    settings = WebSettings(indexer_address=cluster.indexer, searcher_address=cluster.searcher,
                           allowed_roots=(str(cluster.root),), rpc_timeout_s=20.0)
    with TestClient(create_app(settings)) as web:
        page = web.get("/search", params={"q": "一个红色的圆"})
    assert page.status_code == 200
    html = page.text
    assert 'value="一个红色的圆"' in html, "the query is shown back as typed"
    strong, _, weak = html.partition('<details class="weak-matches"')
    assert "红色的圆.mp4" in strong and "蓝色的正方形.mp4" not in strong
    assert f"{len(VIDEOS) - 1} weak matches" in weak and "蓝色的正方形.mp4" in weak
    assert "Note: demo model" in html and "demo-clip" in html


def test_the_node_client_sends_and_prints_chinese(cluster):
    from tests.system.node_tools import NODE_CLIENT, require_node_client

    node = require_node_client()
    result = subprocess.run(
        [node, "example.js", str(cluster.root / "红色的圆.mp4"), "一个红色的圆"], cwd=NODE_CLIENT,
        capture_output=True, text=True, timeout=120,
        env=os.environ | {"VIDEOSEARCH_INDEXER_ADDRESS": cluster.indexer, "VIDEOSEARCH_SEARCHER_ADDRESS": cluster.searcher},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    first = next(line for line in result.stdout.splitlines() if line.startswith("1. "))
    assert "(strong," in first and first.endswith("红色的圆.mp4"), result.stdout
    assert "note: demo model" in result.stdout
