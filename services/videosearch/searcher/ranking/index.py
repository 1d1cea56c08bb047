"""In-memory ranking over every stored moment vector.

A row is a moment (a stretch of a scene with its own embedding; a hard-cut scene is
usually one moment, a long take several) and carries its scene's timing too, so a hit
reports the moment that matched together with its scene. A video's score is its best
moment's (MAX) or the mean over its moments (MEAN); scene mode ranks moments.

All vectors live in one float32 matrix whose rows are grouped per video
("segments"), so a query is one BLAS matrix-vector product, per-video scores
are one ``np.maximum.reduceat`` (or ``np.add.reduceat``) over segment starts, and
top-k is an ``np.argpartition``.

Why float32 and not float16: numpy has no half-precision BLAS, so ``X @ q`` in
float16 is far slower than in float32 (docs/searcher-notes.md, "Storage", has the
measurement), and exact search must keep up with faiss IndexFlatIP. float32 is 1.0x the raw
vector bytes, inside the 1.5x memory budget.

Concurrency is copy-on-write: searches read an immutable :class:`_Snapshot`;
writers (serialized by the caller) append rows past the end of the shared
buffers (invisible to older snapshots), build new small per-segment arrays and
publish a new snapshot with one reference assignment. A replaced or deleted
video's rows become a tombstoned segment until compaction rewrites the buffers
(when dead rows exceed a quarter of all rows).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from videosearch.searcher.ranking.ann import DEFAULT_ANN_CANDIDATES, DEFAULT_ANN_THRESHOLD, AnnParams, HnswIndex
from videosearch.searcher.ranking.filters import VideoTable
from videosearch.searcher.ranking.row_timing import ROW_KINDS, moment_at, scene_at
from videosearch.searcher.ranking.top_k import best_scenes, ordered, top_candidates
from videosearch.searcher.storage.store import LoadedCollection, row_columns
from videosearch.searcher.types import (
    MomentRecord,
    MomentHit,
    SceneRecord,
    SearchFilter,
    SearchParams,
    VideoHit,
    VideoRecord,
    moments_of_scenes,
)

log = logging.getLogger(__name__)

# With a filter, the approximate index is used only while the filter lets at least this share
# of the rows through: below it the graph's candidates would be mostly filtered out (and the
# true top results missed), while exact ranking of the few allowed rows is cheap anyway.
ANN_MIN_FILTER_FRACTION = 0.2


@dataclass(frozen=True)
class Candidates:
    """Which rows a search may return (filters and excluded examples apply before ranking).

    ``video_filter`` keeps the videos it matches (None: all; its min_score is ignored here);
    ``excluded`` maps a video id to the indexes of its moments to leave out (None: the whole
    video); ``min_score`` drops hits below it.
    """

    video_filter: SearchFilter | None = None
    excluded: Mapping[str, tuple[int, ...] | None] = field(default_factory=dict)
    min_score: float | None = None

    @property
    def restricts(self) -> bool:
        return (self.video_filter is not None and self.video_filter.filters_videos) or bool(self.excluded)


@dataclass(frozen=True)
class Ranked:
    """What a ranking returns: video hits or moment hits, and whether the ANN index chose them."""

    videos: list[VideoHit]
    scenes: list[MomentHit]
    approximate_used: bool = False


class _Rows:
    """Append-only row buffers with spare capacity: the vectors plus moment and scene timing columns."""

    def __init__(self, dim: int, capacity: int) -> None:
        self.dim = dim
        self.vectors = np.empty((capacity, dim), dtype=np.float32)
        self.columns = {name: np.empty(capacity, dtype=kind) for name, kind in ROW_KINDS.items()}

    @property
    def capacity(self) -> int:
        return self.vectors.shape[0]

    def grown(self, used: int, needed: int) -> "_Rows":
        """A copy with room for ``needed`` rows (older snapshots keep the old buffers)."""
        # 1.25x growth keeps slack (and so resident memory) small; untouched pages of
        # np.empty are not resident anyway.
        bigger = _Rows(self.dim, max(needed, int(self.capacity * 1.25) + 1024))
        bigger.vectors[:used] = self.vectors[:used]
        for name, column in self.columns.items():
            bigger.columns[name][:used] = column[:used]
        return bigger

    def write(self, at: int, vectors: np.ndarray, columns: np.ndarray) -> None:
        """Rows from ``at``: ``columns`` is (len(ROW_COLUMNS), rows), as store.row_columns makes."""
        end = at + vectors.shape[0]
        self.vectors[at:end] = vectors
        for position, column in enumerate(self.columns.values()):
            column[at:end] = columns[position]


@dataclass(frozen=True)
class _Snapshot:
    """An immutable view of the collection; searches use exactly one."""

    rows: _Rows
    n_rows: int
    seg_starts: np.ndarray  # int64 (S,), increasing; segment i spans [starts[i], starts[i+1])
    seg_alive: np.ndarray  # bool (S,)
    seg_serials: np.ndarray  # int64 (S,) serial of each segment's scene 0 (ANN keys)
    seg_videos: list[VideoRecord]  # shared append-only list; only [:S] belongs to this snapshot
    dead_ranges: tuple[tuple[int, int], ...]
    live_rows: int
    live_videos: int
    _serial_order: list = field(default_factory=list)  # lazily computed cache

    @property
    def n_segments(self) -> int:
        return self.seg_starts.shape[0]

    @property
    def vectors(self) -> np.ndarray:
        return self.rows.vectors[: self.n_rows]

    def seg_end(self, seg: int) -> int:
        return int(self.seg_starts[seg + 1]) if seg + 1 < self.n_segments else self.n_rows

    def seg_of_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.seg_starts, rows, side="right") - 1

    def scene(self, row: int, seg: int) -> SceneRecord:
        return scene_at(self.rows.columns, row)

    def moment(self, row: int, seg: int) -> MomentRecord:
        return moment_at(self.rows.columns, row, row - int(self.seg_starts[seg]))

    def hit(self, row: int, seg: int, score: float) -> MomentHit:
        return MomentHit(self.seg_videos[seg].video_id, self.scene(row, seg), score, self.moment(row, seg))

    def rows_of_serials(self, serials: np.ndarray) -> np.ndarray:
        """Rows of live scenes with these serials (unknown or dead serials are dropped)."""
        if not self._serial_order:
            order = np.argsort(self.seg_serials, kind="stable")
            self._serial_order.append((order, self.seg_serials[order]))
        order, sorted_serials = self._serial_order[0]
        serials = serials.astype(np.int64)
        pos = np.searchsorted(sorted_serials, serials, side="right") - 1
        ok = pos >= 0
        seg = order[np.where(ok, pos, 0)]
        offset = serials - self.seg_serials[seg]
        ends = np.append(self.seg_starts[1:], self.n_rows)
        counts = ends[seg] - self.seg_starts[seg]
        ok &= (offset >= 0) & (offset < counts) & self.seg_alive[seg]
        return (self.seg_starts[seg] + offset)[ok]


def _empty_snapshot(dim: int) -> _Snapshot:
    return _Snapshot(
        rows=_Rows(dim, 0),
        n_rows=0,
        seg_starts=np.empty(0, np.int64),
        seg_alive=np.empty(0, bool),
        seg_serials=np.empty(0, np.int64),
        seg_videos=[],
        dead_ranges=(),
        live_rows=0,
        live_videos=0,
    )


class MomentIndex:
    """Exact (and optionally approximate) ranking of scenes and videos.

    Mutations must be serialized by the caller; searches may run concurrently with them.
    """

    COMPACT_DEAD_FRACTION = 0.25

    def __init__(
        self,
        dim: int = 0,
        *,
        ann_mode: str = "none",
        ann_threshold: int = DEFAULT_ANN_THRESHOLD,
        ann_params: AnnParams = AnnParams(),
        ann_dir: Path | None = None,
        ann_candidates: int = DEFAULT_ANN_CANDIDATES,
    ) -> None:
        if ann_mode not in ("none", "hnsw", "auto"):
            raise ValueError(f"ann must be none, hnsw or auto, got {ann_mode!r}")
        self.dim = dim
        self.ann_mode = ann_mode
        self.ann_threshold = ann_threshold
        self.ann_params = ann_params
        self.ann_dir = ann_dir
        self.ann_candidates = ann_candidates
        self._snapshot = _empty_snapshot(dim)
        self._video_segment: dict[str, int] = {}
        self._live_scenes = 0  # rows are moments; scenes are counted beside them
        self._ann: HnswIndex | None = None
        self._ann_building: threading.Thread | None = None
        # The last build thread, kept after its hand-over: it still saves the index then,
        # and wait_for_ann must wait for that too (the build clears _ann_building first).
        self._ann_thread: threading.Thread | None = None
        # (removed keys, added keys, added vectors): changes made while an index builds, replayed on it
        self._ann_pending: list[tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]] | None = None
        self._ann_dirty = False
        self._ann_epoch = 0
        self._ann_manifest: dict = {}
        self._blas_gate = threading.Lock()
        # (key, VideoTable, the snapshot it describes: held so that its id is not reused).
        self._table_cache: tuple[tuple[int, int], VideoTable, _Snapshot] | None = None
        self._records_version = 0  # bumped when a record changes in place (replace_record)
        self._mutex = threading.Lock()  # guards the ANN hand-over between builder and writers
        self.ann_build_seconds: float | None = None

    # -- loading -------------------------------------------------------------------

    def load(self, loaded: LoadedCollection, ann_manifest: dict | None = None) -> None:
        """Replaces the contents with a store scan (rows are already grouped per video)."""
        if loaded.collection is not None:
            self.dim = loaded.collection.embedding_dim
        rows = _Rows(self.dim, 0)
        rows.vectors = loaded.vectors
        n = loaded.vectors.shape[0]
        videos = [stored.video for stored in loaded.videos]
        counts = np.array([v.moment_count for v in videos], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(videos) else np.empty(0, np.int64)
        serials = [stored.serial_base for stored in loaded.videos]
        for position, name in enumerate(ROW_KINDS):
            if loaded.row_columns is None:
                rows.columns[name] = np.zeros(n, dtype=ROW_KINDS[name])
            else:
                rows.columns[name] = loaded.row_columns[position].astype(ROW_KINDS[name])
        if loaded.row_columns is None and n:  # one moment per scene: scene i is row i of its video
            rows.columns["scene_index"] = (np.arange(n) - np.repeat(starts, counts)).astype(np.int32)
        self._video_segment = {v.video_id: i for i, v in enumerate(videos)}
        self._live_scenes = sum(v.scene_count for v in videos)
        self._snapshot = _Snapshot(
            rows=rows,
            n_rows=n,
            seg_starts=np.asarray(starts, np.int64),
            seg_alive=np.ones(len(starts), bool),
            seg_serials=np.asarray(serials, np.int64),
            seg_videos=videos,
            dead_ranges=(),
            live_rows=n,
            live_videos=len(videos),
        )
        self._ann_manifest = dict(ann_manifest or {})
        self._maybe_start_ann(try_saved=True)

    # -- queries -------------------------------------------------------------------

    @property
    def scene_count(self) -> int:
        return self._live_scenes

    @property
    def moment_count(self) -> int:
        return self._snapshot.live_rows

    @property
    def video_count(self) -> int:
        return self._snapshot.live_videos

    @property
    def ann_ready(self) -> bool:
        return self._ann is not None

    def video(self, video_id: str) -> VideoRecord | None:
        seg = self._video_segment.get(video_id)
        return None if seg is None else self._snapshot.seg_videos[seg]

    def replace_record(self, video: VideoRecord) -> None:
        """Swaps a video's metadata (its locations, say) for hits from now on; rows stay.
        In place: older snapshots see the new record too, which is harmless for metadata."""
        seg = self._video_segment.get(video.video_id)
        if seg is not None:
            self._snapshot.seg_videos[seg] = video
            self._records_version += 1  # its paths may have changed: filters must see them

    def search(self, query: np.ndarray, params: SearchParams) -> tuple[list[VideoHit], list[MomentHit]]:
        """Ranks against a unit query vector of the index's dimension."""
        ranked = self.rank(query, params)
        return ranked.videos, ranked.scenes

    def rank(self, query: np.ndarray, params: SearchParams, candidates: Candidates = Candidates()) -> Ranked:
        """Ranks the rows ``candidates`` allow against a unit query vector: filters act before
        the top results are chosen, so they are the true best among the allowed rows."""
        snap = self._snapshot
        if snap.live_rows == 0:
            return Ranked([], [])
        row_ok = self._allowed_rows(snap, candidates) if candidates.restricts else None
        ann = self._ann if params.approximate else None
        if ann is not None and (row_ok is None or row_ok.sum() >= ANN_MIN_FILTER_FRACTION * snap.live_rows):
            ranked = self._search_approximate(snap, ann, query, params, row_ok, candidates.min_score)
            if ranked is not None:
                return ranked
        # One matrix-vector product at a time: BLAS already uses every core, and
        # concurrent calls oversubscribe them (measured: p99 x50 with 8 clients).
        with self._blas_gate:
            scores = snap.vectors @ query
        for start, end in snap.dead_ranges:
            scores[start:end] = -np.inf
        if row_ok is not None:
            scores[~row_ok] = -np.inf
        if candidates.min_score is not None:
            scores[scores < candidates.min_score] = -np.inf
        if params.mode == "scenes":
            return Ranked([], self._top_moments(snap, scores, np.arange(snap.n_rows), params.top_k))
        if params.video_scoring == "mean":
            counts = np.diff(np.append(snap.seg_starts, snap.n_rows))
            if row_ok is None and candidates.min_score is None:
                seg_scores = (np.add.reduceat(scores, snap.seg_starts, dtype=np.float64) / counts).astype(np.float32)
            else:  # the mean over the moments left in (an excluded scene does not count)
                finite = np.isfinite(scores)
                sums = np.add.reduceat(np.where(finite, scores, 0.0), snap.seg_starts, dtype=np.float64)
                kept = np.add.reduceat(finite.astype(np.int64), snap.seg_starts)
                with np.errstate(invalid="ignore", divide="ignore"):
                    seg_scores = np.where(kept > 0, sums / np.maximum(kept, 1), -np.inf).astype(np.float32)
        else:
            seg_scores = np.maximum.reduceat(scores, snap.seg_starts)
        seg_scores[~snap.seg_alive] = -np.inf
        return Ranked(self._top_videos(snap, scores, seg_scores, np.arange(snap.n_segments), params), [])

    def _allowed_rows(self, snap: _Snapshot, candidates: Candidates) -> np.ndarray:
        """(n_rows,) bool: rows of videos the filter keeps, minus excluded moments."""
        counts = np.diff(np.append(snap.seg_starts, snap.n_rows))
        seg_ok = None if candidates.video_filter is None else self._video_table(snap).matches(candidates.video_filter)
        row_ok = np.repeat(seg_ok if seg_ok is not None else np.ones(snap.n_segments, bool), counts)
        for video_id, moments in candidates.excluded.items():
            seg = self._segment_in(snap, video_id)
            if seg is None:
                continue
            start, end = int(snap.seg_starts[seg]), snap.seg_end(seg)
            if moments is None:
                row_ok[start:end] = False
            else:
                local = np.asarray([m for m in moments if 0 <= m < end - start], dtype=np.int64)
                row_ok[start + local] = False
        return row_ok

    def _video_table(self, snap: _Snapshot) -> VideoTable:
        """The filterable fields of ``snap``'s videos, built once per collection state."""
        key = (id(snap), self._records_version)
        cached = self._table_cache
        if cached is None or cached[0] != key:
            cached = self._table_cache = (key, VideoTable(snap.seg_videos[: snap.n_segments]), snap)
        return cached[1]

    def _segment_in(self, snap: _Snapshot, video_id: str) -> int | None:
        """The live segment of ``video_id`` in ``snap`` (the id map may already be newer than it)."""
        seg = self._video_segment.get(video_id)
        if (
            seg is not None
            and seg < snap.n_segments
            and snap.seg_alive[seg]
            and snap.seg_videos[seg].video_id == video_id
        ):
            return seg
        found = [i for i in range(snap.n_segments) if snap.seg_alive[i] and snap.seg_videos[i].video_id == video_id]
        return found[0] if found else None

    def _top_moments(self, snap: _Snapshot, scores: np.ndarray, rows: np.ndarray, k: int) -> list[MomentHit]:
        """Best k of ``rows`` (``scores`` aligned with ``rows``)."""
        cand = top_candidates(scores, k)
        segs = snap.seg_of_rows(rows[cand])
        seg_of = dict(zip(cand.tolist(), segs.tolist()))
        chosen = ordered(
            cand,
            scores,
            lambda i: (snap.seg_videos[seg_of[i]].video_id, int(rows[i]) - int(snap.seg_starts[seg_of[i]])),
            k,
        )
        return [snap.hit(int(rows[i]), seg_of[i], float(scores[i])) for i in chosen]

    def _top_videos(
        self, snap: _Snapshot, row_scores, seg_scores: np.ndarray, segs: np.ndarray, params: SearchParams
    ) -> list[VideoHit]:
        """Best top_k of ``segs`` (``seg_scores`` aligned with ``segs``); ``row_scores(seg)``
        gives the scores of a segment's rows (an array indexed by row also works)."""
        cand = top_candidates(seg_scores, params.top_k)
        chosen = ordered(cand, seg_scores, lambda i: (snap.seg_videos[int(segs[i])].video_id,), params.top_k)
        hits = []
        for i in chosen:
            seg = int(segs[i])
            start, end = int(snap.seg_starts[seg]), snap.seg_end(seg)
            local = row_scores(seg) if callable(row_scores) else row_scores[start:end]
            # Filtered-out or excluded moments (-inf) are never listed.
            scenes = [
                snap.hit(start + j, seg, float(local[j]))
                for j in best_scenes(local, params.scenes_per_video)
                if np.isfinite(local[j])
            ]
            hits.append(VideoHit(snap.seg_videos[seg], float(seg_scores[i]), scenes))
        return hits

    def _search_approximate(
        self,
        snap: _Snapshot,
        ann: HnswIndex,
        query: np.ndarray,
        params: SearchParams,
        row_ok: np.ndarray | None = None,
        min_score: float | None = None,
    ) -> Ranked | None:
        """The graph proposes candidates; they are re-scored exactly in float32, so returned
        scores are true cosines and order follows the exact tie rules. None when the filter
        left too few of them to fill the page (the caller then ranks exactly)."""
        if params.mode == "scenes":
            want = max(self.ann_candidates, 4 * params.top_k)
        else:
            # Neighbouring scenes often share a video; fetch more to find top_k distinct videos
            # (16 per result measured video recall@10 0.935 at 100k scenes; 32 gives >= 0.95).
            want = max(self.ann_candidates, 32 * params.top_k)
        if row_ok is not None:  # expect the filter to drop its share of the candidates
            want = int(want * snap.live_rows / max(int(row_ok.sum()), 1)) + 1
        rows = snap.rows_of_serials(ann.search(query, want))
        if row_ok is not None:
            rows = rows[row_ok[rows]]
        if rows.size == 0:
            return None if row_ok is not None or min_score is not None else Ranked([], [], True)
        if params.mode == "scenes":
            rows = np.unique(rows)
            scores = snap.vectors[rows] @ query
            if min_score is not None:
                scores[scores < min_score] = -np.inf
            moment_hits = self._top_moments(snap, scores, rows, params.top_k)
            if len(moment_hits) < params.top_k and (row_ok is not None or min_score is not None):
                return None
            return Ranked([], moment_hits, True)
        segs = np.unique(snap.seg_of_rows(rows))
        cache: dict[int, np.ndarray] = {}

        def seg_rows_scores(seg: int) -> np.ndarray:
            if seg not in cache:
                start, end = int(snap.seg_starts[seg]), snap.seg_end(seg)
                local = snap.vectors[start:end] @ query
                if row_ok is not None:
                    local[~row_ok[start:end]] = -np.inf
                if min_score is not None:
                    local[local < min_score] = -np.inf
                cache[seg] = local
            return cache[seg]

        def reduce(local: np.ndarray) -> float:
            finite = local[np.isfinite(local)]
            if finite.size == 0:
                return -np.inf
            return float(finite.mean() if params.video_scoring == "mean" else finite.max())

        seg_scores = np.array([reduce(seg_rows_scores(int(s))) for s in segs], dtype=np.float32)
        hits = self._top_videos(snap, seg_rows_scores, seg_scores, segs, params)
        if len(hits) < params.top_k and (row_ok is not None or min_score is not None):
            return None
        return Ranked(hits, [], True)

    # -- mutations (serialized by the caller) ----------------------------------------

    def upsert(
        self,
        video: VideoRecord,
        scenes: list[SceneRecord],
        vectors: np.ndarray,
        serial_base: int,
        generation: int,
        moments: list[MomentRecord] | None = None,
    ) -> None:
        """Adds or replaces a video: ``vectors`` has one row per moment (``moments`` None:
        one moment per scene)."""
        if moments is None:
            moments = moments_of_scenes(scenes)
        snap = self._snapshot
        if self.dim == 0:
            self.dim = vectors.shape[1]
        rows = snap.rows
        if rows.dim != self.dim:
            rows = _Rows(self.dim, 0)
        n, k = snap.n_rows, len(moments)
        if n + k > rows.capacity:
            rows = rows.grown(n, n + k)
        rows.write(n, vectors, row_columns(scenes, moments))
        seg_alive, dead, live_rows, live_videos = snap.seg_alive, snap.dead_ranges, snap.live_rows, snap.live_videos
        old = self._video_segment.get(video.video_id)
        if old is not None:
            seg_alive, dead, removed = self._tombstone(snap, old)
            live_rows -= removed
            live_videos -= 1
            self._live_scenes -= snap.seg_videos[old].scene_count
        self._live_scenes += len(scenes)
        seg_videos = snap.seg_videos
        if len(seg_videos) != snap.n_segments:  # a newer writer never shares a tail with us; be safe
            seg_videos = seg_videos[: snap.n_segments]
        seg_videos.append(video)
        self._video_segment[video.video_id] = snap.n_segments
        self._snapshot = _Snapshot(
            rows=rows,
            n_rows=n + k,
            seg_starts=np.append(snap.seg_starts, n),
            seg_alive=np.append(seg_alive, True),
            seg_serials=np.append(snap.seg_serials, serial_base),
            seg_videos=seg_videos,
            dead_ranges=dead,
            live_rows=live_rows + k,
            live_videos=live_videos + 1,
        )
        old_serials = self._segment_serials(snap, old) if old is not None else None
        self._ann_apply(old_serials, np.arange(serial_base, serial_base + k, dtype=np.int64), vectors)
        self._ann_manifest["generation"] = generation
        self._maybe_compact()
        self._maybe_start_ann()

    def delete(self, video_id: str, generation: int) -> None:
        seg = self._video_segment.pop(video_id, None)
        if seg is None:
            return
        snap = self._snapshot
        seg_alive, dead, removed = self._tombstone(snap, seg)
        self._live_scenes -= snap.seg_videos[seg].scene_count
        self._snapshot = _Snapshot(
            rows=snap.rows,
            n_rows=snap.n_rows,
            seg_starts=snap.seg_starts,
            seg_alive=seg_alive,
            seg_serials=snap.seg_serials,
            seg_videos=snap.seg_videos,
            dead_ranges=dead,
            live_rows=snap.live_rows - removed,
            live_videos=snap.live_videos - 1,
        )
        self._ann_apply(self._segment_serials(snap, seg), None, None)
        self._ann_manifest["generation"] = generation
        self._maybe_compact()

    @staticmethod
    def _tombstone(snap: _Snapshot, seg: int):
        seg_alive = snap.seg_alive.copy()
        seg_alive[seg] = False
        start, end = int(snap.seg_starts[seg]), snap.seg_end(seg)
        return seg_alive, (*snap.dead_ranges, (start, end)), end - start

    @staticmethod
    def _segment_serials(snap: _Snapshot, seg: int) -> np.ndarray:
        count = snap.seg_end(seg) - int(snap.seg_starts[seg])
        return np.arange(snap.seg_serials[seg], snap.seg_serials[seg] + count, dtype=np.int64)

    def _maybe_compact(self) -> None:
        snap = self._snapshot
        dead_rows = snap.n_rows - snap.live_rows
        if dead_rows == 0 or (dead_rows < self.COMPACT_DEAD_FRACTION * snap.n_rows and len(snap.dead_ranges) < 4096):
            return
        self.compact()

    def compact(self) -> None:
        """Rewrites the buffers without tombstoned rows (O(rows); older snapshots keep the old ones)."""
        snap = self._snapshot
        alive = np.flatnonzero(snap.seg_alive)
        counts = np.diff(np.append(snap.seg_starts, snap.n_rows))[alive]
        keep = np.ones(snap.n_rows, bool)
        for start, end in snap.dead_ranges:
            keep[start:end] = False
        rows = _Rows(self.dim, 0)
        rows.vectors = snap.vectors[keep]
        rows.columns = {name: column[: snap.n_rows][keep] for name, column in snap.rows.columns.items()}
        videos = [snap.seg_videos[i] for i in alive]
        self._video_segment = {v.video_id: i for i, v in enumerate(videos)}
        self._snapshot = _Snapshot(
            rows=rows,
            n_rows=int(keep.sum()),
            seg_starts=np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
            if len(alive)
            else np.empty(0, np.int64),
            seg_alive=np.ones(len(alive), bool),
            seg_serials=snap.seg_serials[alive],
            seg_videos=videos,
            dead_ranges=(),
            live_rows=snap.live_rows,
            live_videos=snap.live_videos,
        )
        log.info("compacted the scene matrix: %d dead rows dropped", snap.n_rows - snap.live_rows)

    # -- approximate index -----------------------------------------------------------

    def _ann_wanted(self) -> bool:
        if self.ann_mode == "hnsw":
            return self._snapshot.live_rows > 0
        if self.ann_mode == "auto":
            return self._snapshot.live_rows >= self.ann_threshold
        return False

    def _maybe_start_ann(self, try_saved: bool = False) -> None:
        if self._ann is not None or self._ann_building is not None or not self._ann_wanted():
            return
        if try_saved and self.ann_dir is not None:
            saved = HnswIndex.load_if_fresh(self.ann_dir, self.dim, self.ann_params, self._manifest())
            if saved is not None and len(saved) == self._snapshot.live_rows:
                log.info("loaded the saved ANN index (%d scenes)", len(saved))
                self._ann = saved
                return
        self._ann_pending = []
        self._ann_building = threading.Thread(
            target=self._build_ann, args=(self._snapshot, self._ann_epoch), name="ann-build", daemon=True
        )
        self._ann_thread = self._ann_building
        self._ann_building.start()

    def _manifest(self) -> dict:
        return {
            "generation": self._ann_manifest.get("generation", 0),
            "model_id": self._ann_manifest.get("model_id", ""),
        }

    def _build_ann(self, snap: _Snapshot, epoch: int) -> None:
        # Exact search serves approximate requests until this finishes; writes made
        # meanwhile are queued in _ann_pending and replayed before the hand-over.
        started = time.perf_counter()
        index = HnswIndex(self.dim, self.ann_params)
        log.info("building the ANN index over %d scenes in the background", snap.live_rows)
        chunk = 65_536
        for seg_lo in range(0, snap.n_segments, 4096):
            segs = np.arange(seg_lo, min(seg_lo + 4096, snap.n_segments))
            segs = segs[snap.seg_alive[segs]]
            if segs.size == 0:
                continue
            starts = snap.seg_starts[segs]
            ends = np.array([snap.seg_end(int(s)) for s in segs])
            rows = np.concatenate([np.arange(a, b) for a, b in zip(starts, ends)])
            serials = np.concatenate(
                [np.arange(s, s + (b - a)) for s, a, b in zip(snap.seg_serials[segs], starts, ends)]
            )
            for lo in range(0, rows.size, chunk):
                index.add(serials[lo : lo + chunk], snap.vectors[rows[lo : lo + chunk]])
        with self._mutex:
            if epoch != self._ann_epoch:  # the collection was cleared meanwhile
                return
            for removed, added_keys, added_vectors in self._ann_pending or []:
                if removed is not None:
                    index.remove(removed)
                if added_keys is not None and added_vectors is not None:  # (given together)
                    index.add(added_keys, added_vectors)
            self._ann_pending = None
            self._ann = index
            self._ann_building = None
            self._ann_dirty = True
            self.ann_build_seconds = time.perf_counter() - started
        log.info("ANN index ready: %d scenes in %.1f s", len(index), self.ann_build_seconds)
        self.save_ann()

    def _ann_apply(
        self, removed: np.ndarray | None, added_keys: np.ndarray | None, added_vectors: np.ndarray | None
    ) -> None:
        with self._mutex:
            if self._ann_pending is not None:
                self._ann_pending.append((removed, added_keys, added_vectors))
                return
            ann = self._ann
            if ann is None:
                return
            self._ann_dirty = True
        if removed is not None:
            ann.remove(removed)
        if added_keys is not None and added_vectors is not None:  # (given together)
            ann.add(added_keys, added_vectors)

    def wait_for_ann(self, timeout: float | None = None) -> bool:
        """Waits for a running build, including saving it beside the store; True once an index is in use."""
        thread = self._ann_thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return self._ann is not None

    def clear(self) -> None:
        """Forgets everything (the collection became empty; a new model may fill it)."""
        with self._mutex:
            self._ann = None
            self._ann_dirty = False
            self._ann_epoch += 1  # a running build is discarded at its hand-over
            self._ann_pending = None
            self._ann_building = None
        self.dim = 0
        self._snapshot = _empty_snapshot(0)
        self._video_segment = {}
        self._live_scenes = 0
        if self.ann_dir is not None:
            HnswIndex.discard(self.ann_dir)

    def set_model(self, model_id: str) -> None:
        self._ann_manifest["model_id"] = model_id

    def save_ann(self) -> None:
        """Persists the ANN index beside LevelDB so the next start-up can skip the build."""
        if self.ann_dir is None:
            return
        with self._mutex:
            ann, dirty = self._ann, self._ann_dirty
            manifest = self._manifest()
            self._ann_dirty = False
        if ann is None or not dirty:
            return
        HnswIndex.discard(self.ann_dir)  # a crash mid-save must not leave a stale "fresh" manifest
        ann.save(self.ann_dir, manifest)
