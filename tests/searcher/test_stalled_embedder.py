"""A stalled Embedder does not stall the Searcher (issue 7, part 4): with an Embedder that
never answers text queries, 40 concurrent text searches end in UNAVAILABLE within seconds
(a bound on calls in flight, then the circuit breaker), while vector search and health
keep answering within a second."""

from __future__ import annotations

import functools
import threading
import time

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from tests.searcher.searcher_testlib import serve_with_embedder
from videosearch.common.grpc_server import insecure_channel
from videosearch.common.resilience import CircuitBreaker
from videosearch.common.tensors import to_tensor
from videosearch.searcher import query_embedder
from videosearch.v1 import embedder_pb2, embedder_pb2_grpc, searcher_pb2, searcher_pb2_grpc, video_pb2

pytestmark = pytest.mark.timeout(120)
MODEL, DIM = "test/stalled", 4


class StalledEmbedder(embedder_pb2_grpc.EmbedderServiceServicer):
    """Answers GetModelInfo; EmbedTexts hangs until the test ends."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.text_calls = 0

    def GetModelInfo(self, request, context):
        return embedder_pb2.GetModelInfoResponse(model_id=MODEL, embedding_dim=DIM)

    def EmbedTexts(self, request, context):
        self.text_calls += 1
        self.release.wait()
        context.abort(grpc.StatusCode.UNAVAILABLE, "test over")


@pytest.fixture()
def stalled_searcher(tmp_path, monkeypatch):
    # The breaker stays open 60 s instead of 5: on a loaded machine the 40 searches could
    # outlast 5 s, and the test's last query would then be the half-open trial, not a refusal.
    monkeypatch.setattr(query_embedder, "CircuitBreaker", functools.partial(CircuitBreaker, open_s=60.0))
    embedder = StalledEmbedder()
    server, searcher = serve_with_embedder(embedder, tmp_path / "data", embedder_workers=64, embedder_timeout=2.0)
    channel = insecure_channel(searcher.address)
    yield embedder, searcher_pb2_grpc.SearcherServiceStub(channel), health_pb2_grpc.HealthStub(channel)
    embedder.release.set()
    channel.close()
    searcher.stop(0)
    server.stop(0)


def _upsert_one_video(stub) -> np.ndarray:
    vector = np.array([[1.0, 0.0, 0.0, 0.0]], np.float32)
    stub.UpsertVideo(searcher_pb2.UpsertVideoRequest(
        video=video_pb2.Video(video_id="v", uri="/v.mp4", model_id=MODEL, embedding_dim=DIM, fps_numerator=25,
                              fps_denominator=1, duration_seconds=1.2, frame_count=30),
        scenes=[video_pb2.Scene(index=0, start_frame=0, end_frame=30, start_seconds=0.0, end_seconds=1.2)],
        embeddings=to_tensor(vector)), timeout=10)
    return vector[0]


def test_text_queries_against_a_stalled_embedder_fail_fast_and_starve_nothing(stalled_searcher):
    embedder, stub, health = stalled_searcher
    vector_query = searcher_pb2.SearchRequest(
        embedding=searcher_pb2.QueryEmbedding(vector=to_tensor(_upsert_one_video(stub))))
    outcomes: list[tuple[str, float]] = []

    def text_search(i: int) -> None:
        started = time.monotonic()
        try:
            stub.Search(searcher_pb2.SearchRequest(text=f"query {i}"), timeout=20)
            outcomes.append(("OK", time.monotonic() - started))
        except grpc.RpcError as exc:
            outcomes.append((exc.code().name, time.monotonic() - started))

    threads = [threading.Thread(target=text_search, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    slowest = {"vector search": 0.0, "health": 0.0}
    while any(t.is_alive() for t in threads):
        for name, call in (("vector search", lambda: stub.Search(vector_query, timeout=5)),
                           ("health", lambda: health.Check(health_pb2.HealthCheckRequest(), timeout=5))):
            started = time.monotonic()
            call()
            slowest[name] = max(slowest[name], time.monotonic() - started)
    for thread in threads:
        thread.join()

    assert {code for code, _ in outcomes} == {"UNAVAILABLE"}, outcomes
    assert max(seconds for _, seconds in outcomes) < 6.0, "every text query ends within the Embedder timeout and slack"
    assert slowest["vector search"] < 1.0 and slowest["health"] < 1.0, slowest
    assert embedder.text_calls <= 16, "the bound and the breaker keep most queries off the stalled Embedder"
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as info:
        stub.Search(searcher_pb2.SearchRequest(text="one more"), timeout=20)
    assert info.value.code() == grpc.StatusCode.UNAVAILABLE and "circuit breaker" in info.value.details()
    assert time.monotonic() - started < 0.5, "an open breaker refuses at once"
