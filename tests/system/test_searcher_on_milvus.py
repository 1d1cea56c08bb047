"""The Searcher service on Milvus: two Searcher processes over one milvus-lite server are
replicas. A real index job writes a video (moments, sampled frames, thumbnails) through
one; the other answers for it at once (stats, text search with explained hits, a
thumbnail), and a delete through the second is seen by the first."""

from __future__ import annotations

import time

import pytest
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.client.indexer import IndexerClient, SubmitOptions
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import SearchParams

from tests.milvus_lite import milvus_lite_server
from tests.service_process import service_process

pytestmark = pytest.mark.timeout(300)


def serving(address: str) -> SearcherClient:
    client = SearcherClient(address)
    deadline = time.monotonic() + 60
    while client.health() != "SERVING":
        assert time.monotonic() < deadline, f"the searcher at {address} did not turn SERVING"
        time.sleep(0.1)
    return client


def test_two_searchers_over_one_milvus_are_replicas(tiny_clip_dir, shared_videos, tmp_path):
    embedder = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32"))
    try:
        with milvus_lite_server(tmp_path / "milvus") as uri:
            args = ["--backend", "milvus", "--milvus-uri", uri, "--embedder-address", embedder.address]
            with service_process("videosearch.searcher.server", args, tmp_path / "a.port") as (_, address_a), \
                    service_process("videosearch.searcher.server", args, tmp_path / "b.port") as (_, address_b):
                a, b = serving(address_a), serving(address_b)
                indexer = IndexerApp.serve(IndexerSettings(
                    port=0, allowed_roots=(str(shared_videos),), embedder_address=embedder.address,
                    searcher_address=address_a, workers=1))
                try:
                    with IndexerClient(f"127.0.0.1:{indexer.port}") as jobs:
                        job = jobs.wait(jobs.submit(str(shared_videos / "testvideo.mp4"), SubmitOptions()).job_id)
                finally:
                    indexer.stop(0)
                assert job.state.name == "SUCCEEDED", job.error

                stats = b.stats()  # written through A, read through B
                assert (stats.video_count, stats.scene_count) == (1, job.scenes_found)
                assert stats.moment_count == job.moments_found and stats.approximate_index
                video, scenes, moments = b.get_video_moments(job.video_id)
                assert len(scenes) == job.scenes_found and len(moments) == job.moments_found
                found = b.search(text="a person", params=SearchParams(top_k=3, mode="scenes", explain=True))
                assert found.scenes and {hit.video_id for hit in found.scenes} == {job.video_id}
                assert all(hit.explanation is not None and hit.explanation.best_frame_index >= 0
                           for hit in found.scenes), "the sampled frames came back from Milvus"
                thumbnail = b.get_scene_thumbnail(job.video_id, 0)
                assert thumbnail.image_jpeg[:2] == b"\xff\xd8" and thumbnail.width > 0

                assert b.delete_video(job.video_id) == job.scenes_found
                assert a.stats().video_count == 0 and a.list_videos()[0] == []  # B's delete, seen by A
                a.close()
                b.close()
    finally:
        embedder.stop(0)
