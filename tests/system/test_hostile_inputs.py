"""Hostile inputs through real servers (issue 7, part 3): each gets INVALID_ARGUMENT with a
message that says what to send, never INTERNAL and never a hang, and the services keep
serving afterwards. The decoders' own property tests are in tests/common."""

from __future__ import annotations

import os

import grpc
import numpy as np
import pytest
from videosearch.common.grpc_server import insecure_channel
from videosearch.common.tensors import to_tensor
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.v1 import (
    embedder_pb2,
    embedder_pb2_grpc,
    indexer_pb2,
    indexer_pb2_grpc,
    searcher_pb2,
    searcher_pb2_grpc,
    tensor_pb2,
    video_pb2,
)

pytestmark = pytest.mark.timeout(300)
OVERFLOWING_SHAPES = ([2**32, 2**32], [2**62, 4, 1, 1])


@pytest.fixture(scope="module")
def services(tiny_clip_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("videos")
    embedder = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), device="cpu", dtype="float32"))
    searcher = serve_searcher(SearcherSettings(
        port=0, data_dir=str(tmp_path_factory.mktemp("searcher")), embedder_address=embedder.address, ann="none"))
    indexer = IndexerApp(IndexerSettings(
        port=0, allowed_roots=(str(root),), embedder_address=embedder.address,
        searcher_address=searcher.address, workers=1, rpc_timeout_s=10.0)).start()
    channels = [insecure_channel(a) for a in (embedder.address, searcher.address, f"127.0.0.1:{indexer.port}")]
    yield (root, embedder_pb2_grpc.EmbedderServiceStub(channels[0]), searcher_pb2_grpc.SearcherServiceStub(channels[1]),
           indexer_pb2_grpc.IndexerServiceStub(channels[2]))
    for channel in channels:
        channel.close()
    indexer.stop(0)
    searcher.stop(0)
    embedder.stop(0)


def _float_tensor(shape) -> tensor_pb2.Tensor:
    return tensor_pb2.Tensor(dtype=tensor_pb2.DTYPE_FLOAT32, shape=shape, data=b"")


def _upsert(model_id: str, dim: int, **video_fields) -> searcher_pb2.UpsertVideoRequest:
    video = video_pb2.Video(video_id="hostile", uri="/v/hostile.mp4", model_id=model_id, embedding_dim=dim,
                            fps_numerator=25, fps_denominator=1, duration_seconds=2.4, frame_count=60,
                            content_sha256="0" * 64)
    stamp = video_fields.pop("indexed_at_seconds", None)
    for name, value in video_fields.items():
        setattr(video, name, value)
    if stamp is not None:
        video.indexed_at.seconds = stamp
    scenes = [video_pb2.Scene(index=0, start_frame=0, end_frame=60, start_seconds=0.0, end_seconds=2.4, sampled_frames=1)]
    vector = np.zeros((1, dim), np.float32)
    vector[0, 0] = 1.0
    return searcher_pb2.UpsertVideoRequest(video=video, scenes=scenes, embeddings=to_tensor(vector))


def _cases(services):
    root, embedder, searcher, indexer = services
    info = embedder.GetModelInfo(embedder_pb2.GetModelInfoRequest())
    model_id, dim = info.model_id, info.embedding_dim
    fifo = root / "pipe.mp4"
    if not fifo.exists():
        os.mkfifo(fifo)
    cases = {}
    for shape in OVERFLOWING_SHAPES:
        cases[f"EmbedImages shape {shape}"] = lambda s=shape: embedder.EmbedImages(
            embedder_pb2.EmbedImagesRequest(pixel_values=_float_tensor(s)), timeout=30)
        cases[f"StreamEmbedImages shape {shape}"] = lambda s=shape: list(embedder.StreamEmbedImages(
            iter([embedder_pb2.EmbedImagesRequest(pixel_values=_float_tensor(s))]), timeout=30))
        cases[f"Search vector shape {shape}"] = lambda s=shape: searcher.Search(searcher_pb2.SearchRequest(
            embedding=searcher_pb2.QueryEmbedding(vector=_float_tensor(s))), timeout=30)
        cases[f"UpsertVideo embeddings shape {shape}"] = lambda s=shape: searcher.UpsertVideo(
            _with_embeddings(_upsert(model_id, dim), _float_tensor(s)), timeout=30)
    uint8_vector = tensor_pb2.Tensor(dtype=tensor_pb2.DTYPE_UINT8, shape=[dim], data=bytes(dim))
    cases["Search UINT8 vector"] = lambda: searcher.Search(searcher_pb2.SearchRequest(
        embedding=searcher_pb2.QueryEmbedding(vector=uint8_vector)), timeout=30)
    cases["UpsertVideo UINT8 embeddings"] = lambda: searcher.UpsertVideo(_with_embeddings(
        _upsert(model_id, dim), tensor_pb2.Tensor(dtype=tensor_pb2.DTYPE_UINT8, shape=[1, dim], data=bytes(dim))), timeout=30)
    cases["UpsertVideo indexed_at 2**62"] = lambda: searcher.UpsertVideo(
        _upsert(model_id, dim, indexed_at_seconds=2**62), timeout=30)
    cases["UpsertVideo NaN duration"] = lambda: searcher.UpsertVideo(
        _upsert(model_id, dim, duration_seconds=float("nan")), timeout=30)
    cases["UpsertVideo end_frame past frame_count"] = lambda: searcher.UpsertVideo(
        _upsert(model_id, dim, frame_count=30), timeout=30)
    for label, path in {"name over 255 bytes": f"{root}/{'a' * 256}.mp4", "NUL byte": f"{root}/a\x00b.mp4",
                        "FIFO": str(fifo), "folder": str(root)}.items():
        cases[f"SubmitIndexJob {label}"] = lambda p=path: indexer.SubmitIndexJob(
            indexer_pb2.SubmitIndexJobRequest(path=p), timeout=30)
    return cases


def _with_embeddings(request, tensor):
    request.embeddings.CopyFrom(tensor)
    return request


def test_each_hostile_input_is_an_invalid_argument_and_every_service_still_serves(services):
    _root, embedder, searcher, indexer = services
    outcomes = {}
    for label, call in _cases(services).items():
        with pytest.raises(grpc.RpcError) as info:
            call()
        outcomes[label] = (info.value.code(), info.value.details())
    wrong = {label: outcome for label, outcome in outcomes.items() if outcome[0] != grpc.StatusCode.INVALID_ARGUMENT}
    assert not wrong, wrong
    assert all(details and "internal" not in details.lower() for _code, details in outcomes.values())
    # Nothing was stored and nothing is stuck: every service answers at once.
    assert searcher.GetStats(searcher_pb2.GetStatsRequest(), timeout=5).video_count == 0
    assert embedder.GetModelInfo(embedder_pb2.GetModelInfoRequest(), timeout=5).model_id
    assert indexer.ListIndexJobs(indexer_pb2.ListIndexJobsRequest(), timeout=5).jobs == []
