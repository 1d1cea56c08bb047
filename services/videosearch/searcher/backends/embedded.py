"""Today's backend: the LevelDB store and the in-memory index of videosearch.searcher, as
the Searcher service uses them (one process owns a data dir)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videosearch.common.errors import NotFound
from videosearch.searcher.ranking.index import Candidates, Ranked
from videosearch.searcher.service import Searcher
from videosearch.searcher.storage.store import Collection
from videosearch.searcher.types import MomentRecord, SceneRecord, SearchParams, TextSpan, VideoExtras, VideoRecord


class EmbeddedBackend:
    name = "embedded"

    def __init__(self, data_dir: str | Path, *, ann: str = "none", ranking_precision: str = "float32") -> None:
        self.searcher = Searcher.open(data_dir, ann=ann, ranking_precision=ranking_precision)

    def collection(self) -> Collection | None:
        return self.searcher.store.collection()

    def put_video(self, video: VideoRecord, scenes: list[SceneRecord], embeddings: np.ndarray,
                  moments: list[MomentRecord] | None = None, extras: VideoExtras = VideoExtras()) -> bool:
        return self.searcher.upsert_video(video, scenes, embeddings, moments, extras)[1]

    def get_video(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord], list[MomentRecord]] | None:
        return self.searcher.store.get_video_moments(video_id)

    def get_embeddings(self, video_id: str) -> np.ndarray | None:
        return self.searcher.store.get_embeddings(video_id)

    def get_text_spans(self, video_id: str) -> tuple[TextSpan, ...]:
        return self.searcher.store.get_text_spans(video_id)

    def delete_video(self, video_id: str) -> int | None:
        try:
            return self.searcher.delete_video(video_id)
        except NotFound:
            return None

    def video_ids(self) -> list[str]:
        return sorted(self.searcher.store.iter_video_ids())

    def counts(self) -> tuple[int, int, int]:
        index = self.searcher.index
        return index.video_count, index.scene_count, index.moment_count

    def rank(self, query: np.ndarray, params: SearchParams, candidates: Candidates = Candidates()) -> Ranked:
        return self.searcher.index.rank(query, params, candidates)

    def close(self) -> None:
        self.searcher.close()
