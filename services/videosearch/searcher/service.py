"""The Searcher domain object: stores videos (LevelDB) and ranks them (in memory).

Free of gRPC: the servicer converts messages to these calls, and errors are
videosearch.common.errors exceptions.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from pathlib import Path
from typing import Protocol

import numpy as np

from videosearch.common.errors import (
    InvalidArgument,
    NotFound,
    Unavailable,
    VideoSearchError,
)
from videosearch.common.page_tokens import PageTokens
from videosearch.searcher import validation
from videosearch.searcher.ann import DEFAULT_ANN_CANDIDATES, DEFAULT_ANN_MODE, DEFAULT_ANN_THRESHOLD, AnnParams
from videosearch.searcher.index import SceneIndex
from videosearch.searcher.store import Collection, SearcherStore, check_same_model
from videosearch.searcher.types import (
    MomentRecord,
    SceneRecord,
    SearcherStats,
    SearchParams,
    SearchResult,
    VideoLocation,
    VideoRecord,
    merge_locations,
    primary_path,
)

log = logging.getLogger(__name__)

_VIDEO_PAGES = PageTokens("ListVideos", str)


class TextEmbedder(Protocol):
    """What the Searcher needs from the Embedder (EmbedderClient fits)."""

    @property
    def model_id(self) -> str: ...

    def embed_texts(self, texts: list[str]) -> np.ndarray: ...


class Searcher:
    """Owns the store and the in-memory index; safe to call from many threads."""

    def __init__(self, store: SearcherStore, index: SceneIndex, text_embedder: TextEmbedder | None = None) -> None:
        self.store = store
        self.index = index
        self.text_embedder = text_embedder
        self._write_lock = threading.Lock()  # one writer: the store batch and the index update stay in order
        self.load_seconds = 0.0

    @classmethod
    def open(
        cls,
        data_dir: str | Path,
        *,
        text_embedder: TextEmbedder | None = None,
        ann: str = DEFAULT_ANN_MODE,
        ann_threshold: int = DEFAULT_ANN_THRESHOLD,
        ann_params: AnnParams = AnnParams(),
        ann_candidates: int = DEFAULT_ANN_CANDIDATES,
    ) -> "Searcher":
        """Opens (or creates) the store under ``data_dir`` and loads every vector.

        Raises StoreLocked (FailedPrecondition) when another process holds the data dir.
        """
        started = time.perf_counter()
        store = SearcherStore(data_dir)
        try:
            loaded = store.load()
            index = SceneIndex(
                ann_mode=ann,
                ann_threshold=ann_threshold,
                ann_params=ann_params,
                ann_dir=Path(data_dir) / "ann",
                ann_candidates=ann_candidates,
            )
            model_id = loaded.collection.model_id if loaded.collection else ""
            index.load(loaded, {"generation": loaded.generation, "model_id": model_id})
            del loaded  # the index holds the matrix; drop the scan's other objects early
            store.drop_file_mappings()
        except BaseException:
            store.close()
            raise
        searcher = cls(store, index, text_embedder)
        searcher.load_seconds = time.perf_counter() - started
        log.info(
            "loaded %d videos / %d scenes in %.2f s", index.video_count, index.scene_count, searcher.load_seconds
        )
        return searcher

    def close(self) -> None:
        with self._write_lock:
            self.index.save_ann()
            self.store.close()

    # -- writes --------------------------------------------------------------------

    def upsert_video(
        self, video: VideoRecord, scenes: list[SceneRecord], embeddings: np.ndarray, moments: list[MomentRecord] | None = None
    ) -> tuple[VideoRecord, bool]:
        """Stores a video with its scenes, moments and their embeddings atomically, replacing
        an earlier version. Without ``moments`` each scene is one moment (one row per scene)."""
        vectors = validation.validate_upsert(video, scenes, embeddings, moments)
        stored = dataclasses.replace(
            video, scene_count=len(scenes), moment_count=len(moments) if moments is not None else len(scenes),
            indexed_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0),
        )
        with self._write_lock:
            earlier = self.store.get_video(video.video_id)
            if earlier is not None:  # re-indexing one path must not forget the content's other paths
                sent = {location.path for location in stored.locations}
                kept = tuple(location for location in earlier[0].locations if location.path not in sent)
                stored = dataclasses.replace(stored, locations=(*stored.locations, *kept))
            replaced, serial_base = self.store.put_video(stored, scenes, vectors, moments)
            self.index.set_model(stored.model_id)
            self.index.upsert(stored, scenes, vectors, serial_base, self.store.generation(), moments)
        log.info("%s video %s (%d scenes, %d moments)", "replaced" if replaced else "stored", video.video_id,
                 stored.scene_count, stored.moment_count)
        return stored, replaced

    def update_locations(self, video_id: str, locations: tuple[VideoLocation, ...]) -> VideoRecord:
        """Adds or updates a video's locations (matched by path) without touching its scenes
        or vectors; ``uri`` follows as the primary path. Returns the stored video."""
        validation.validate_video_id(video_id)
        validation.validate_locations(locations)
        with self._write_lock:
            found = self.store.get_video(video_id)
            if found is None:
                raise NotFound(f"no video with id {video_id!r}; index the file first (ListVideos shows the stored ids)")
            merged = merge_locations(found[0].locations, locations)
            stored = dataclasses.replace(found[0], locations=merged, uri=primary_path(merged, found[0].uri))
            self.store.put_video_record(stored)
            self.index.replace_record(stored)
        log.info("video %s is at %s", video_id, ", ".join(location.path for location in stored.locations))
        return stored

    def delete_video(self, video_id: str) -> int:
        """Deletes a video and its scenes; returns how many scenes went."""
        validation.validate_video_id(video_id)
        with self._write_lock:
            deleted = self.store.delete_video(video_id)
            if deleted is None:
                raise NotFound(f"no video with id {video_id!r}; ListVideos shows the stored ids")
            if self.store.collection() is None:
                self.index.clear()
            else:
                self.index.delete(video_id, self.store.generation())
        log.info("deleted video %s (%d scenes)", video_id, deleted)
        return deleted

    # -- reads ---------------------------------------------------------------------

    def get_video(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord]]:
        return self.get_video_moments(video_id)[:2]

    def get_video_moments(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord], list[MomentRecord]]:
        validation.validate_video_id(video_id)
        found = self.store.get_video_moments(video_id)
        if found is None:
            raise NotFound(f"no video with id {video_id!r}; ListVideos shows the stored ids")
        return found

    def list_videos(self, page_size: int = 0, page_token: str = "") -> tuple[list[VideoRecord], str, int]:
        """One page of videos ordered by id: (videos, next_page_token or "", total stored)."""
        size = validation.page_size(page_size)
        videos = self.store.list_videos(_VIDEO_PAGES.decode(page_token), size + 1)
        next_token = _VIDEO_PAGES.encode(videos[size - 1].video_id) if len(videos) > size else ""
        return videos[:size], next_token, self.index.video_count

    def stats(self) -> SearcherStats:
        collection = self.store.collection()
        return SearcherStats(
            video_count=self.index.video_count,
            scene_count=self.index.scene_count,
            model_id=collection.model_id if collection else "",
            embedding_dim=collection.embedding_dim if collection else 0,
            approximate_index=self.index.ann_ready,
            moment_count=self.index.moment_count,
        )

    def search(
        self,
        *,
        text: str | None = None,
        vector: np.ndarray | None = None,
        model_id: str = "",
        params: SearchParams = SearchParams(),
    ) -> SearchResult:
        """Ranks stored scenes against a text (embedded by the Embedder) or a vector."""
        params = validation.search_params(params)
        if (text is None) == (vector is None):
            raise InvalidArgument("give exactly one query: text or embedding")
        if text is not None and not text.strip():
            raise InvalidArgument("the query text is empty; describe what to find, e.g. 'a dog on a beach'")
        collection = self.store.collection()
        embed_ms = 0.0
        if vector is not None:
            query = validation.query_vector(vector, collection.embedding_dim if collection else None)
            if collection is not None and model_id:
                check_same_model(collection, model_id)
        if collection is None:
            return SearchResult(videos=[], scenes=[], model_id="")
        if text is not None:
            started = time.perf_counter()
            query = self._embed_text(text.strip(), collection.model_id, collection.embedding_dim)
            embed_ms = (time.perf_counter() - started) * 1e3
        started = time.perf_counter()
        videos, scenes = self.index.search(query, params)
        rank_ms = (time.perf_counter() - started) * 1e3
        return SearchResult(videos=videos, scenes=scenes, model_id=collection.model_id, embed_ms=embed_ms, rank_ms=rank_ms)

    def _embed_text(self, text: str, stored_model: str, dim: int) -> np.ndarray:
        if self.text_embedder is None:
            raise Unavailable("this Searcher has no Embedder to embed text queries; search with an embedding instead")
        try:
            model_id = self.text_embedder.model_id
            if model_id != stored_model:
                check_same_model(Collection(stored_model, dim), model_id)
            embedded = self.text_embedder.embed_texts([text])
        except VideoSearchError:
            raise
        except Exception as exc:  # noqa: BLE001 - any transport failure means the Embedder is unavailable
            log.warning("embedding a text query failed", exc_info=True)
            raise Unavailable(f"cannot embed the query text: the Embedder failed ({type(exc).__name__}: {exc}); retry later") from exc
        return validation.query_vector(np.asarray(embedded), dim)
