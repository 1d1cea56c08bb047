"""A real Embedder gRPC server on port 0, called through generated stubs."""

from __future__ import annotations

import threading

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from videosearch.common.grpc_server import CHANNEL_OPTIONS, PortUnavailable, insecure_channel
from videosearch.common.tensors import from_tensor, to_tensor
from videosearch.embedder.model import ClipEmbedder, local_model_id
from videosearch.embedder.server import SERVICE_NAME, serve, start_server
from videosearch.embedder.settings import EmbedderSettings
from videosearch.v1 import embedder_pb2, embedder_pb2_grpc, tensor_pb2

from .helpers import normalize_like_processor, random_uint8


@pytest.fixture(scope="module")
def channel(embedder_server):
    with insecure_channel(embedder_server.address) as channel:
        yield channel


@pytest.fixture(scope="module")
def stub(channel):
    return embedder_pb2_grpc.EmbedderServiceStub(channel)


def embed_request(pixels: np.ndarray) -> embedder_pb2.EmbedImagesRequest:
    return embedder_pb2.EmbedImagesRequest(pixel_values=to_tensor(pixels))


def stream_request(pixels: np.ndarray) -> embedder_pb2.StreamEmbedImagesRequest:
    return embedder_pb2.StreamEmbedImagesRequest(pixel_values=to_tensor(pixels))


def assert_still_serving(stub) -> None:
    response = stub.EmbedTexts(embedder_pb2.EmbedTextsRequest(texts=["still up"]), timeout=10)
    assert from_tensor(response.embeddings).shape == (1, 16)


def test_get_model_info(stub, tiny_clip_dir, tiny_embedder):
    info = stub.GetModelInfo(embedder_pb2.GetModelInfoRequest(), timeout=10)
    assert info.model_id == local_model_id(tiny_clip_dir)
    assert info.embedding_dim == 16
    assert (info.preprocessing.crop_height, info.preprocessing.crop_width, info.preprocessing.shortest_edge) == (32, 32, 32)
    assert info.preprocessing.rescale_factor == pytest.approx(1 / 255)
    assert list(info.preprocessing.image_mean) == pytest.approx([0.48145466, 0.4578275, 0.40821073])
    assert list(info.preprocessing.image_std) == pytest.approx([0.26862954, 0.26130258, 0.27577711])
    assert info.preprocessing.resample == "bicubic"
    assert (info.device, info.compute_dtype) == ("cpu", "float32")
    assert (info.max_batch_size, info.max_images_per_request, info.max_texts_per_request) == (8, 16, 4)
    assert info.preprocessing.resize_mode == embedder_pb2.RESIZE_MODE_SHORTEST_EDGE_CROP
    assert (info.family, info.score_kind) == ("clip", embedder_pb2.SCORE_KIND_COSINE)
    assert info.logit_scale == pytest.approx(float(tiny_embedder.model.logit_scale.detach().exp()), rel=1e-6) and info.logit_bias == 0
    assert info.dtype_reason == "requested with --dtype"


@pytest.mark.parametrize("wire_dtype", ["uint8", "float32", "float16"])
def test_embed_images(stub, tiny_embedder, wire_dtype):
    pixels = random_uint8(3, seed=30)
    sent = pixels if wire_dtype == "uint8" else normalize_like_processor(pixels, tiny_embedder).astype(wire_dtype)
    response = stub.EmbedImages(embed_request(sent), timeout=10)
    embeddings = from_tensor(response.embeddings)
    assert response.embeddings.dtype == tensor_pb2.DATA_TYPE_FLOAT32
    assert embeddings.shape == (3, 16)
    assert response.model_id == tiny_embedder.model_id
    np.testing.assert_allclose(embeddings, tiny_embedder(pixels), atol=5e-3 if wire_dtype == "float16" else 1e-5, rtol=0)


def test_stream_embed_images_answers_each_chunk_in_order(stub, tiny_embedder):
    chunks = [random_uint8(n, seed=40 + n) for n in (1, 5, 16, 2, 9)]
    responses = list(stub.StreamEmbedImages(iter(stream_request(c) for c in chunks), timeout=30))
    assert len(responses) == len(chunks)
    for response, chunk in zip(responses, chunks):
        np.testing.assert_allclose(from_tensor(response.embeddings), tiny_embedder(chunk), atol=1e-5, rtol=0)


