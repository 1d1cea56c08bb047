"""An Embedder that fails a query's embedding is a failing dependency, never the Searcher's INTERNAL.

A real Embedder service on port 0 answers the model question and fails every text embedding with
the code under test; the Searcher (real gRPC server, real LevelDB) must answer UNAVAILABLE with a
message that names the Embedder and says what to do, whatever the Embedder broke with (INTERNAL,
UNKNOWN, an exception in its handler, RESOURCE_EXHAUSTED). The caller's own bad input
(INVALID_ARGUMENT from the Embedder about the query) stays INVALID_ARGUMENT.
"""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from tests.searcher.searcher_testlib import model_info_response, serve_with_embedder
from videosearch.common.grpc_server import insecure_channel
from videosearch.common.tensors import to_tensor
from videosearch.v1 import embedder_pb2_grpc, searcher_pb2, searcher_pb2_grpc, video_pb2

pytestmark = pytest.mark.timeout(120)
MODEL, DIM = "test/failing-embedder", 8
CRASH = "crash"  # the handler raises instead of aborting: grpc answers UNKNOWN


class FailingEmbedder(embedder_pb2_grpc.EmbedderServiceServicer):
    """Knows its model; every text embedding fails with ``failure``."""

    def __init__(self, failure) -> None:
        self.failure = failure
        self.calls = 0

    def GetModelInfo(self, request, context):
        return model_info_response(MODEL, DIM)

    def EmbedTexts(self, request, context):
        self.calls += 1
        if self.failure == CRASH:
            raise RuntimeError("the text tower ran out of road")
        context.abort(self.failure, "the embedder broke on purpose")


@pytest.fixture
def searcher_with(tmp_path):
    started = []

    def start(failure):
        embedder = FailingEmbedder(failure)
        server, app = serve_with_embedder(embedder, tmp_path / f"data-{len(started)}", embedder_timeout=5.0)
        channel = insecure_channel(app.address)
        started.append((server, app, channel))
        stub = searcher_pb2_grpc.SearcherServiceStub(channel)
        rows = np.eye(2, DIM, dtype=np.float32)
        stub.UpsertVideo(searcher_pb2.UpsertVideoRequest(
            video=video_pb2.Video(video_id="a", uri="/videos/a.mp4", model_id=MODEL, embedding_dim=DIM,
                                  fps_numerator=25, fps_denominator=1, duration_seconds=2.0, frame_count=50),
            scenes=[video_pb2.Scene(index=i, start_frame=25 * i, end_frame=25 * (i + 1), start_seconds=float(i),
                                    end_seconds=float(i + 1)) for i in range(2)],
            embeddings=to_tensor(rows)), timeout=10)
        return embedder, stub

    yield start
    for server, app, channel in started:
        channel.close()
        app.stop(0)
        server.stop(0)


def search_error(stub) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        stub.Search(searcher_pb2.SearchRequest(text="a red circle", top_k=3), timeout=20)
    return caught.value


@pytest.mark.parametrize("failure", [grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, CRASH,
                                     grpc.StatusCode.RESOURCE_EXHAUSTED])
def test_a_failing_embedder_makes_the_search_unavailable_with_a_message_saying_what_to_do(searcher_with, failure):
    embedder, stub = searcher_with(failure)
    error = search_error(stub)  # before the fix: INTERNAL (RESOURCE_EXHAUSTED passed on as the caller's)
    assert embedder.calls >= 1, "the query's embedding was asked for and failed"
    assert error.code() == grpc.StatusCode.UNAVAILABLE, (error.code(), error.details())
    message = error.details()
    assert "cannot embed the query text" in message and "Embedder" in message, message
    assert "retry shortly" in message and "search with an embedding" in message, "the message says what to do"
    expected = "is overloaded" if failure == grpc.StatusCode.RESOURCE_EXHAUSTED else "failed"
    assert f"the Embedder {expected}" in message, message


def test_the_embedders_refusal_of_the_callers_query_stays_invalid_argument(searcher_with):
    _, stub = searcher_with(grpc.StatusCode.INVALID_ARGUMENT)
    error = search_error(stub)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (error.code(), error.details())
    assert "the embedder broke on purpose" in error.details()
