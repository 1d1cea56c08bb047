"""The Searcher domain object: stores videos (LevelDB) and ranks them (in memory).

Free of gRPC: the servicer converts messages to these calls, and errors are
videosearch.common.errors exceptions.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import logging
import threading
import time
from collections.abc import Iterator
from typing import Protocol, cast

import numpy as np

from videosearch.common.errors import (
    Cancelled,
    DeadlineExceeded,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
    VideoSearchError,
)
from videosearch.common.page_tokens import PageTokens
from videosearch.embedder.types import ModelInfo
from videosearch.searcher import validation
from videosearch.searcher.ranking import calibration as calibrating, query as composite
from videosearch.searcher.ranking.hits import explain, open_uri
from videosearch.searcher.image_query import ImageLimits, decode_image, image_pixels
from videosearch.searcher.backends import open_backend
from videosearch.searcher.interfaces import VectorIndex, VideoStore
from videosearch.searcher.ranking.index import Candidates
from videosearch.searcher.settings import SearcherSettings
from videosearch.searcher.storage.store import Collection, check_same_model
from videosearch.searcher.lexical.fusion import FusionWeights
from videosearch.searcher.lexical.hybrid import FusedHits, TextSearch
from videosearch.searcher.lexical.index import LexicalIndex
from videosearch.searcher.lexical.residual import ResidualQueries
from videosearch.searcher.types import (
    MATCH_KINDS,
    MomentRecord,
    QueryTerm,
    MomentHit,
    SceneRecord,
    SearcherStats,
    SearchParams,
    SearchResult,
    TextSpan,
    Thumbnail,
    VideoExtras,
    VideoHit,
    VideoLocation,
    VideoRecord,
    merge_locations,
    primary_path,
)

log = logging.getLogger(__name__)

# Names the CLI command first: most readers of these messages typed one.
STORED_IDS_HINT = "`videosearch videos list` (the ListVideos call) shows the stored ids"
_VIDEO_PAGES = PageTokens("ListVideos", str)
_SEARCH_PAGES = PageTokens("Search", int)


class CollectionSwitched(FailedPrecondition):
    """A write reached a collection that a reindex switched away from; the servicer sends it
    to the serving collection instead."""


class QueryEmbedder(Protocol):
    """What the Searcher needs from the Embedder (EmbedderClient fits). Image query terms
    also need ``model_info()`` (for the preprocessing) and ``embed_images(pixels)``; an
    embedder without them makes image terms UNAVAILABLE."""

    @property
    def model_id(self) -> str: ...

    def embed_texts(self, texts: list[str]) -> np.ndarray: ...


class ImageQueryEmbedder(QueryEmbedder, Protocol):
    """A QueryEmbedder that embeds query images too."""

    def model_info(self) -> ModelInfo: ...

    def embed_images(self, pixels: np.ndarray) -> np.ndarray: ...


class Searcher:
    """Holds a store and the index that ranks what it holds (see videosearch.searcher.interfaces);
    safe to call from many threads."""

    def __init__(
        self,
        store: VideoStore,
        index: VectorIndex,
        query_embedder: QueryEmbedder | None = None,
        *,
        image_limits: ImageLimits = ImageLimits(),
        max_thumbnail_bytes: int = validation.DEFAULT_MAX_THUMBNAIL_BYTES,
        fusion: FusionWeights = FusionWeights(),
    ) -> None:
        self.store = store
        self.index = index
        self.query_embedder = query_embedder
        self.image_limits = image_limits
        self.max_thumbnail_bytes = max_thumbnail_bytes
        self._write_lock = threading.Lock()  # one writer: a store write and its index update stay in order
        self._switched_away = ""  # why writes are refused (a reindex switched to another collection)
        self.calibrator = calibrating.Calibrator()
        self.load_seconds = 0.0
        # What is said and written is indexed in memory, rebuilt from the stored spans at every start.
        self.lexical = LexicalIndex()
        for video_id, spans, moment_starts in store.iter_text_spans():
            self.lexical.put(video_id, spans, moment_starts)
        self.text_search = TextSearch(store, index, self.lexical, fusion)

    @classmethod
    def open(cls, settings: SearcherSettings, query_embedder: QueryEmbedder | None = None) -> Searcher:
        """The Searcher over the tier ``settings`` picks (backends.open_backend): it opens (or
        creates) the store and loads what ranking needs. Raises StoreLocked (FailedPrecondition)
        when another process holds the data dir."""
        started = time.perf_counter()
        backend = open_backend(settings)
        searcher = cls(
            backend.store,
            backend.index,
            query_embedder,
            image_limits=ImageLimits(max_bytes=settings.max_image_bytes, max_pixels=settings.max_image_pixels),
            max_thumbnail_bytes=settings.max_thumbnail_bytes,
            fusion=settings.fusion_weights(),
        )
        searcher.load_seconds = time.perf_counter() - started
        return searcher

    def close(self) -> None:
        with self._write_lock:
            self.store.close()

    # -- writes --------------------------------------------------------------------

    @contextlib.contextmanager
    def writes_held(self) -> Iterator[None]:
        """No write runs while this is held: a collection switch compares and swaps under it, so
        every write lands either before the comparison or (refused here) in the new collection."""
        with self._write_lock:
            yield

    def refuse_writes(self, reason: str) -> None:
        """From now on every write raises CollectionSwitched (call it with writes held)."""
        self._switched_away = reason

    def _check_writable(self) -> None:
        if self._switched_away:
            raise CollectionSwitched(self._switched_away)

    def video_ids(self) -> set[str]:
        """Every stored video's id (a collection switch compares them)."""
        ids: set[str] = set()
        after = None
        while page := self.store.list_videos(after, 1000):
            ids.update(video.video_id for video in page)
            after = page[-1].video_id
        return ids

    def upsert_video(
        self,
        video: VideoRecord,
        scenes: list[SceneRecord],
        embeddings: np.ndarray,
        moments: list[MomentRecord] | None = None,
        extras: VideoExtras = VideoExtras(),
    ) -> tuple[VideoRecord, bool]:
        """Stores a video with its scenes, moments and their embeddings atomically, replacing
        an earlier version. Without ``moments`` each scene is one moment (one row per scene).
        ``extras`` (sampled frames with their embeddings, scene thumbnails) join the same write."""
        vectors = validation.validate_upsert(video, scenes, embeddings, moments)
        extras = validation.validate_extras(scenes, moments, extras, video.embedding_dim, self.max_thumbnail_bytes)
        stored = dataclasses.replace(
            video,
            scene_count=len(scenes),
            moment_count=len(moments) if moments is not None else len(scenes),
            indexed_at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0),
        )
        with self._write_lock:
            self._check_writable()
            earlier = self.store.get_video(video.video_id)
            if earlier is not None:  # re-indexing one path must not forget the content's other paths
                sent = {location.path for location in stored.locations}
                kept = tuple(location for location in earlier[0].locations if location.path not in sent)
                stored = dataclasses.replace(stored, locations=(*stored.locations, *kept))
            replaced = self.store.put_video(stored, scenes, vectors, moments, extras)
            self.lexical.put(
                video.video_id,
                extras.text_spans,
                [m.start_seconds for m in moments] if moments is not None else [s.start_seconds for s in scenes],
            )
        log.info(
            "%s video %s (%d scenes, %d moments)",
            "replaced" if replaced else "stored",
            video.video_id,
            stored.scene_count,
            stored.moment_count,
        )
        return stored, replaced

    def update_locations(self, video_id: str, locations: tuple[VideoLocation, ...]) -> VideoRecord:
        """Adds or updates a video's locations (matched by path) without touching its scenes
        or vectors; ``uri`` follows as the primary path. Returns the stored video."""
        validation.validate_video_id(video_id)
        validation.validate_locations(locations)
        with self._write_lock:
            self._check_writable()
            found = self.store.get_video(video_id)
            if found is None:
                raise NotFound(f"no video with id {video_id!r}; index the file first ({STORED_IDS_HINT})")
            merged = merge_locations(found[0].locations, locations)
            stored = dataclasses.replace(found[0], locations=merged, uri=primary_path(merged, found[0].uri))
            self.store.put_video_record(stored)
        log.info("video %s is at %s", video_id, ", ".join(location.path for location in stored.locations))
        return stored

    def delete_video(self, video_id: str) -> int:
        """Deletes a video and its scenes; returns how many scenes went."""
        validation.validate_video_id(video_id)
        with self._write_lock:
            self._check_writable()
            deleted = self.store.delete_video(video_id)
            if deleted is None:
                raise NotFound(f"no video with id {video_id!r}; {STORED_IDS_HINT}")
            if self.store.collection() is None:
                self.lexical.clear()
            else:
                self.lexical.delete(video_id)
        log.info("deleted video %s (%d scenes)", video_id, deleted)
        return deleted

    # -- reads ---------------------------------------------------------------------

    def get_video(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord]]:
        return self.get_video_moments(video_id)[:2]

    def get_video_moments(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord], list[MomentRecord]]:
        validation.validate_video_id(video_id)
        found = self.store.get_video_moments(video_id)
        if found is None:
            raise NotFound(f"no video with id {video_id!r}; {STORED_IDS_HINT}")
        return found

    def get_video_vectors(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord], list[MomentRecord], np.ndarray]:
        """A video with its scenes, moments and moment embeddings, from one consistent read."""
        validation.validate_video_id(video_id)
        found = self.store.get_video_vectors(video_id)
        if found is None:
            raise NotFound(f"no video with id {video_id!r}; {STORED_IDS_HINT}")
        return found

    def ranked_video(self, video_id: str) -> VideoRecord | None:
        """A stored video's record as ranking holds it (no store read): for its frame rate."""
        return self.index.video(video_id)

    def scene_vectors(self, scenes: list[SceneRecord], moments: list[MomentRecord], rows: np.ndarray) -> np.ndarray:
        """(scenes, dim) unit rows: each scene's vector as a query term would use it."""
        return np.stack([composite.scene_vector(scene, moments, rows) for scene in scenes])

    def get_text_spans(self, video_id: str) -> tuple[TextSpan, ...]:
        """What is said and written in a stored video, by start time (() when nothing)."""
        validation.validate_video_id(video_id)
        return self.store.get_text_spans(video_id)

    def get_thumbnail(self, video_id: str, scene_index: int) -> Thumbnail:
        validation.validate_video_id(video_id)
        if scene_index < 0:
            raise InvalidArgument(f"scene_index is {scene_index}; scenes count from 0")
        video = self.store.get_video(video_id)
        if video is None:
            raise NotFound(f"no video with id {video_id!r}; {STORED_IDS_HINT}")
        if scene_index >= video[0].scene_count:
            raise NotFound(
                f"video {video_id} has {video[0].scene_count} scenes, no scene {scene_index}; "
                "scene indexes count from 0"
            )
        thumbnail = self.store.get_thumbnail(video_id, scene_index)
        if thumbnail is None:
            raise NotFound(
                f"scene {scene_index} of video {video_id} has no thumbnail (it was indexed before thumbnails "
                "existed, or its frames could not be read back); re-index the file with force to make them"
            )
        return thumbnail

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
        terms: tuple[QueryTerm, ...] | list[QueryTerm] = (),
        params: SearchParams = SearchParams(),
    ) -> SearchResult:
        """Ranks stored moments against a text, a vector and/or weighted terms (see
        videosearch.searcher.ranking.query for how terms combine), after the filters in ``params``;
        ``params.page_token`` continues an earlier search."""
        params = validation.search_params(params)
        if text is not None and vector is not None:
            raise InvalidArgument("give exactly one query: text or embedding (add more as terms)")
        if text is None and vector is None and not terms:
            raise InvalidArgument("give exactly one query: text or embedding, or at least one term")
        if text is not None and not text.strip():
            raise InvalidArgument("the query text is empty; describe what to find, e.g. 'a dog on a beach'")
        # What the lexical index matches: the query text, or the positive text terms (the CLI sends those).
        words = text if text is not None else " ".join(t.text for t in terms if t.text and t.weight >= 0) or None
        if params.kinds and "seen" not in params.kinds and words is None:
            raise InvalidArgument(
                "searching what is said or written needs a text query; give text, or add the seen "
                "kind to search by an embedding or terms"
            )
        single = (
            [QueryTerm(text=text)]
            if text is not None
            else [QueryTerm(vector=vector, model_id=model_id)]
            if vector is not None
            else []
        )
        all_terms = composite.validate_terms([*single, *terms])
        offset = _SEARCH_PAGES.decode(params.page_token, query=_fingerprint(all_terms, params)) or 0
        if offset + params.top_k > validation.MAX_SEARCH_DEPTH:
            raise InvalidArgument(
                f"this page reaches result {offset + params.top_k}, past the deepest "
                f"({validation.MAX_SEARCH_DEPTH}); narrow the query with filters instead"
            )
        # Images are decoded before anything else, so a bad one is refused even on an empty collection.
        images = {
            id(t.image): decode_image(t.image, self.image_limits, name=f"image term {i}")
            for i, t in enumerate(all_terms)
            if t.image is not None
        }
        collection = self.store.collection()
        for term in all_terms:  # a vector's shape and model are checked even on an empty collection
            if term.vector is not None:
                validation.query_vector(term.vector, collection.embedding_dim if collection else None)
                if collection is not None and term.model_id:
                    check_same_model(collection, term.model_id)
        if collection is None:
            examples = [t.video_id or (t.scene.video_id if t.scene else "") for t in all_terms if t.video_id or t.scene]
            if examples:
                raise NotFound(f"no video with id {examples[0]!r}; the collection is empty")
            return SearchResult(videos=[], scenes=[], model_id="")
        kinds = params.kinds or MATCH_KINDS
        with_text = words is not None and self.lexical.span_count > 0 and any(k != "seen" for k in kinds)
        if "seen" not in kinds and not with_text:  # said/written only, and no text stored (yet)
            return SearchResult(videos=[], scenes=[], model_id=collection.model_id)
        composed = (
            composite.compose(all_terms, _TermSources(self, collection, images), collection.embedding_dim)
            if "seen" in kinds
            else None
        )
        vector = composed.vector if composed is not None else None
        # Relevance needs the model's text tower for a text query; a said/written-only search has none.
        calibration = (
            self.calibration(collection, calibrating.query_kind([t.kind for t in all_terms]))
            if composed is not None
            else None
        )
        candidates = Candidates(
            video_filter=params.filter,
            excluded={} if params.include_examples or composed is None else composed.examples,
            min_score=_lowest_score(params.filter.min_score, params.filter.min_relevance, calibration),
        )
        started = time.perf_counter()
        # One more than the page shows, to know whether another page follows.
        wanted = offset + params.top_k + 1
        fused = None
        if with_text and words is not None:  # (with_text implies words)
            # A text-matched moment's look is ranked by the query without the words its spans hold.
            residual = (
                ResidualQueries(all_terms, composed.term_vectors, lambda texts: self.embed_texts(texts, collection))
                if composed is not None
                else None
            )
            fused = self.text_search.rank(words, vector, params, candidates, wanted, residual)
            found, approximate_used = self._fused_results(fused.hits, params), fused.approximate_used
        else:
            assert vector is not None, "without text, the seen kind is searched: the terms were composed"
            ranked = self.index.rank(vector, dataclasses.replace(params, top_k=wanted), candidates)
            found, approximate_used = (
                ranked.videos if params.mode == "videos" else ranked.scenes,
                ranked.approximate_used,
            )
        page = found[offset : offset + params.top_k]
        more = len(found) > offset + params.top_k and offset + params.top_k < validation.MAX_SEARCH_DEPTH
        next_token = _SEARCH_PAGES.encode(offset + params.top_k, query=_fingerprint(all_terms, params)) if more else ""
        if params.mode == "videos":
            videos, scenes = [self._video_hit(hit, vector, params.explain, fused, calibration) for hit in page], []
        else:
            videos, scenes = (
                [],
                [self._moment_hit(hit, None, vector, params.explain, fused, calibration) for hit in page],
            )
        rank_ms = (time.perf_counter() - started) * 1e3
        return SearchResult(
            videos=videos,
            scenes=scenes,
            model_id=collection.model_id,
            embed_ms=composed.embed_ms if composed is not None else 0.0,
            rank_ms=rank_ms,
            next_page_token=next_token,
            approximate_used=approximate_used,
            strong_relevance=calibrating.STRONG_RELEVANCE,
            calibration=calibration,
            model_notice=self._model_notice(collection),
            fallbacks=fused.fallbacks if fused is not None else (),
        )

    def calibration(self, collection: Collection, kind: str) -> calibrating.Calibration:
        """How raw scores of ``kind`` queries map to relevance for the stored collection's
        model (see videosearch.searcher.ranking.calibration), measured on first use and cached."""
        return self.calibrator.get(
            collection.model_id,
            kind,
            self.index.moment_count,
            self._calibration_sample,
            lambda texts: self.embed_texts(texts, collection),
        )

    def _calibration_sample(self) -> tuple[np.ndarray, np.ndarray]:
        """Up to MAX_MOMENTS_PER_VIDEO moment rows from each of the first MAX_SAMPLE_VIDEOS
        videos by id (ids are content digests, so these are a fair draw), and each row's video."""
        rows, owners = [], []
        for video in self.store.list_videos(None, calibrating.MAX_SAMPLE_VIDEOS):
            found = self.store.get_video_vectors(video.video_id)
            if found is None:  # deleted since it was listed
                continue
            vectors = found[3]
            picks = np.linspace(0, len(vectors) - 1, min(len(vectors), calibrating.MAX_MOMENTS_PER_VIDEO)).round()
            rows.append(vectors[picks.astype(int)])
            owners += [video.video_id] * len(picks)
        if not rows:
            return np.empty((0, 0), np.float32), np.empty(0, dtype=object)
        return np.concatenate(rows).astype(np.float32), np.asarray(owners, dtype=object)

    def _model_notice(self, collection: Collection) -> str:
        """The caveat the answering model declares, when this Searcher's Embedder hosts it."""
        info = getattr(self.query_embedder, "model_info", None)
        if info is None:
            return ""
        try:
            known = info()
        except Exception:  # noqa: BLE001 - a notice is a courtesy; the search itself succeeded
            return ""
        return getattr(known, "notice", "") if known.model_id == collection.model_id else ""

    def _fused_results(self, hits: list[MomentHit], params: SearchParams) -> list:
        """Fused moment hits as the mode wants them: as they are (scenes), or grouped by video in
        the order of each video's best moment, its ``scenes_per_video`` best moments listed and
        its score their best cosine (videos)."""
        if params.mode == "scenes":
            return hits
        grouped: dict[str, list[MomentHit]] = {}
        for hit in hits:
            grouped.setdefault(hit.video_id, []).append(hit)
        out = []
        for video_id, moments in grouped.items():
            video = self.index.video(video_id)
            if video is not None:
                shown = moments[: params.scenes_per_video]
                out.append(VideoHit(video, max(h.score for h in shown), shown))
        return out

    def _video_hit(
        self,
        hit: VideoHit,
        query: np.ndarray | None,
        explained: bool,
        fused: FusedHits | None,
        calibration: calibrating.Calibration | None,
    ) -> VideoHit:
        scenes = [self._moment_hit(s, hit.video, query, explained, fused, calibration) for s in hit.scenes]
        # A video is as relevant as its score says, or as its most relevant listed moment (a literal text match).
        return dataclasses.replace(
            hit, scenes=scenes, relevance=max([_relevance(calibration, hit.score, ()), *(s.relevance for s in scenes)])
        )

    def _moment_hit(
        self,
        hit: MomentHit,
        video: VideoRecord | None,
        query: np.ndarray | None,
        explained: bool,
        fused: FusedHits | None = None,
        calibration: calibrating.Calibration | None = None,
    ) -> MomentHit:
        video = video or self.ranked_video(hit.video_id)
        start = hit.moment.start_seconds if hit.moment is not None else hit.scene.start_seconds
        explanation = None
        if explained and hit.moment is not None and query is not None:
            explanation = explain(self.store.get_moment_frames(hit.video_id, hit.moment.index), query)
        text = (
            {"matched_kinds": ("seen",)}
            if fused is None
            else {"text_matches": self.text_search.text_matches(hit, fused)}
        )
        hit = dataclasses.replace(
            hit, open_uri=open_uri(video.uri, start) if video is not None else "", explanation=explanation, **text
        )
        return dataclasses.replace(hit, relevance=_relevance(calibration, hit.score, hit.matched_kinds))

    def embed_texts(self, texts: list[str], collection: Collection) -> np.ndarray:
        embedder = self._embedder(collection, "text")
        return self._call_embedder(lambda: embedder.embed_texts(texts), "the query text")

    def embed_images(self, decoded: list[np.ndarray], collection: Collection) -> np.ndarray:
        """Embeds decoded RGB images (see image_query.decode_image) as indexed frames are."""
        found = self._embedder(collection, "image")
        if not hasattr(found, "embed_images"):
            raise Unavailable("this Searcher's Embedder cannot embed images; search by text or embedding instead")
        embedder = cast(ImageQueryEmbedder, found)
        info = self._call_embedder(embedder.model_info, "the query image")
        prepared = [image_pixels(rgb, info.preprocessing) for rgb in decoded]
        if len({p.shape for p in prepared}) > 1:  # a patch-budget model keeps each image's aspect: one call each
            return np.concatenate(
                [self._call_embedder(lambda p=p: embedder.embed_images(p[None]), "the query image") for p in prepared]
            )
        pixels = np.stack(prepared)
        return self._call_embedder(lambda: embedder.embed_images(pixels), "the query image")

    def _embedder(self, collection: Collection, kind: str) -> QueryEmbedder:
        if self.query_embedder is None:
            raise Unavailable(
                f"this Searcher has no Embedder to embed {kind} queries; search with an embedding instead"
            )
        model_id = self._call_embedder(lambda: self.query_embedder.model_id, f"the query {kind}")
        if model_id != collection.model_id:
            check_same_model(collection, model_id)
        return self.query_embedder

    @staticmethod
    def _call_embedder(fn, what: str):
        """The one place the Embedder's errors become the Searcher's: the caller's own input
        (INVALID_ARGUMENT), its deadline, a cancel, a model mismatch and an unreachable Embedder
        keep their codes; anything else the Embedder answers (INTERNAL, UNKNOWN, overloaded, a
        refused token) is a failing dependency, UNAVAILABLE, never the Searcher's INTERNAL."""
        try:
            return fn()
        except _EMBEDDER_ERRORS_PASSED_ON:
            raise
        except VideoSearchError as exc:
            log.warning("embedding %s failed: %s", what, exc)
            failed = "is overloaded" if isinstance(exc, ResourceExhausted) else "failed"
            raise Unavailable(
                f"cannot embed {what}: the Embedder {failed} ({exc}); retry shortly, or search with an embedding"
            ) from exc
        except Exception as exc:  # any transport failure means the Embedder is unavailable
            log.warning("embedding %s failed", what, exc_info=True)
            raise Unavailable(
                f"cannot embed {what}: the Embedder failed ({type(exc).__name__}: {exc}); retry later"
            ) from exc


