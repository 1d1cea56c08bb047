"""A search whose second embedding fails still answers (lexical/residual.py).

A text query naming a look and words ("a red circle EXIT NORTH") is embedded once, and the rest of
it ("a red circle", without the words a sign holds) a second time, to rank the look of the moments
showing the sign. Here a real Embedder service on port 0 answers the first call and fails the
second (UNAVAILABLE, DEADLINE_EXCEEDED or INTERNAL); the Searcher (real gRPC server, real LevelDB) must still answer, ranking
those moments' looks by the whole query as before the rests existed, and count the fallback in
its metrics: never UNAVAILABLE or INTERNAL for the whole search.
"""

from __future__ import annotations

import threading
import urllib.request

import grpc
import numpy as np
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.searcher.searcher_testlib import model_info_response, serve_with_embedder
from videosearch.common.grpc_server import insecure_channel
from videosearch.common.tensors import to_tensor
from videosearch.v1 import embedder_pb2, embedder_pb2_grpc, searcher_pb2, searcher_pb2_grpc, video_pb2

pytestmark = pytest.mark.timeout(120)
MODEL, DIM = "test/bag-of-words", 16
WORDS = ["red", "blue", "circle", "exit", "north"]  # the axes of a look
QUERY, REST = "a red circle EXIT NORTH", "a red circle"
LOOKS = {"decoy": [1, 2, 3, 4], "right": [0, 2], "plain": [1, 2]}  # the decoy shows the sign's words too


class BagOfWordsEmbedder(embedder_pb2_grpc.EmbedderServiceServicer):
    """A text is the sum of its known words' axes. Once ``fail_rests`` is set, a request holding
    the rest of the query (the Searcher's second call) fails as an Embedder going away does."""

    def __init__(self, failure: grpc.StatusCode) -> None:
        self.fail_rests = threading.Event()
        self.failure = failure
        self.failed_calls = 0

    def GetModelInfo(self, request, context):
        return model_info_response(MODEL, DIM)

    def EmbedTexts(self, request, context):
        if self.fail_rests.is_set() and REST in request.texts:
            self.failed_calls += 1
            context.abort(self.failure, "the embedder failed on purpose")
        rows = np.zeros((len(request.texts), DIM), np.float32)
        for row, text in zip(rows, request.texts):
            for axis, word in enumerate(WORDS):
                row[axis] = float(word in text.lower())
            row[15] = 0.01  # never all zeros
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        return embedder_pb2.EmbedTextsResponse(embeddings=to_tensor(rows), model_id=MODEL)


# Going away, too slow, or broken inside (which the Searcher must not pass on as INTERNAL).
@pytest.fixture(params=[grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.INTERNAL])
def searcher(tmp_path, request):
    embedder = BagOfWordsEmbedder(request.param)
    server, app = serve_with_embedder(embedder, tmp_path / "data", embedder_timeout=5.0, metrics_port=0)
    channel = insecure_channel(app.address)
    stub = searcher_pb2_grpc.SearcherServiceStub(channel)
    for video_id, look in LOOKS.items():
        rows = np.zeros((2, DIM), np.float32)
        rows[0, look] = 1.0
        rows[1, 15] = 1.0
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        sign = [video_pb2.TextSpan(kind=video_pb2.TEXT_KIND_WRITTEN, start_seconds=0.1, end_seconds=0.9,
                                   text="EXIT NORTH", language="en", source=video_pb2.TEXT_SOURCE_OCR)]
        stub.UpsertVideo(searcher_pb2.UpsertVideoRequest(
            video=video_pb2.Video(video_id=video_id, uri=f"/videos/{video_id}.mp4", model_id=MODEL, embedding_dim=DIM,
                                  fps_numerator=25, fps_denominator=1, duration_seconds=2.0, frame_count=50),
            scenes=[video_pb2.Scene(index=i, start_frame=25 * i, end_frame=25 * (i + 1), start_seconds=float(i),
                                    end_seconds=float(i + 1)) for i in range(2)],
            embeddings=to_tensor(rows), text_spans=sign if video_id != "plain" else []), timeout=10)
    yield embedder, stub, app.metrics_port
    channel.close()
    app.stop(0)
    server.stop(0)


def fallbacks_counted(metrics_port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return sum(s.value for family in text_string_to_metric_families(text) for s in family.samples
               if s.name == "videosearch_searcher_fallbacks_total" and s.labels == {"fallback": "residual_query"})


def ranked(stub, **fields) -> list[tuple[str, int, float]]:
    response = stub.Search(searcher_pb2.SearchRequest(text=QUERY, mode=searcher_pb2.SEARCH_MODE_SCENES, top_k=3,
                                                      **fields), timeout=20)
    return [(hit.video_id, hit.moment.index, hit.score) for hit in response.scenes]


def test_a_failed_second_embedding_ranks_looks_by_the_whole_query_and_is_counted(searcher):
    embedder, stub, metrics_port = searcher
    seen_only = ranked(stub, kinds=[searcher_pb2.MATCH_KIND_SEEN])
    assert [hit[0] for hit in seen_only[:2]] == ["decoy", "right"]  # the whole query's look favours the decoy
    healthy = ranked(stub)
    assert [hit[0] for hit in healthy[:2]] == ["right", "decoy"]  # ranked by the rest, the right one wins
    assert fallbacks_counted(metrics_port) == 0

    embedder.fail_rests.set()
    degraded = ranked(stub)  # before the fix: UNAVAILABLE, or INTERNAL for the Embedder's INTERNAL

    assert embedder.failed_calls >= 1, "the second embedding was asked for and failed"
    # As before the rests existed: both sign moments ranked by the whole query's look, decoy first.
    assert [(video, moment) for video, moment, _ in degraded[:2]] == [("decoy", 0), ("right", 0)]
    assert degraded[0][2] == pytest.approx(seen_only[0][2]) and degraded[1][2] == pytest.approx(seen_only[1][2])
    assert fallbacks_counted(metrics_port) == 1
