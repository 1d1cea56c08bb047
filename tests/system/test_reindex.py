"""Switching models without downtime (issue 21, part 8), end to end: real Embedders for two
models (tiny random CLIPs of different seeds: different model ids), a real Searcher and
Indexer on port 0. While the reindex runs, searches are answered by the old model; a cancel
leaves the old collection serving; `videosearch reindex` then switches to the new model."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests.cli.conftest import make_video
from videosearch.demo.tokenizer import build_tiny_random_clip
from videosearch.embedder.model import ClipEmbedder
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.client.indexer import IndexerClient
from videosearch.indexer.types import JobState
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.searcher.types import SearchParams
from videosearch_cli.main import main

pytestmark = pytest.mark.timeout(600)


class GatedClip(ClipEmbedder):
    """A CLIP whose image passes say they began and then wait while ``gate`` is shut."""

    def __init__(self, *args, **kwargs) -> None:
        self.entered, self.gate = threading.Event(), threading.Event()
        self.gate.set()
        super().__init__(*args, **kwargs)

    def forward(self, pixel_values):
        self.entered.set()
        self.gate.wait()
        return super().forward(pixel_values)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    models = {name: build_tiny_random_clip(tmp_path_factory.mktemp(f"clip-{name}"), seed=seed, image_size=32)
              for name, seed in (("old", 0), ("new", 1))}
    new_clip = GatedClip(str(models["new"]), device="cpu", dtype="float32")
    old = serve_embedder(EmbedderSettings(port=0, model=str(models["old"]), dtype="float32"))
    new = serve_embedder(EmbedderSettings(port=0, model=str(models["new"]), dtype="float32"), new_clip)
    searcher = serve_searcher(SearcherSettings(port=0, data_dir=str(tmp_path_factory.mktemp("searcher")),
                                               embedder_address=old.address, ann="none"))
    videos = tmp_path_factory.mktemp("videos")
    indexer = IndexerApp(IndexerSettings(port=0, allowed_roots=(str(videos),), embedder_address=old.address,
                                         searcher_address=searcher.address, workers=1, rpc_timeout_s=30.0)).start()
    address = f"127.0.0.1:{indexer.port}"
    paths = [make_video(videos / f"clip{i}.mp4", seed=i) for i in range(2)]
    for path in paths:
        path.with_suffix(".srt").write_text("1\n00:00:00,000 --> 00:00:00,500\nthe harbour ferry\n")
    assert main(["--indexer-address", address, "--searcher-address", searcher.address, "index", *map(str, paths)]) == 0
    # Changed after indexing: a video's id covers the words it was indexed with, and a reindex
    # reads the new ones under the same id (the switch needs every stored id in the new collection).
    for path in paths:
        path.with_suffix(".srt").write_text("1\n00:00:00,000 --> 00:00:00,500\nthe mountain railway\n")
    try:
        yield {"old": old, "new": new, "new_clip": new_clip, "searcher": searcher.address, "indexer": address,
               "videos": videos}
    finally:
        new_clip.gate.set()
        indexer.stop(0)
        searcher.stop(0)
        new.stop(0)
        old.stop(0)


def model_of(address: str) -> str:
    from videosearch.client.embedder import EmbedderClient

    with EmbedderClient(address) as client:
        return client.model_info().model_id


def indexed_meanwhile(searcher: SearcherClient, path) -> tuple[str, str]:
    """Stores a new file in the serving collection as an index job of the old model would
    (the first stored video's scenes and vectors under the new file's id); returns (its id,
    the id of another stored video)."""
    import dataclasses
    import hashlib

    from videosearch.searcher.types import VideoLocation

    make_video(path, seed=5)
    first, other = sorted(video.video_id for video in searcher.iter_videos())[:2]
    video, scenes, moments = searcher.get_video_moments(first)
    rows, _scenes = searcher.get_video_embeddings(first)
    video_id = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    copy = dataclasses.replace(video, video_id=video_id, uri=str(path), locations=(VideoLocation(path=str(path)),))
    searcher.upsert_video(copy, scenes, rows, moments)
    return video_id, other


def test_searches_keep_the_old_model_while_a_reindex_runs_and_a_cancel_keeps_it(cluster):
    old_model, new_model = model_of(cluster["old"].address), model_of(cluster["new"].address)
    assert old_model != new_model
    clip = cluster["new_clip"]
    clip.entered.clear()
    clip.gate.clear()
    with IndexerClient(cluster["indexer"]) as indexer, SearcherClient(cluster["searcher"]) as searcher:
        job = indexer.reindex(cluster["new"].address)
        try:
            assert clip.entered.wait(60), "the reindex reached the new model's Embedder"
            during = searcher.search(text="a red circle")
            assert during.model_id == old_model and len(during.videos) == 2, "the old collection still answers"
            stats = searcher.stats()
            assert (stats.model_id, stats.staged_model_id) == (old_model, new_model)
            running = indexer.get(job.job_id)
            assert running.state is JobState.RUNNING and running.videos_total == 2
            assert running.reindex_model_id == new_model
            indexer.cancel(job.job_id)
        finally:
            clip.gate.set()
        finished = indexer.wait(job.job_id)
        assert finished.state is JobState.CANCELLED
        deadline = time.monotonic() + 10
        while searcher.stats().staged_model_id and time.monotonic() < deadline:
            time.sleep(0.05)
        stats = searcher.stats()
        assert (stats.model_id, stats.video_count, stats.staged_model_id) == (old_model, 2, "")
        assert searcher.search(text="a red circle").model_id == old_model


def test_videosearch_reindex_switches_to_the_new_model(cluster, capsys):
    new_model = model_of(cluster["new"].address)
    args = ["--indexer-address", cluster["indexer"], "--searcher-address", cluster["searcher"]]
    wrong = main([*args, "reindex", "--embedder-address", cluster["new"].address, "--model", "some/other-model"])
    assert wrong == 1 and "serves" in capsys.readouterr().out
    # While the reindex runs, one video is indexed into the serving collection and one deleted:
    # the switch waits for the first (another catch-up round) and leaves the second out.
    clip = cluster["new_clip"]
    clip.entered.clear()
    clip.gate.clear()
    outcome: list[int] = []
    run = threading.Thread(target=lambda: outcome.append(
        main([*args, "reindex", "--embedder-address", cluster["new"].address])))
    run.start()
    try:
        assert clip.entered.wait(60), "the reindex reached the new model's Embedder"
        with SearcherClient(cluster["searcher"]) as searcher:
            meanwhile_id, deleted_id = indexed_meanwhile(searcher, cluster["videos"] / "meanwhile.mp4")
            searcher.delete_video(deleted_id)
    finally:
        clip.gate.set()
        run.join(120)
    assert outcome == [0]
    assert f"switched to {new_model}: 3 videos reindexed" in capsys.readouterr().out.replace("\n", " ")
    with SearcherClient(cluster["searcher"]) as searcher:
        stats = searcher.stats()
        assert (stats.model_id, stats.video_count, stats.staged_model_id) == (new_model, 2, "")
        assert meanwhile_id in {video.video_id for video in searcher.iter_videos()}
        assert deleted_id not in {video.video_id for video in searcher.iter_videos()}
        result = searcher.search(text="a red circle")  # embedded by the new model's Embedder now
        assert result.model_id == new_model and len(result.videos) == 2
        said = searcher.search(text="mountain railway", params=SearchParams(kinds=("said",))).videos
        assert len(said) == 1 and Path(said[0].video.uri).name in ("clip0.mp4", "clip1.mp4")  # the one not deleted
    again = main([*args, "reindex", "--embedder-address", cluster["new"].address])
    assert again == 1 and "already serves" in capsys.readouterr().out
    # the Indexer indexes new files with the new model from now on (no model mismatch)
    later = make_video(cluster["videos"] / "later.mp4", seed=7)
    assert main([*args, "index", str(later)]) == 0
    with SearcherClient(cluster["searcher"]) as searcher:
        assert (searcher.stats().model_id, searcher.stats().video_count) == (new_model, 3)
