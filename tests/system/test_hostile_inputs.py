"""Hostile inputs through real servers (issue 7, part 3): each gets INVALID_ARGUMENT with a
message that says what to send, never INTERNAL and never a hang, and the services keep
serving afterwards. The decoders' own property tests are in tests/common."""

from __future__ import annotations

import os

import grpc
import numpy as np
import pytest
from videosearch.common.tensors import to_tensor
from videosearch.v1 import (
    embedder_pb2,
    indexer_pb2,
    searcher_pb2,
    tensor_pb2,
    video_pb2,
)

pytestmark = pytest.mark.timeout(300)
OVERFLOWING_SHAPES = ([2**32, 2**32], [2**62, 4, 1, 1])


def _float_tensor(shape) -> tensor_pb2.Tensor:
    return tensor_pb2.Tensor(dtype=tensor_pb2.DATA_TYPE_FLOAT32, shape=shape, data=b"")


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


def _cases(live):
    root, embedder, searcher, indexer = live.root, live.embedder, live.searcher, live.indexer
    model_id, dim = live.model_id, live.dim
    fifo = root / "pipe.mp4"
    if not fifo.exists():
        os.mkfifo(fifo)
    cases = {}
    for shape in OVERFLOWING_SHAPES:
        cases[f"EmbedImages shape {shape}"] = lambda s=shape: embedder.EmbedImages(
            embedder_pb2.EmbedImagesRequest(pixel_values=_float_tensor(s)), timeout=30)
        cases[f"StreamEmbedImages shape {shape}"] = lambda s=shape: list(embedder.StreamEmbedImages(
            iter([embedder_pb2.StreamEmbedImagesRequest(pixel_values=_float_tensor(s))]), timeout=30))
        cases[f"Search vector shape {shape}"] = lambda s=shape: searcher.Search(searcher_pb2.SearchRequest(
            embedding=searcher_pb2.QueryEmbedding(vector=_float_tensor(s))), timeout=30)
        cases[f"UpsertVideo embeddings shape {shape}"] = lambda s=shape: searcher.UpsertVideo(
            _with_embeddings(_upsert(model_id, dim), _float_tensor(s)), timeout=30)
    uint8_vector = tensor_pb2.Tensor(dtype=tensor_pb2.DATA_TYPE_UINT8, shape=[dim], data=bytes(dim))
    cases["Search UINT8 vector"] = lambda: searcher.Search(searcher_pb2.SearchRequest(
        embedding=searcher_pb2.QueryEmbedding(vector=uint8_vector)), timeout=30)
    cases["UpsertVideo UINT8 embeddings"] = lambda: searcher.UpsertVideo(_with_embeddings(
        _upsert(model_id, dim), tensor_pb2.Tensor(dtype=tensor_pb2.DATA_TYPE_UINT8, shape=[1, dim], data=bytes(dim))), timeout=30)
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


def test_each_hostile_input_is_an_invalid_argument_and_every_service_still_serves(live_services):
    embedder, searcher, indexer = live_services.embedder, live_services.searcher, live_services.indexer
    outcomes = {}
    for label, call in _cases(live_services).items():
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
