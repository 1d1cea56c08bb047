"""The caller's deadline is passed on (issue 7, part 4): a text Search with a 0.5 s deadline
against an Embedder that never answers ends within about 0.5 s, and the Searcher's call to
the Embedder carries the caller's deadline (not its own 30 s timeout), so the Embedder call
ends with the caller's and frees its slot in the Searcher at once."""

from __future__ import annotations

import threading
import time

import grpc
import pytest
import numpy as np
from tests.searcher.searcher_testlib import serve_with_embedder
from videosearch.common.grpc_server import insecure_channel
from videosearch.common.tensors import to_tensor
from videosearch.v1 import embedder_pb2, embedder_pb2_grpc, searcher_pb2, searcher_pb2_grpc, video_pb2

pytestmark = pytest.mark.timeout(120)


class StalledQueryEmbedder(embedder_pb2_grpc.EmbedderServiceServicer):
    """Answers GetModelInfo; EmbedTexts never answers. Records, per EmbedTexts call, the
    deadline it arrived with and how long it stayed open."""

    def __init__(self) -> None:
        self.calls: list[tuple[float | None, float]] = []
        self._lock = threading.Lock()

    def GetModelInfo(self, request, context):
        return embedder_pb2.GetModelInfoResponse(model_id="test/stalled", embedding_dim=4)

    def EmbedTexts(self, request, context):
        started, remaining = time.monotonic(), context.time_remaining()
        while context.is_active() and time.monotonic() - started < 60:
            time.sleep(0.01)
        with self._lock:
            self.calls.append((remaining, time.monotonic() - started))
        context.abort(grpc.StatusCode.UNAVAILABLE, "stalled on purpose")


def test_a_text_search_gives_the_embedder_no_more_than_the_callers_deadline(tmp_path):
    embedder = StalledQueryEmbedder()
    embedder_server, searcher = serve_with_embedder(embedder, tmp_path / "data", embedder_workers=16,
                                                    embedder_timeout=30.0)
    try:
        with insecure_channel(searcher.address) as channel:
            stub = searcher_pb2_grpc.SearcherServiceStub(channel)
            stub.UpsertVideo(searcher_pb2.UpsertVideoRequest(  # something to search, so the text is embedded
                video=video_pb2.Video(video_id="v", uri="/v.mp4", model_id="test/stalled", embedding_dim=4,
                                      fps_numerator=25, fps_denominator=1, duration_seconds=1.2, frame_count=30),
                scenes=[video_pb2.Scene(index=0, start_frame=0, end_frame=30, start_seconds=0.0, end_seconds=1.2)],
                embeddings=to_tensor(np.array([[1.0, 0.0, 0.0, 0.0]], np.float32))), timeout=10)
            for attempt in range(3):
                started = time.monotonic()
                with pytest.raises(grpc.RpcError) as caught:
                    stub.Search(searcher_pb2.SearchRequest(text=f"a dog {attempt}"), timeout=0.5)
                took = time.monotonic() - started
                assert caught.value.code() in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE)
                assert took < 1.5, f"the search took {took:.2f} s with a 0.5 s deadline"
        deadline = time.monotonic() + 10
        while len(embedder.calls) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(embedder.calls) == 3, "every text search reached the Embedder (the caller's deadline does not "\
                                         "open the circuit breaker)"
        for remaining, open_for in embedder.calls:
            # At most the caller's 0.5 s (plus gRPC's rounding of the timeout on the wire), not the Searcher's 30 s.
            assert remaining is not None and remaining <= 0.55, f"the Embedder was given {remaining} s, not the caller's 0.5"
            assert open_for < 1.5, f"the Embedder call stayed open {open_for:.2f} s after the caller had gone"
        assert not searcher.query_embedder.breaker.is_open
    finally:
        searcher.stop(0)
        embedder_server.stop(0)