# Embedder errors the Searcher's caller gets as they are (see Searcher._call_embedder).
_EMBEDDER_ERRORS_PASSED_ON = (InvalidArgument, Unavailable, DeadlineExceeded, Cancelled, FailedPrecondition)


class _TermSources:
    """Query term embeddings for one search, against one collection."""

    def __init__(self, searcher: Searcher, collection: Collection, decoded_images: dict[int, np.ndarray]) -> None:
        self._searcher, self._collection = searcher, collection
        self._decoded = decoded_images  # id(image bytes) -> RGB pixels

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        return self._searcher.embed_texts(texts, self._collection)

    def embed_images(self, images: list[bytes]) -> np.ndarray:
        return self._searcher.embed_images([self._decoded[id(image)] for image in images], self._collection)

    def stored_video(self, video_id: str) -> tuple[list[SceneRecord], list[MomentRecord], np.ndarray]:
        _, scenes, moments, rows = self._searcher.get_video_vectors(video_id)
        return scenes, moments, rows


def _lowest_score(
    min_score: float | None, min_relevance: float | None, calibration: calibrating.Calibration | None
) -> float | None:
    """The raw score a hit needs: the stricter of ``min_score`` and ``min_relevance``'s raw equivalent
    (none for a said/written-only search, whose literal matches are all strong)."""
    relevance_floor = None if min_relevance is None or calibration is None else calibration.raw_score(min_relevance)
    floors = [f for f in (min_score, relevance_floor) if f is not None]
    return max(floors) if floors else None


def _relevance(calibration: calibrating.Calibration | None, score: float, matched_kinds) -> float:
    """A hit's relevance: its score on the calibrated scale, and at least strong when the query's
    words are literally said or written in it."""
    seen = float(calibration.relevance(score)) if calibration is not None else 0.0
    literal = any(kind in ("said", "written") for kind in matched_kinds)
    return max(seen, calibrating.STRONG_RELEVANCE) if literal else seen


def _fingerprint(terms: list[QueryTerm], params: SearchParams) -> str:
    """What a page token is bound to: everything that decides the ranking except the page size."""
    digest = hashlib.sha256()
    for term in terms:
        digest.update(repr((term.kind, term.weight, term.text, term.scene, term.video_id, term.model_id)).encode())
        if term.image is not None:
            digest.update(hashlib.sha256(term.image).digest())
        if term.vector is not None:
            digest.update(np.ascontiguousarray(term.vector, dtype=np.float32).tobytes())
    digest.update(
        repr(
            (
                params.scenes_per_video,
                params.video_scoring,
                params.mode,
                params.approximate,
                params.filter,
                params.include_examples,
                params.kinds or MATCH_KINDS,
            )
        ).encode()
    )
    return digest.hexdigest()[:32]
