"""The LevelDB store with an in-process ranking tier (float32 or int8) kept in step with its
writes: the embedded backend, one process per data dir."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from videosearch.searcher.interfaces import InProcessIndex
from videosearch.searcher.ranking.ann import AnnParams
from videosearch.searcher.ranking.index import MomentIndex
from videosearch.searcher.ranking.quantized import QuantizedIndex, choose_precision
from videosearch.searcher.storage.store import Collection, SearcherStore
from videosearch.searcher.types import (
    MomentRecord,
    SampledFrame,
    SceneRecord,
    TextSpan,
    Thumbnail,
    VideoExtras,
    VideoRecord,
)

if TYPE_CHECKING:  # settings imports the tiers' defaults; opening only reads its fields
    from videosearch.searcher.settings import SearcherSettings

log = logging.getLogger(__name__)


class IndexedStore:
    """A :class:`~videosearch.searcher.interfaces.VideoStore`: each write goes to LevelDB, then
    to the in-process tier, so ranking sees what was stored. Writes are serialized by the caller."""

    def __init__(self, leveldb: SearcherStore, index: InProcessIndex) -> None:
        self.leveldb = leveldb
        self.index = index

    def collection(self) -> Collection | None:
        return self.leveldb.collection()

    def put_video(
        self,
        video: VideoRecord,
        scenes: list[SceneRecord],
        embeddings: np.ndarray,
        moments: list[MomentRecord] | None = None,
        extras: VideoExtras = VideoExtras(),
    ) -> bool:
        replaced, serial_base = self.leveldb.put_video(video, scenes, embeddings, moments, extras)
        self.index.set_model(video.model_id)
        self.index.upsert(video, scenes, embeddings, serial_base, self.leveldb.generation(), moments)
        return replaced

    def put_video_record(self, video: VideoRecord) -> bool:
        if not self.leveldb.put_video_record(video):
            return False
        self.index.replace_record(video)
        return True

    def delete_video(self, video_id: str) -> int | None:
        deleted = self.leveldb.delete_video(video_id)
        if deleted is None:
            return None
        if self.leveldb.collection() is None:
            self.index.clear()
        else:
            self.index.delete(video_id, self.leveldb.generation())
        return deleted

    def get_video(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord]] | None:
        return self.leveldb.get_video(video_id)

    def get_video_moments(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord], list[MomentRecord]] | None:
        return self.leveldb.get_video_moments(video_id)

    def get_video_vectors(
        self, video_id: str
    ) -> tuple[VideoRecord, list[SceneRecord], list[MomentRecord], np.ndarray] | None:
        return self.leveldb.get_video_vectors(video_id)

    def get_embeddings(self, video_id: str) -> np.ndarray | None:
        return self.leveldb.get_embeddings(video_id)

    def get_moment_frames(self, video_id: str, moment_index: int) -> tuple[list[SampledFrame], np.ndarray] | None:
        return self.leveldb.get_moment_frames(video_id, moment_index)

    def get_thumbnail(self, video_id: str, scene_index: int) -> Thumbnail | None:
        return self.leveldb.get_thumbnail(video_id, scene_index)

    def get_text_spans(self, video_id: str) -> tuple[TextSpan, ...]:
        return self.leveldb.get_text_spans(video_id)

    def iter_text_spans(self) -> Iterator[tuple[str, tuple[TextSpan, ...], list[float]]]:
        return self.leveldb.iter_text_spans()

    def list_videos(self, after: str | None, limit: int) -> list[VideoRecord]:
        return self.leveldb.list_videos(after, limit)

    def close(self) -> None:
        self.index.save_ann()
        self.leveldb.close()


def open_local(s: SearcherSettings) -> IndexedStore:
    """Opens (or creates) the store under ``s.data_dir`` and loads every vector (float32 tier)
    or the saved quantized tier (int8; see videosearch.searcher.ranking.quantized), as the
    settings' ranking, approximate-index and quantized-tier fields say.

    Raises StoreLocked (FailedPrecondition) when another process holds the data dir."""
    from videosearch.searcher.settings import tier_params  # here: settings imports the tiers' defaults

    started = time.perf_counter()
    data_dir = s.data_dir
    leveldb = SearcherStore(data_dir)
    try:
        index: InProcessIndex
        if choose_precision(s.ranking_precision, leveldb, s.quantized_threshold) == "int8":
            index = tier = QuantizedIndex(
                leveldb,
                Path(data_dir) / "quantized",
                tier_params(s),
            )
            tier.open()
            log.info(
                "opened the quantized tier: %d videos / %d moments in %.2f s",
                tier.video_count,
                tier.moment_count,
                time.perf_counter() - started,
            )
            return IndexedStore(leveldb, index)
        leveldb.prune_changes(leveldb.generation())  # a quantized tier's log: this tier never replays it
        loaded = leveldb.load()
        index = exact = MomentIndex(
            ann_mode=s.ann,
            ann_threshold=s.ann_threshold,
            ann_params=AnnParams(
                connectivity=s.ann_connectivity,
                expansion_add=s.ann_expansion_add,
                expansion_search=s.ann_expansion_search,
            ),
            ann_dir=Path(data_dir) / "ann",
            ann_candidates=s.ann_candidates,
        )
        model_id = loaded.collection.model_id if loaded.collection else ""
        exact.load(loaded, {"generation": loaded.generation, "model_id": model_id})
        del loaded  # the index holds the matrix; drop the scan's other objects early
        leveldb.drop_file_mappings()
    except BaseException:
        leveldb.close()
        raise
    log.info(
        "loaded %d videos / %d scenes in %.2f s", exact.video_count, exact.scene_count, time.perf_counter() - started
    )
    return IndexedStore(leveldb, index)
