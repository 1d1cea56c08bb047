"""Client of the Searcher service, used by the Indexer, the CLI and the demo.

Speaks numpy and domain types; gRPC failures come out as videosearch.common.errors
exceptions (an unreachable Searcher is Unavailable with a hint how to start it).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from videosearch.common.grpc_client import ServiceClient
from videosearch.common.security import ClientSecurity
from videosearch.common.tensors import to_tensor
from videosearch.searcher import wire
from videosearch.common.tensors import from_tensor
from videosearch.searcher.types import (
    MomentRecord,
    QueryTerm,
    SceneRecord,
    SearcherStats,
    SearchParams,
    SearchResult,
    TextSpan,
    Thumbnail,
    VideoExtras,
    VideoLocation,
    VideoRecord,
)
from videosearch.v1 import searcher_pb2, searcher_pb2_grpc


class SearcherClient(ServiceClient):
    service = "searcher"

    def __init__(self, address: str, timeout: float = 30.0, *, security: ClientSecurity | None = None) -> None:
        super().__init__(address, timeout, security=security)
        self._stub = searcher_pb2_grpc.SearcherServiceStub(self._channel)

    def upsert_video(
        self,
        video: VideoRecord,
        scenes: list[SceneRecord],
        embeddings: np.ndarray,
        moments: list[MomentRecord] | None = None,
        extras: VideoExtras = VideoExtras(),
        *,
        staged: bool = False,
    ) -> tuple[VideoRecord, bool]:
        """Stores a video with L2-normalized embeddings, one row per moment (without
        ``moments``: one per scene), and ``extras`` (sampled frames' embeddings, scene
        thumbnails, text spans) in the same atomic write; returns (stored video, replaced)."""
        request = searcher_pb2.UpsertVideoRequest(
            video=wire.video_to_proto(video),
            scenes=[wire.scene_to_proto(s, video.fps) for s in scenes],
            embeddings=to_tensor(np.asarray(embeddings, dtype=np.float32)),
            moments=[wire.moment_to_proto(m, video.fps) for m in moments or ()],
            **wire.extras_to_proto_fields(extras),
            staged=staged,
        )
        response = self._call(self._stub.UpsertVideo, request)
        return wire.video_from_proto(response.video), response.replaced

    def get_video(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord]]:
        response = self._call(self._stub.GetVideo, searcher_pb2.GetVideoRequest(video_id=video_id))
        return wire.video_from_proto(response.video), [wire.scene_from_proto(s) for s in response.scenes]

    def get_video_moments(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord], list[MomentRecord]]:
        response = self._call(self._stub.GetVideo, searcher_pb2.GetVideoRequest(video_id=video_id))
        return (
            wire.video_from_proto(response.video),
            [wire.scene_from_proto(s) for s in response.scenes],
            [wire.moment_from_proto(m) for m in response.moments],
        )

    def get_text_spans(self, video_id: str) -> tuple[TextSpan, ...]:
        """What is said and written in a stored video, by start time."""
        response = self._call(self._stub.GetVideo, searcher_pb2.GetVideoRequest(video_id=video_id))
        return tuple(wire.text_span_from_proto(span, i) for i, span in enumerate(response.text_spans))

    def get_video_embeddings(self, video_id: str) -> tuple[np.ndarray, np.ndarray]:
        """(moment embeddings (moments, dim), scene embeddings (scenes, dim)), unit rows."""
        request = searcher_pb2.GetVideoRequest(video_id=video_id, include_embeddings=True)
        response = self._call(self._stub.GetVideo, request)
        return (
            from_tensor(response.moment_embeddings, name="moment_embeddings"),
            from_tensor(response.scene_embeddings, name="scene_embeddings"),
        )

    def get_scene_thumbnail(self, video_id: str, scene_index: int) -> Thumbnail:
        """A scene's JPEG thumbnail; NotFound for an unknown video or scene, or one without a thumbnail."""
        request = searcher_pb2.GetSceneThumbnailRequest(video_id=video_id, scene_index=scene_index)
        return wire.thumbnail_from_proto(self._call(self._stub.GetSceneThumbnail, request).thumbnail)

    def list_videos(self, page_size: int = 0, page_token: str = "") -> tuple[list[VideoRecord], str, int]:
        """One page: (videos, next_page_token or "", total stored)."""
        response = self._call(
            self._stub.ListVideos, searcher_pb2.ListVideosRequest(page_size=page_size, page_token=page_token)
        )
        return [wire.video_from_proto(v) for v in response.videos], response.next_page_token, response.total_size

    def iter_videos(self, page_size: int = 0) -> Iterator[VideoRecord]:
        """Every stored video, ordered by id, fetched a page at a time."""
        token = ""
        while True:
            videos, token, _ = self.list_videos(page_size, token)
            yield from videos
            if not token:
                return

    def update_locations(self, video_id: str, locations: Iterable[VideoLocation]) -> VideoRecord:
        """Adds or updates a video's file locations (matched by path) without re-sending
        its embeddings; returns the video as now stored. NotFound for an unknown id."""
        request = searcher_pb2.UpdateVideoLocationsRequest(
            video_id=video_id, locations=[wire.location_to_proto(location) for location in locations]
        )
        return wire.video_from_proto(self._call(self._stub.UpdateVideoLocations, request).video)

    def delete_video(self, video_id: str) -> int:
        """Deletes a video; returns its scene count."""
        return self._call(self._stub.DeleteVideo, searcher_pb2.DeleteVideoRequest(video_id=video_id)).deleted_scenes

    def search(
        self,
        *,
        text: str | None = None,
        vector: np.ndarray | None = None,
        model_id: str = "",
        terms: list[QueryTerm] | tuple[QueryTerm, ...] = (),
        params: SearchParams = SearchParams(),
    ) -> SearchResult:
        """Searches by text (embedded by the Searcher's Embedder), a ready-made vector and/or
        weighted ``terms`` (texts, images, stored scenes or videos, vectors; negative weights
        subtract), with the filters, page token and explanation asked for in ``params``."""
        request = searcher_pb2.SearchRequest(
            **wire.params_to_proto_fields(params), terms=[wire.term_to_proto(term) for term in terms]
        )
        if text is not None:
            request.text = text
        if vector is not None:
            request.embedding.vector.CopyFrom(to_tensor(np.asarray(vector, dtype=np.float32)))
            request.embedding.model_id = model_id
        return wire.result_from_proto(self._call(self._stub.Search, request))

    def stats(self) -> SearcherStats:
        r = self._call(self._stub.GetStats, searcher_pb2.GetStatsRequest())
        return SearcherStats(
            r.video_count,
            r.scene_count,
            r.model_id,
            r.embedding_dim,
            r.approximate_index,
            r.moment_count,
            staged_model_id=r.staged_model_id,
            staged_video_count=r.staged_video_count,
        )

    # -- switching models (reindex) ------------------------------------------------
    def stage_collection(self, model_id: str, embedder_address: str) -> None:
        """Starts a fresh collection for ``model_id`` beside the serving one (UpsertVideo(staged=True) fills it)."""
        self._call(
            self._stub.StageCollection,
            searcher_pb2.StageCollectionRequest(model_id=model_id, embedder_address=embedder_address),
        )

    def switch_collection(self, model_id: str) -> None:
        """Makes the staged collection of ``model_id`` serve (atomically) and deletes the old one."""
        self._call(self._stub.SwitchCollection, searcher_pb2.SwitchCollectionRequest(model_id=model_id))

    def drop_staged_collection(self, model_id: str) -> None:
        self._call(self._stub.DropStagedCollection, searcher_pb2.DropStagedCollectionRequest(model_id=model_id))
