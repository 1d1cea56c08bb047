"""What the Searcher asks of a backend: store a video whole, read it back, delete it, list
and count, and rank moments against a query vector. Both backends pass one contract test
suite (tests/searcher/test_backend_contract.py)."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from videosearch.searcher.ranking.index import Candidates, Ranked
from videosearch.searcher.storage.store import Collection
from videosearch.searcher.types import MomentRecord, SceneRecord, SearchParams, TextSpan, VideoExtras, VideoRecord


class SceneBackend(Protocol):
    def collection(self) -> Collection | None:
        """The model id and dimension every stored vector has; None while empty (then any model is taken)."""

    def put_video(self, video: VideoRecord, scenes: list[SceneRecord], embeddings: np.ndarray,
                  moments: list[MomentRecord] | None = None, extras: VideoExtras = VideoExtras()) -> bool:
        """Stores a video whole, replacing an earlier version whole (a reader sees the old or
        the new, never a mix); returns whether it replaced one. FailedPrecondition for
        another model or dimension than the collection's; InvalidArgument for bad input."""

    def get_video(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord], list[MomentRecord]] | None: ...

    def get_embeddings(self, video_id: str) -> np.ndarray | None:
        """(moments, dim) float32, in moment order."""

    def get_text_spans(self, video_id: str) -> tuple[TextSpan, ...]:
        """What is said and written in the video, as stored with it; () for none or an unknown id."""

    def delete_video(self, video_id: str) -> int | None:
        """Deletes a video; returns how many scenes went, None for an unknown id. Deleting the
        last video frees the collection for another model."""

    def video_ids(self) -> list[str]:
        """Every stored video id, sorted."""

    def counts(self) -> tuple[int, int, int]:
        """(videos, scenes, moments) stored."""

    def rank(self, query: np.ndarray, params: SearchParams, candidates: Candidates = Candidates()) -> Ranked:
        """The best moments (mode ``scenes``) or videos (``videos``: by their best moment, or the
        mean of their moments) for a unit query, among those ``candidates`` allow."""

    def close(self) -> None: ...
