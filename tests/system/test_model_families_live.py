"""Every supported model family through the whole pipeline: a real Embedder serving a tiny
random model of the family (tests/model_families.py, built offline), a Searcher on a real
LevelDB and an Indexer decoding a real (generated) video, all on port 0. The video is indexed
and found again by an English text, a Chinese text and one of its own frames sent as an image
(which must find its own stored embedding: the Indexer and the Searcher prepared the same
pixels the family's way, NaFlex's aspect-kept patch budget included)."""

from __future__ import annotations

import io
import time

import cv2
import numpy as np
import pytest
from PIL import Image
from videosearch.common.grpc_server import insecure_channel
from videosearch.demo.videos import generate_demo_video
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc, searcher_pb2, searcher_pb2_grpc

from tests.model_families import EMBEDDING_SIZE, FAMILIES

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    folder = tmp_path_factory.mktemp("family-videos")
    path = folder / "shapes.mp4"
    generate_demo_video(path, ["a red circle", "an orange cross"], np.random.default_rng(5), size=(192, 108),
                        frames_per_scene=(20, 25))
    return path


def frame_png(path, number: int) -> bytes:
    capture = cv2.VideoCapture(str(path))
    for _ in range(number + 1):
        ok, frame = capture.read()
        assert ok
    capture.release()
    png = io.BytesIO()
    Image.fromarray(frame[:, :, ::-1]).save(png, "PNG")
    return png.getvalue()


@pytest.mark.parametrize("family", FAMILIES)
def test_index_and_search_with_every_family(family, tiny_family_dirs, video, tmp_path):
    # dtype auto: what a user gets (bfloat16 on a CPU with native bfloat16, else float32).
    embedder = serve_embedder(EmbedderSettings(port=0, model=str(tiny_family_dirs[family]), device="cpu"))
    searcher = serve_searcher(SearcherSettings(port=0, data_dir=str(tmp_path / "searcher"),
                                               embedder_address=embedder.address, ann="none"))
    indexer = IndexerApp(IndexerSettings(port=0, allowed_roots=(str(video.parent),), embedder_address=embedder.address,
                                         searcher_address=searcher.address, workers=1, rpc_timeout_s=30.0)).start()
    try:
        with insecure_channel(f"127.0.0.1:{indexer.port}") as ic, insecure_channel(searcher.address) as sc:
            indexer_stub, searcher_stub = indexer_pb2_grpc.IndexerServiceStub(ic), searcher_pb2_grpc.SearcherServiceStub(sc)
            job = indexer_stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(video)), timeout=30).job
            deadline = time.monotonic() + 240
            while job.state not in (indexer_pb2.JOB_STATE_SUCCEEDED, indexer_pb2.JOB_STATE_FAILED):
                assert time.monotonic() < deadline, "indexing did not finish"
                time.sleep(0.2)
                job = indexer_stub.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id=job.job_id), timeout=30).job
            assert job.state == indexer_pb2.JOB_STATE_SUCCEEDED, job.error
            model_id = embedder.engine.model_info().model_id
            stored = searcher_stub.GetVideo(searcher_pb2.GetVideoRequest(video_id=job.video_id), timeout=30).video
            assert (stored.model_id, stored.embedding_dim) == (model_id, EMBEDDING_SIZE[family])
            for text in ("a red circle", "一个红色的圆"):
                hits = searcher_stub.Search(searcher_pb2.SearchRequest(
                    text=text, mode=searcher_pb2.SEARCH_MODE_SCENES, top_k=1), timeout=30).scenes
                assert [hit.video_id for hit in hits] == [job.video_id], text
            frames = searcher_stub.Search(searcher_pb2.SearchRequest(
                text="a red circle", mode=searcher_pb2.SEARCH_MODE_SCENES, top_k=1, explain=True),
                timeout=30).scenes[0].explanation.frames
            target = frames[0].frame
            by_image = searcher_stub.Search(searcher_pb2.SearchRequest(
                terms=[searcher_pb2.QueryTerm(image=frame_png(video, target))], mode=searcher_pb2.SEARCH_MODE_SCENES,
                top_k=1, explain=True), timeout=30).scenes[0]
            best = max(by_image.explanation.frames, key=lambda f: f.score)
            assert best.frame == target and best.score == pytest.approx(1.0, abs=5e-3)
    finally:
        indexer.stop(0)
        searcher.stop(0)
        embedder.stop(0)
