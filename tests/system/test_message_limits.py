"""Message size per service, sized to its need (issue 7, part 5): each service's default
--max-message-mb admits its largest legitimate request and refuses a larger one with
RESOURCE_EXHAUSTED naming the setting, after which it still serves."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from videosearch.common import defaults
from videosearch.common.tensors import to_tensor
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.settings import IndexerSettings
from videosearch.searcher.settings import SearcherSettings
from videosearch.v1 import (
    embedder_pb2,
    embedder_pb2_grpc,
    indexer_pb2,
    indexer_pb2_grpc,
    searcher_pb2,
    searcher_pb2_grpc,
    video_pb2,
)

pytestmark = pytest.mark.timeout(300)
MIB = 2**20


def _refused(call, request) -> str:
    with pytest.raises(grpc.RpcError) as caught:
        answer = call(request, timeout=60)
        if not hasattr(answer, "ByteSize"):
            list(answer)  # a stream: its status comes with the end
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, caught.value.details()
    return caught.value.details()


def _still_serving(channel) -> None:
    health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)


def _largest_upsert(scenes: int = 20_000, dim: int = 768) -> searcher_pb2.UpsertVideoRequest:
    """An upsert of a video at the Indexer's --max-scenes, a moment per scene, a large model's embeddings."""
    request = searcher_pb2.UpsertVideoRequest(video=video_pb2.Video(
        video_id="0123456789abcdef", uri="/videos/" + "x" * 200 + ".mp4", model_id="openai/clip-vit-large-patch14",
        embedding_dim=dim, fps_numerator=30000, fps_denominator=1001, duration_seconds=39_600, frame_count=1_186_813))
    for i in range(scenes):
        times = dict(start_frame=100_000 + 59 * i, end_frame=100_059 + 59 * i, start_seconds=1e4 + 1.9 * i,
                     end_seconds=1e4 + 1.9 * (i + 1), start_timecode="10:59:59:29", end_timecode="10:59:59:29",
                     sampled_frames=160)
        request.scenes.add(index=i, **times)
        request.moments.add(index=i, scene_index=i, **times)
    request.embeddings.CopyFrom(to_tensor(np.ones((scenes, dim), np.float32)))
    return request


def test_each_default_is_sized_to_the_services_largest_request():
    assert IndexerSettings().max_message_mb == defaults.INDEXER_MAX_MESSAGE_MB
    assert SearcherSettings().max_message_mb == defaults.SEARCHER_MAX_MESSAGE_MB
    assert EmbedderSettings().max_message_mb == defaults.EMBEDDER_MAX_MESSAGE_MB
    assert _largest_upsert().ByteSize() < defaults.SEARCHER_MAX_MESSAGE_MB * MIB
    one_batch = 32 * 3 * 224 * 224 * 4  # the Embedder's default forward batch of float32 224x224 frames
    assert one_batch < defaults.EMBEDDER_MAX_MESSAGE_MB * MIB
    longest_submit = indexer_pb2.SubmitIndexJobRequest(path="/" + "a" * 4095, options=indexer_pb2.IndexOptions(
        detector="a" * 1000)).ByteSize()
    assert longest_submit < defaults.INDEXER_MAX_MESSAGE_MB * MIB


@pytest.fixture()
def unlimited_channels(live_services):
    """Channels that send whatever they are given (a client in another language, or a hostile one)."""
    channels = {name: grpc.insecure_channel(address, options=[("grpc.max_send_message_length", -1)])
                for name, address in live_services.addresses.items()}
    yield channels
    for channel in channels.values():
        channel.close()


def test_over_its_limit_each_service_answers_resource_exhausted_naming_the_setting(live_services, unlimited_channels):
    services = live_services
    indexer = indexer_pb2_grpc.IndexerServiceStub(unlimited_channels["indexer"])
    embedder = embedder_pb2_grpc.EmbedderServiceStub(unlimited_channels["embedder"])
    searcher = searcher_pb2_grpc.SearcherServiceStub(unlimited_channels["searcher"])
    over = {  # a little over each service's default limit (under gRPC's own, twice it)
        "indexer": (indexer.SubmitIndexJob,
                    indexer_pb2.SubmitIndexJobRequest(path="/" + "a" * int(1.5 * defaults.INDEXER_MAX_MESSAGE_MB * MIB))),
        "embedder": (embedder.EmbedImages, embedder_pb2.EmbedImagesRequest(pixel_values=to_tensor(
            np.zeros((int(1.2 * defaults.EMBEDDER_MAX_MESSAGE_MB * MIB) // 4,), np.float32)))),
        "searcher": (searcher.UpsertVideo, searcher_pb2.UpsertVideoRequest(embeddings=to_tensor(
            np.zeros((int(1.2 * defaults.SEARCHER_MAX_MESSAGE_MB * MIB) // 4,), np.float32)))),
    }
    for name, (call, request) in over.items():
        message = _refused(call, request)
        assert "--max-message-mb" in message and f"{request.ByteSize():,} bytes" in message, f"{name}: {message}"
        _still_serving(services.channels[name])


def test_an_oversized_chunk_in_a_stream_is_refused_the_same_way(live_services, unlimited_channels):
    chunk = embedder_pb2.StreamEmbedImagesRequest(pixel_values=to_tensor(
        np.zeros((int(1.2 * defaults.EMBEDDER_MAX_MESSAGE_MB * MIB) // 4,), np.float32)))
    stub = embedder_pb2_grpc.EmbedderServiceStub(unlimited_channels["embedder"])
    message = _refused(stub.StreamEmbedImages, iter([chunk]))
    assert "--max-message-mb" in message
    _still_serving(live_services.channels["embedder"])
