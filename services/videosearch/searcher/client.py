"""Client of the Searcher service, used by the Indexer and the CLI.

Speaks numpy and domain types; gRPC failures come out as videosearch.common.errors
exceptions (an unreachable Searcher is Unavailable with a hint how to start it).
"""

from __future__ import annotations

import grpc
import numpy as np

from videosearch.common.grpc_client import raise_domain_error
from videosearch.common.grpc_server import insecure_channel
from videosearch.common.tensors import to_tensor
from videosearch.searcher import wire
from videosearch.searcher.types import (
    MomentRecord,
    SceneRecord,
    SearcherStats,
    SearchParams,
    SearchResult,
    VideoRecord,
)
from videosearch.v1 import searcher_pb2, searcher_pb2_grpc


class SearcherClient:
    def __init__(self, address: str, timeout: float = 30.0) -> None:
        self.address = address
        self.timeout = timeout
        self._channel = insecure_channel(address)
        self._stub = searcher_pb2_grpc.SearcherServiceStub(self._channel)

    def _call(self, method: str, request):
        try:
            return getattr(self._stub, method)(request, timeout=self.timeout)
        except grpc.RpcError as err:
            raise_domain_error(err, "searcher", self.address)

    def upsert_video(
        self, video: VideoRecord, scenes: list[SceneRecord], embeddings: np.ndarray,
        moments: list[MomentRecord] | None = None,
    ) -> tuple[VideoRecord, bool]:
        """Stores a video with L2-normalized embeddings, one row per moment (without
        ``moments``: one per scene); returns (stored video, replaced)."""
        request = searcher_pb2.UpsertVideoRequest(
            video=wire.video_to_proto(video),
            scenes=[wire.scene_to_proto(s, video.fps) for s in scenes],
            embeddings=to_tensor(np.asarray(embeddings, dtype=np.float32)),
            moments=[wire.moment_to_proto(m, video.fps) for m in moments or ()],
        )
        response = self._call("UpsertVideo", request)
        return wire.video_from_proto(response.video), response.replaced

    def get_video(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord]]:
        response = self._call("GetVideo", searcher_pb2.GetVideoRequest(video_id=video_id))
        return wire.video_from_proto(response.video), [wire.scene_from_proto(s) for s in response.scenes]

    def get_video_moments(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord], list[MomentRecord]]:
        response = self._call("GetVideo", searcher_pb2.GetVideoRequest(video_id=video_id))
        return (wire.video_from_proto(response.video), [wire.scene_from_proto(s) for s in response.scenes],
                [wire.moment_from_proto(m) for m in response.moments])

    def list_videos(self, page_size: int = 0, page_token: str = "") -> tuple[list[VideoRecord], str, int]:
        """One page: (videos, next_page_token or "", total stored)."""
        response = self._call("ListVideos", searcher_pb2.ListVideosRequest(page_size=page_size, page_token=page_token))
        return [wire.video_from_proto(v) for v in response.videos], response.next_page_token, response.total_size

    def delete_video(self, video_id: str) -> int:
        """Deletes a video; returns its scene count."""
        return self._call("DeleteVideo", searcher_pb2.DeleteVideoRequest(video_id=video_id)).deleted_scenes

    def search(
        self,
        *,
        text: str | None = None,
        vector: np.ndarray | None = None,
        model_id: str = "",
        params: SearchParams = SearchParams(),
    ) -> SearchResult:
        """Searches by text (embedded by the Searcher's Embedder) or by a ready-made vector."""
        request = searcher_pb2.SearchRequest(**wire.params_to_proto_fields(params))
        if text is not None:
            request.text = text
        if vector is not None:
            request.embedding.vector.CopyFrom(to_tensor(np.asarray(vector, dtype=np.float32)))
            request.embedding.model_id = model_id
        return wire.result_from_proto(self._call("Search", request))

    def stats(self) -> SearcherStats:
        r = self._call("GetStats", searcher_pb2.GetStatsRequest())
        return SearcherStats(r.video_count, r.scene_count, r.model_id, r.embedding_dim, r.approximate_index, r.moment_count)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "SearcherClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