def test_stream_with_a_bad_chunk_fails_with_invalid_argument(stub):
    chunks = [random_uint8(2), random_uint8(1, size=16), random_uint8(2)]
    responses = []
    with pytest.raises(grpc.RpcError) as info:
        for response in stub.StreamEmbedImages(iter(stream_request(c) for c in chunks), timeout=30):
            responses.append(response)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "shape [1, 3, 16, 16]" in info.value.details()
    assert len(responses) == 1
    assert_still_serving(stub)


def test_embed_texts(stub, tiny_embedder):
    texts = ["a red circle", "two blue squares"]
    response = stub.EmbedTexts(embedder_pb2.EmbedTextsRequest(texts=texts), timeout=10)
    embeddings = from_tensor(response.embeddings)
    assert embeddings.shape == (2, 16)
    np.testing.assert_allclose(embeddings, tiny_embedder.embed_texts(texts), atol=1e-6)


def test_health_is_serving(channel):
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", SERVICE_NAME):
        response = health.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
        assert response.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_service(channel):
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    (response,) = list(reflection.ServerReflectionInfo(iter([request]), timeout=10))
    names = {s.name for s in response.list_services_response.service}
    assert {SERVICE_NAME, "grpc.health.v1.Health"} <= names


def _raw_tensor(dtype, shape, data: bytes) -> tensor_pb2.Tensor:
    return tensor_pb2.Tensor(dtype=dtype, shape=shape, data=data)


BAD_IMAGE_REQUESTS = {
    "unset dtype": (_raw_tensor(tensor_pb2.DATA_TYPE_UNSPECIFIED, [1, 3, 32, 32], bytes(3072)), "DATA_TYPE_UNSPECIFIED"),
    "byte length": (_raw_tensor(tensor_pb2.DATA_TYPE_UINT8, [1, 3, 32, 32], bytes(3000)), "has 3000 bytes"),
    "wrong shape": (to_tensor(np.zeros((2, 3, 24, 24), np.uint8)), "shape [2, 3, 24, 24]"),
    "channels last": (to_tensor(np.zeros((1, 32, 32, 3), np.uint8)), "expected (N, 3, 32, 32)"),
    "no images": (to_tensor(np.zeros((0, 3, 32, 32), np.uint8)), "N >= 1"),
    "no shape": (_raw_tensor(tensor_pb2.DATA_TYPE_UINT8, [], b""), "shape [] is invalid"),
    "NaN": (to_tensor(np.full((1, 3, 32, 32), np.nan, np.float32)), "NaN or infinite"),
    "too many images": (to_tensor(np.zeros((17, 3, 32, 32), np.uint8)), "17 images exceed the limit of 16"),
}


@pytest.mark.parametrize("case", list(BAD_IMAGE_REQUESTS))
def test_bad_images_are_invalid_argument_and_the_server_stays_up(stub, case):
    tensor, fragment = BAD_IMAGE_REQUESTS[case]
    with pytest.raises(grpc.RpcError) as info:
        stub.EmbedImages(embedder_pb2.EmbedImagesRequest(pixel_values=tensor), timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fragment in info.value.details()
    assert_still_serving(stub)


def test_too_many_images_message_points_to_the_stream(stub):
    with pytest.raises(grpc.RpcError) as info:
        stub.EmbedImages(embed_request(np.zeros((17, 3, 32, 32), np.uint8)), timeout=10)
    assert "StreamEmbedImages" in info.value.details()


@pytest.mark.parametrize(
    ("texts", "fragment"),
    [([], "texts is empty"), (["ok", " "], "texts[1] is empty"), (["t"] * 5, "5 texts exceed the limit of 4")],
)
def test_bad_texts_are_invalid_argument_and_the_server_stays_up(stub, texts, fragment):
    with pytest.raises(grpc.RpcError) as info:
        stub.EmbedTexts(embedder_pb2.EmbedTextsRequest(texts=texts), timeout=10)
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fragment in info.value.details()
    assert_still_serving(stub)


def test_concurrent_rpcs_are_batched_and_each_gets_its_own_answer(stub, embedder_server, tiny_embedder):
    pixels = [random_uint8(2, seed=50 + i) for i in range(6)]
    results: list = [None] * len(pixels)
    start = threading.Barrier(len(pixels))

    def call(i):
        start.wait()
        results[i] = from_tensor(stub.EmbedImages(embed_request(pixels[i]), timeout=30).embeddings)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(pixels))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for got, sent in zip(results, pixels):
        np.testing.assert_allclose(got, tiny_embedder(sent), atol=1e-5, rtol=0)


