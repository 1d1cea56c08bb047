"""The Searcher service on Milvus: MilvusBackend behind the two interfaces the Searcher holds
(videosearch.searcher.interfaces: its VideoStore and its VectorIndex), so the service, its
validation and its query composition run unchanged. Nothing is kept in the process: every read goes to Milvus, so any number of
Searchers over one Milvus are interchangeable replicas (a write through one is read by the
next query through another; the collections are created with Strong consistency)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from videosearch.searcher.backends.milvus import MilvusBackend
from videosearch.searcher.ranking.index import Candidates, Ranked
from videosearch.searcher.storage.store import Collection
from videosearch.searcher.types import (
    MomentRecord,
    SceneRecord,
    SearchParams,
    TextSpan,
    VideoExtras,
    VideoRecord,
)


class MilvusStore:
    """The store face: writes whole videos, reads records, frames and thumbnails."""

    def __init__(self, backend: MilvusBackend) -> None:
        self.backend = backend

    def collection(self) -> Collection | None:
        return self.backend.collection()

    def get_video(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord]] | None:
        found = self.backend.get_video(video_id)
        return None if found is None else found[:2]

    def get_video_moments(self, video_id: str):
        return self.backend.get_video(video_id)

    def get_video_vectors(self, video_id: str):
        return self.backend.get_video_vectors(video_id)

    def get_embeddings(self, video_id: str) -> np.ndarray | None:
        return self.backend.get_embeddings(video_id)

    def get_moment_frames(self, video_id: str, moment_index: int):
        return self.backend.get_moment_frames(video_id, moment_index)

    def get_thumbnail(self, video_id: str, scene_index: int):
        return self.backend.get_thumbnail(video_id, scene_index)

    def get_text_spans(self, video_id: str):
        return self.backend.get_text_spans(video_id)

    def iter_text_spans(self) -> Iterator[tuple[str, tuple[TextSpan, ...], list[float]]]:
        """Every video's spans and moment starts, for the in-process lexical index at start-up
        (milvus-lite has no BM25 full-text search; docs/searcher-notes.md)."""
        for video_id in self.backend.video_ids():
            spans = self.backend.get_text_spans(video_id)
            found = self.backend.get_video(video_id) if spans else None
            if found is not None:
                yield video_id, spans, [m.start_seconds for m in found[2]]

    def list_videos(self, after: str | None, limit: int) -> list[VideoRecord]:
        return self.backend.list_videos(after, limit)

    def put_video(
        self,
        video: VideoRecord,
        scenes: list[SceneRecord],
        embeddings: np.ndarray,
        moments: list[MomentRecord] | None = None,
        extras: VideoExtras = VideoExtras(),
    ) -> bool:
        return self.backend.put_video(video, scenes, embeddings, moments, extras)

    def put_video_record(self, video: VideoRecord) -> bool:
        return self.backend.put_video_record(video)

    def delete_video(self, video_id: str) -> int | None:
        return self.backend.delete_video(video_id)

    def close(self) -> None:
        self.backend.close()


class MilvusIndex:
    """The index face: counts and ranking come from Milvus at each call (what MilvusStore wrote
    is what Milvus ranks, so there is no index to keep in step)."""

    def __init__(self, backend: MilvusBackend) -> None:
        self.backend = backend

    @property
    def video_count(self) -> int:
        return self.backend.counts()[0]

    @property
    def scene_count(self) -> int:
        return self.backend.counts()[1]

    @property
    def moment_count(self) -> int:
        return self.backend.counts()[2]

    @property
    def ann_ready(self) -> bool:
        return self.backend.index_type != "FLAT"  # Milvus builds its index as segments seal

    def video(self, video_id: str) -> VideoRecord | None:
        return self.backend.video(video_id)

    def rank(self, query: np.ndarray, params: SearchParams, candidates: Candidates = Candidates()) -> Ranked:
        return self.backend.rank(query, params, candidates)
