"""gRPC face of the Searcher: converts messages and calls the Searcher domain object.
Domain errors propagate to the shared interceptor, which maps them to status codes."""

from __future__ import annotations

from fractions import Fraction

from videosearch.common.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from videosearch.common.tensors import FLOATS, from_tensor, to_tensor
from videosearch.searcher import wire
from videosearch.searcher.collections import Collections
from videosearch.searcher.metrics import SearcherMetrics
from videosearch.searcher.service import CollectionSwitched, Searcher
from videosearch.v1 import searcher_pb2, searcher_pb2_grpc


class SearcherServicer(searcher_pb2_grpc.SearcherServiceServicer):
    def __init__(self, searcher: Searcher | None = None) -> None:
        self._searcher = searcher
        self._metrics: SearcherMetrics | None = None
        self.collections: Collections | None = None  # the serving and the staged collection (reindex)

    def attach(self, searcher: Searcher, metrics: SearcherMetrics | None = None) -> None:
        """Called once the store has loaded; until then every RPC answers UNAVAILABLE."""
        self._searcher, self._metrics = searcher, metrics

    @property
    def metrics(self) -> SearcherMetrics | None:
        return self._metrics

    @property
    def searcher(self) -> Searcher:
        if self._searcher is None:
            raise Unavailable("the searcher is still loading its store; retry in a few seconds")
        return self._searcher

    def UpsertVideo(self, request, context):
        searcher = self.searcher
        if not request.HasField("video"):
            raise InvalidArgument("video is missing; send the video with its id, model_id and embedding_dim")
        if not request.HasField("embeddings"):
            raise InvalidArgument("embeddings are missing; send (moments or scenes, embedding_dim) FLOAT32 embeddings")
        video = wire.video_from_proto(request.video)
        scenes = [wire.scene_from_proto(s) for s in request.scenes]
        embeddings = from_tensor(request.embeddings, name="embeddings", allowed=FLOATS)
        moments = [wire.moment_from_proto(m) for m in request.moments] or None
        extras = wire.extras_from_proto(request)
        if request.staged:
            searcher = self._collections().staged(video.model_id)
            stored, replaced = searcher.upsert_video(video, scenes, embeddings, moments, extras)
        else:  # vectors of the old model are refused by the new collection (model mismatch)
            stored, replaced = self._write(
                lambda serving: serving.upsert_video(video, scenes, embeddings, moments, extras)
            )
        return searcher_pb2.UpsertVideoResponse(video=wire.video_to_proto(stored), replaced=replaced)

    def GetVideo(self, request, context):
        searcher = self.searcher
        if request.include_embeddings:
            video, scenes, moments, rows = searcher.get_video_vectors(request.video_id)
        else:
            video, scenes, moments = searcher.get_video_moments(request.video_id)
        response = searcher_pb2.GetVideoResponse(
            video=wire.video_to_proto(video),
            scenes=[wire.scene_to_proto(s, video.fps) for s in scenes],
            moments=[wire.moment_to_proto(m, video.fps) for m in moments],
            text_spans=[wire.text_span_to_proto(span) for span in searcher.get_text_spans(request.video_id)],
        )
        if request.include_embeddings:
            response.moment_embeddings.CopyFrom(to_tensor(rows))
            response.scene_embeddings.CopyFrom(to_tensor(searcher.scene_vectors(scenes, moments, rows)))
        return response

    def GetSceneThumbnail(self, request, context):
        thumbnail = self.searcher.get_thumbnail(request.video_id, request.scene_index)
        return searcher_pb2.GetSceneThumbnailResponse(thumbnail=wire.thumbnail_to_proto(thumbnail))

    def ListVideos(self, request, context):
        videos, next_token, total = self.searcher.list_videos(request.page_size, request.page_token)
        return searcher_pb2.ListVideosResponse(
            videos=[wire.video_to_proto(v) for v in videos], next_page_token=next_token, total_size=total
        )

    def DeleteVideo(self, request, context):
        deleted = self._write(lambda serving: serving.delete_video(request.video_id))
        return searcher_pb2.DeleteVideoResponse(deleted_scenes=deleted)

    def Search(self, request, context):
        searcher = self.searcher
        params = wire.params_from_proto(request)
        terms = [wire.term_from_proto(term, i) for i, term in enumerate(request.terms)]
        query = request.WhichOneof("query")
        if query == "text":
            result = searcher.search(text=request.text, terms=terms, params=params)
        elif query == "embedding":
            if not request.embedding.HasField("vector"):
                raise InvalidArgument("embedding.vector is missing; send the query vector as a Tensor")
            vector = from_tensor(request.embedding.vector, name="embedding.vector", allowed=FLOATS)
            result = searcher.search(vector=vector, model_id=request.embedding.model_id, terms=terms, params=params)
        elif terms:
            result = searcher.search(terms=terms, params=params)
        else:
            raise InvalidArgument("the query is empty; set text or embedding, or add terms")
        if self._metrics is not None:
            self._metrics.observe(result)

        def fps_of(video_id: str) -> Fraction:
            video = searcher.ranked_video(video_id)
            return video.fps if video is not None else Fraction(1)

        return wire.result_to_proto(result, fps_of)

    def UpdateVideoLocations(self, request, context):
        locations = tuple(wire.location_from_proto(location) for location in request.locations)
        video = self._write(lambda serving: serving.update_locations(request.video_id, locations))
        return searcher_pb2.UpdateVideoLocationsResponse(video=wire.video_to_proto(video))

    def StageCollection(self, request, context):
        self._collections().stage(request.model_id, request.embedder_address)
        return searcher_pb2.StageCollectionResponse()

    def SwitchCollection(self, request, context):
        self._collections().switch(request.model_id)
        return searcher_pb2.SwitchCollectionResponse(stats=self.GetStats(request, context))

    def DropStagedCollection(self, request, context):
        if not self._collections().drop(request.model_id):
            raise NotFound(f"no collection is staged for model {request.model_id!r}; nothing to drop")
        return searcher_pb2.DropStagedCollectionResponse()

    def _write(self, write):
        """Runs ``write`` on the serving collection; a write that took the collection a reindex
        switched away from just now runs again on the new one (never lost in the old one)."""
        try:
            return write(self.searcher)
        except CollectionSwitched:
            return write(self.searcher)

    def _collections(self) -> Collections:
        self.searcher  # noqa: B018 - UNAVAILABLE while loading
        if self.collections is None:
            raise FailedPrecondition("this Searcher cannot stage collections (it runs without a data dir of its own)")
        return self.collections

    def GetStats(self, request, context):
        stats = self.searcher.stats()
        staged_model = self.collections.staged_model_id if self.collections is not None else ""
        staged_videos = self.collections.staged(staged_model).stats().video_count if staged_model else 0
        return searcher_pb2.GetStatsResponse(
            staged_model_id=staged_model,
            staged_video_count=staged_videos,
            video_count=stats.video_count,
            scene_count=stats.scene_count,
            model_id=stats.model_id,
            embedding_dim=stats.embedding_dim,
            approximate_index=stats.approximate_index,
            moment_count=stats.moment_count,
        )