def test_before_the_model_loads_health_is_not_serving_and_rpcs_are_unavailable(tiny_clip_dir, tiny_embedder, tmp_path):
    port_file = tmp_path / "port"
    server = start_server(EmbedderSettings(port=0, model=str(tiny_clip_dir), port_file=str(port_file)))
    try:
        assert int(port_file.read_text()) == server.port
        with insecure_channel(server.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            status = health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=10).status
            assert status == health_pb2.HealthCheckResponse.NOT_SERVING
            stub = embedder_pb2_grpc.EmbedderServiceStub(channel)
            with pytest.raises(grpc.RpcError) as info:
                stub.GetModelInfo(embedder_pb2.GetModelInfoRequest(), timeout=10)
            assert info.value.code() == grpc.StatusCode.UNAVAILABLE
            assert "loading" in info.value.details()
            server.load(tiny_embedder)
            status = health.Check(health_pb2.HealthCheckRequest(service=SERVICE_NAME), timeout=10).status
            assert status == health_pb2.HealthCheckResponse.SERVING
            assert stub.GetModelInfo(embedder_pb2.GetModelInfoRequest(), timeout=10).embedding_dim == 16
    finally:
        server.stop(0)


def test_requests_waiting_for_a_batch_hold_no_server_thread(tiny_clip_dir, tiny_embedder):
    """Six one-image EmbedImages calls against a server with two RPC threads share one forward
    pass: each request waits for its batch without a thread. (When each held a thread until
    its pass ended, at most two could wait together and the batches had at most two images.)"""
    settings = EmbedderSettings(
        port=0, model=str(tiny_clip_dir), device="cpu", dtype="float32",
        max_batch_size=6, max_wait_ms=3000.0, server_threads=2,
    )
    server = serve(settings, tiny_embedder)
    try:
        server.engine.batcher.reset_stats()
        with insecure_channel(server.address) as channel:
            stub = embedder_pb2_grpc.EmbedderServiceStub(channel)
            futures = [stub.EmbedImages.future(embed_request(random_uint8(1, seed=i)), timeout=30) for i in range(6)]
            results = [from_tensor(f.result().embeddings) for f in futures]
        assert all(r.shape == (1, 16) for r in results)
        # A full batch of 6 goes at once; a starved server would have waited out max_wait_ms with 2.
        assert server.engine.stats().batch_sizes == (6,)
    finally:
        server.stop(0)


CONNECTIONS = 64
FEWEST_PER_SERVER = 8
"""64 connections with distinct source ports: under a uniform hash, the chance that either server
gets fewer than 8 is 2 * sum(C(64, i), i < 8) / 2**64 = 7.6e-11; a server that never receives a
connection gets 0 and fails."""


def test_embedders_with_share_port_split_one_port(tiny_clip_dir, tiny_embedder):
    """--share-port lets a second Embedder listen on the first one's port; the kernel spreads
    connections between them (SO_REUSEPORT: a hash of each connection's 4-tuple). Without it the
    second refuses to start (the default)."""
    def settings(port: int, share: bool) -> EmbedderSettings:
        return EmbedderSettings(port=port, model=str(tiny_clip_dir), device="cpu", dtype="float32",
                                max_batch_size=8, max_wait_ms=0.0, share_port=share)

    first = serve(settings(0, True), tiny_embedder)
    servers = [first]
    try:
        with pytest.raises(PortUnavailable):
            servers.append(serve(settings(first.port, False), tiny_embedder))
        second = serve(settings(first.port, True), ClipEmbedder(str(tiny_clip_dir), device="cpu", dtype="float32"))
        servers.append(second)
        assert second.port == first.port
        for server in servers:  # serve() returns once listening and SERVING: both are, before any connection
            server.engine.batcher.reset_stats()
        # Each channel its own connection: channels share gRPC's global subchannel pool, and a
        # closed channel's connection, not yet torn down on a loaded machine, was reused by the
        # next one (seen: 22 distinct connections of 40 under two busy loops), so one connection's
        # server got every call. A local pool per channel, all held open at once, makes 64
        # connections with 64 source ports.
        options = [*CHANNEL_OPTIONS, ("grpc.use_local_subchannel_pool", 1)]
        channels = [grpc.insecure_channel(first.address, options=options) for _ in range(CONNECTIONS)]
        try:
            for seed, channel in enumerate(channels):
                embedder_pb2_grpc.EmbedderServiceStub(channel).EmbedImages(
                    embed_request(random_uint8(1, seed=seed)), timeout=30)
        finally:
            for channel in channels:
                channel.close()
        served = [server.engine.stats().requests for server in servers]
        assert sum(served) == CONNECTIONS and min(served) >= FEWEST_PER_SERVER, served
    finally:
        for server in servers:
            server.stop(0)
