"""What the Searcher holds: a :class:`VideoStore` (whole videos in, records and vectors out)
and a :class:`VectorIndex` (counts and ranking). Three tiers implement both, and
``backends.open_backend`` is the one place that picks which:

- float32 (``ranking.index.MomentIndex`` beside the LevelDB store): every moment vector in memory;
- int8 (``ranking.quantized.QuantizedIndex`` beside the LevelDB store): codes in memory, candidates
  re-scored from the store, for collections too large for float32;
- Milvus (``backends.milvus_searcher``): nothing kept in the process.

The store's writes keep its index in step (``backends.local.IndexedStore`` updates the in-process
tiers after each LevelDB write; Milvus ranks what it stores), so the Searcher never updates an
index itself. tests/searcher/test_backend_contract.py runs one contract suite against these two
interfaces for every tier."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import numpy as np

from videosearch.searcher.ranking.index import Candidates, Ranked
from videosearch.searcher.storage.store import Collection
from videosearch.searcher.types import (
    MomentRecord,
    SampledFrame,
    SceneRecord,
    SearchParams,
    TextSpan,
    Thumbnail,
    VideoExtras,
    VideoRecord,
)


@runtime_checkable
class VideoStore(Protocol):
    """Whole videos: written all-or-nothing, read back by id. Writes are serialized by the caller."""

    def collection(self) -> Collection | None:
        """The model id and dimension every stored vector has; None while empty (then any model is taken)."""

    def put_video(
        self,
        video: VideoRecord,
        scenes: list[SceneRecord],
        embeddings: np.ndarray,
        moments: list[MomentRecord] | None = None,
        extras: VideoExtras = VideoExtras(),
    ) -> bool:
        """Stores a video whole, replacing an earlier version whole (a reader sees the old or
        the new, never a mix); returns whether it replaced one. FailedPrecondition for
        another model or dimension than the collection's."""

    def put_video_record(self, video: VideoRecord) -> bool:
        """Rewrites only a stored video's record (its locations); False for an unknown id."""

    def delete_video(self, video_id: str) -> int | None:
        """Deletes a video; returns how many scenes went, None for an unknown id. Deleting the
        last video frees the collection for another model."""

    def get_video(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord]] | None: ...

    def get_video_moments(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord], list[MomentRecord]] | None: ...

    def get_video_vectors(
        self, video_id: str
    ) -> tuple[VideoRecord, list[SceneRecord], list[MomentRecord], np.ndarray] | None:
        """A video with its scenes, moments and (moments, dim) float32 rows, from one consistent read."""

    def get_embeddings(self, video_id: str) -> np.ndarray | None:
        """(moments, dim) float32, in moment order."""

    def get_moment_frames(self, video_id: str, moment_index: int) -> tuple[list[SampledFrame], np.ndarray] | None: ...

    def get_thumbnail(self, video_id: str, scene_index: int) -> Thumbnail | None: ...

    def get_text_spans(self, video_id: str) -> tuple[TextSpan, ...]:
        """What is said and written in the video, as stored with it; () for none or an unknown id."""

    def iter_text_spans(self) -> Iterator[tuple[str, tuple[TextSpan, ...], list[float]]]:
        """(video id, its spans, its moments' start times) for every video with text: what the
        Searcher's lexical index is rebuilt from at start-up."""

    def list_videos(self, after: str | None, limit: int) -> list[VideoRecord]:
        """Up to ``limit`` videos ordered by id, those after ``after`` (None: from the first)."""

    def close(self) -> None: ...


@runtime_checkable
class VectorIndex(Protocol):
    """Counts and ranking over every stored moment."""

    @property
    def video_count(self) -> int: ...

    @property
    def scene_count(self) -> int: ...

    @property
    def moment_count(self) -> int: ...

    @property
    def ann_ready(self) -> bool:
        """Whether an approximate index answers requests with ``approximate``."""

    def video(self, video_id: str) -> VideoRecord | None:
        """A stored video's record, as ranking sees it."""

    def rank(self, query: np.ndarray, params: SearchParams, candidates: Candidates = Candidates()) -> Ranked:
        """The best moments (mode ``scenes``) or videos (``videos``: by their best moment, or the
        mean of their moments) for a unit query, among those ``candidates`` allow."""


class InProcessIndex(VectorIndex, Protocol):
    """A tier the Searcher's process keeps in memory (float32 or int8), told of each write to the
    LevelDB store by :class:`~videosearch.searcher.backends.local.IndexedStore`."""

    def set_model(self, model_id: str) -> None: ...

    def upsert(
        self,
        video: VideoRecord,
        scenes: list[SceneRecord],
        vectors: np.ndarray,
        serial_base: int,
        generation: int,
        moments: list[MomentRecord] | None = None,
    ) -> None: ...

    def replace_record(self, video: VideoRecord) -> None: ...

    def delete(self, video_id: str, generation: int) -> None: ...

    def clear(self) -> None:
        """The collection became empty (a new model may fill it)."""

    def save_ann(self) -> None:
        """At close: persist what a restart would otherwise rebuild."""
