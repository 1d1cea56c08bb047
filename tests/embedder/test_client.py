"""EmbedderClient against a real server, and its translation of gRPC errors."""

from __future__ import annotations

import socket

import grpc
import numpy as np
import pytest
from videosearch.common import errors
from videosearch.common.grpc_client import domain_error
from videosearch.client.embedder import EmbedderClient

from .helpers import normalize_like_processor, random_uint8


@pytest.fixture(scope="module")
def client(embedder_server):
    with EmbedderClient(embedder_server.address, timeout=30) as client:
        yield client


def test_model_info(client, tiny_embedder):
    info = client.model_info()
    assert info.model_id == tiny_embedder.model_id
    assert info.embedding_dim == 16
    assert info.preprocessing.crop_height == 32 and info.preprocessing.resample == "bicubic"
    assert info.max_images_per_request == 16


def test_embed_images_splits_above_the_request_limit(client, embedder_server, tiny_embedder):
    pixels = random_uint8(37, seed=60)  # limit is 16 per request: 3 chunks over the stream
    embeddings = client.embed_images(pixels)
    assert embeddings.shape == (37, 16)
    np.testing.assert_allclose(embeddings, tiny_embedder(pixels), atol=1e-5, rtol=0)


def test_embed_images_float_and_empty(client, tiny_embedder):
    pixels = random_uint8(2, seed=61)
    as_float64 = normalize_like_processor(pixels, tiny_embedder).astype(np.float64)
    np.testing.assert_allclose(client.embed_images(as_float64), tiny_embedder(pixels), atol=1e-5, rtol=0)
    assert client.embed_images(np.zeros((0, 3, 32, 32), np.uint8)).shape == (0, 16)


def test_embed_texts_splits_above_the_request_limit(client, tiny_embedder):
    texts = [f"{n} red circles" for n in range(9)]  # limit is 4 per request
    np.testing.assert_allclose(client.embed_texts(texts), tiny_embedder.embed_texts(texts), atol=1e-6)


def test_bad_input_becomes_invalid_argument(client):
    with pytest.raises(errors.InvalidArgument, match="shape"):
        client.embed_images(np.zeros((1, 3, 8, 8), np.uint8))
    with pytest.raises(errors.InvalidArgument, match="texts is empty"):
        client.embed_texts([])
    with pytest.raises(errors.InvalidArgument, match="dtype int64"):
        client.embed_images(np.zeros((1, 3, 32, 32), np.int64))


@pytest.fixture()
def dead_address():
    """An address that refuses connections for the whole test: the port stays bound by a
    socket that never listens, so no other server (of this run or beside it) can take it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{s.getsockname()[1]}"


def test_unreachable_embedder_is_unavailable_with_a_hint(dead_address):
    address = dead_address
    with EmbedderClient(address, timeout=2) as client, pytest.raises(errors.Unavailable) as info:
        client.embed_texts(["hello"])
    message = str(info.value)
    assert f"embedder at {address} is unreachable" in message
    assert "videosearch-embedder" in message and "--embedder-address" in message


class _FakeRpcError(grpc.RpcError):
    """A grpc.RpcError with a chosen status, as grpc raises for a failed call."""

    def __init__(self, code, details):
        self._code, self._details = code, details

    def code(self):
        return self._code

    def details(self):
        return self._details


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, errors.InvalidArgument),
        (grpc.StatusCode.NOT_FOUND, errors.NotFound),
        (grpc.StatusCode.FAILED_PRECONDITION, errors.FailedPrecondition),
        (grpc.StatusCode.PERMISSION_DENIED, errors.PermissionDenied),
        (grpc.StatusCode.RESOURCE_EXHAUSTED, errors.ResourceExhausted),
        (grpc.StatusCode.CANCELLED, errors.Cancelled),
        (grpc.StatusCode.UNAVAILABLE, errors.Unavailable),
        (grpc.StatusCode.DEADLINE_EXCEEDED, errors.Unavailable),
    ],
)
def test_status_codes_map_to_domain_errors(code, kind):
    error = domain_error(_FakeRpcError(code, "the details"), "searcher", "host:1")
    assert type(error) is kind
    assert "searcher at host:1" in str(error) and "the details" in str(error)


def test_internal_maps_to_the_base_error_naming_the_code():
    error = domain_error(_FakeRpcError(grpc.StatusCode.INTERNAL, "boom"), "embedder", "h:2")
    assert type(error) is errors.VideoSearchError and "INTERNAL" in str(error)
