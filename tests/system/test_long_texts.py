"""Found by the independent probe of issue 7: a text query of 1 MB kept the Embedder
tokenizing for over 15 s (the model reads only its first 77 tokens). Texts over
MAX_TEXT_CHARS are refused with INVALID_ARGUMENT, through the Embedder and the Searcher."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from videosearch.common.tensors import to_tensor
from videosearch.embedder.defaults import MAX_TEXT_CHARS
from videosearch.v1 import embedder_pb2, searcher_pb2, video_pb2

pytestmark = pytest.mark.timeout(120)


def test_a_text_over_the_limit_is_refused_and_one_at_it_is_embedded(live_services):
    long_text = "dog " * 250_000
    with pytest.raises(grpc.RpcError) as caught:
        live_services.embedder.EmbedTexts(embedder_pb2.EmbedTextsRequest(texts=["a cat", long_text]), timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "texts[1]" in caught.value.details() and f"{MAX_TEXT_CHARS:,}" in caught.value.details()
    vector = np.zeros((1, live_services.dim), np.float32)
    vector[0, 0] = 1.0
    live_services.searcher.UpsertVideo(searcher_pb2.UpsertVideoRequest(  # something to search: the text is embedded
        video=video_pb2.Video(video_id="longtexts", uri="/v.mp4", model_id=live_services.model_id,
                              embedding_dim=live_services.dim, fps_numerator=25, fps_denominator=1,
                              duration_seconds=1.2, frame_count=30),
        scenes=[video_pb2.Scene(index=0, start_frame=0, end_frame=30, start_seconds=0.0, end_seconds=1.2)],
        embeddings=to_tensor(vector)), timeout=10)
    with pytest.raises(grpc.RpcError) as caught:
        live_services.searcher.Search(searcher_pb2.SearchRequest(text=long_text), timeout=30)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "shorten it" in caught.value.details()
    at_limit = ("a red circle " * MAX_TEXT_CHARS)[:MAX_TEXT_CHARS]
    answer = live_services.embedder.EmbedTexts(embedder_pb2.EmbedTextsRequest(texts=[at_limit]), timeout=30)
    assert list(answer.embeddings.shape) == [1, live_services.dim]
