"""The quantized tier: ranking for collections too large for a float32 matrix in memory.

The float32 tier (index.py) keeps every moment vector in memory: 2 KB a row at 512-d, so ten
million moments need 20.5 GB. This tier keeps each moment only as int8 codes (512 B at 512-d,
``round(x * scale)`` with one scale for every dimension) in blocks of rows grouped per video, as
the float32 matrix is; and beside them an approximate index over *groups*: runs of at most
``GROUP_MOMENTS`` consecutive moments of one video that resemble each other (every moment within
``GROUP_MIN_COSINE`` of the group's mean; a group ends where the next moment is not), each
represented by the unit mean of its moments, in a usearch HNSW graph keyed by the serial of the
group's first moment and its length. The groups are decided from the int8 codes alone, so the
same groups come out when a video is appended, rebuilt, dropped or replayed. The graph holds the
means projected onto the fewest leading singular directions that keep ``projection_energy`` of
their energy (projection.py; 64 of 512 at 10M on the bench's data), which halves a graph search.

Why groups and not one graph node per moment or an IVF: scenes of a video often resemble each
other, so a query's best moments lie in the groups whose means score best, and a graph over
groups has a twentieth of the nodes, so it builds far faster; an IVF's cells cut across videos.
Where a video's scenes differ, its groups get shorter (down to one moment), so the graph grows
towards one node per moment instead of losing recall (bench/search/group_robustness.py). The
measurements behind these choices are in docs/searcher-notes.md ("The quantized tier").

A search:

1. the graph proposes ``probe`` groups; their moments' int8 codes are scored against the
   quantized query (numkong, int8 dot products);
2. approximate searches (``TierParams.refine``, the default) score the best candidates from a
   4-bit code of each row's int8 residual kept in memory, plus the exact residual of its clipped
   components (rescoring.refined_scores): within about 1e-3 of the cosine, typically 3e-5, and no
   row is read: at 10M moments the float32 rows (20 GB) do not fit the page cache and a read cost
   ~3 ms. Otherwise (and for min_score, MEAN, approximate=false)
   the best candidates are re-scored exactly from the float32 vectors in LevelDB (one get per
   row read, one store snapshot per round; a video replaced since is skipped), so returned scores
   are true cosines and the order follows top_k.py's tie rules. Only the candidates whose int8
   code leaves room to reach the k-th exact score are read (rescoring.py); the top k are those of
   re-scoring every candidate:

   * scenes: the best ``max(candidates, 3 x top_k)`` rows by int8 score;
   * videos, MAX: the best ``32 x top_k`` rows by int8 score, grouped by video (each keeps its best
     ``max(2, scenes_per_video)``); the rows of the
     best ``2 x top_k + 4`` videos (by their best int8 row) are re-scored, a video's score is its
     best re-scored row, and the scenes listed with it come from those rows;
   * videos, MEAN: the same candidate videos with EVERY moment read and re-scored, ranked by the
     exact mean. The mean of a video that no good moment brought into the candidates is never
     computed: a video whose moments are all middling can be missed.

``approximate=false`` cannot mean float32 over every row (20 GB on disk at 10M): it scores every
live row's int8 code (all blocks), then re-scores the same way. Filters and excluded examples
act before the candidates are chosen: with a filter that keeps at least
``ANN_MIN_FILTER_FRACTION`` of the groups the graph is asked for proportionally more groups and
the others are dropped; a more selective filter scores every allowed row's code instead.

Start-up reads only the video records: the tier is saved beside the store (``quantized/``: the
code blocks as .npy files, read into memory at start-up, the segment table, the graph and a manifest naming
the generation they hold); the writes logged after that generation (store.py's ``changes/``) are
replayed on top, and the rows are then checked against the video records. A missing, damaged,
foreign or incomplete saved tier means a rebuild from a scan of every vector (synchronous: health
stays NOT_SERVING meanwhile; the time at 10M is in docs/performance.md).
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import numkong
import numpy as np

from videosearch.searcher.ranking.ann import AnnParams, HnswIndex
from videosearch.searcher.ranking.filters import VideoTable
from videosearch.searcher.ranking.index import ANN_MIN_FILTER_FRACTION, Candidates, Ranked
from videosearch.searcher.ranking.projection import DEFAULT_ENERGY, fit_projection, kept_energy
from videosearch.searcher.ranking.top_k import best_scenes, ordered, top_candidates
from videosearch.searcher.ranking.rescoring import refined_scores, residual_codes, settle, spills, upper_bounds
from videosearch.searcher.ranking.row_timing import TIMING_DTYPE, moment_at, scene_at, timing_rows
from videosearch.searcher.storage.store import SearcherStore, StoredVideos, row_columns
from videosearch.searcher.types import (
    MomentHit,
    MomentRecord,
    SceneRecord,
    SearchParams,
    VideoHit,
    VideoRecord,
    moments_of_scenes,
)

log = logging.getLogger(__name__)

PRECISIONS = ("float32", "int8", "auto")
DEFAULT_RANKING_PRECISION = "auto"
DEFAULT_QUANTIZED_THRESHOLD = 2_000_000  # moments from which ranking_precision=auto picks int8
DEFAULT_QUANTIZED_PROBE = 896  # groups whose codes a search scores; chosen at 10M on held-out tuning queries
# (bench/search/tier_profile.py, round seven, the 64-d projected graph): videos recall@10 0.960 at 896, 0.967 at
# 1024, 0.951 at 768 (too close to 0.95); scenes 0.990. 896 saves an eighth of the graph search and the rows.
MANIFEST = "manifest.json"
FORMAT = 5  # 2: groups end where moments stop resembling each other; graph keys carry the group's length;
# 3: the group graph is int8 with connectivity 32 (see TierParams); 4: a video's runs have near-equal lengths;
# 5: the graph holds a projection of the group means (projection.py) and lives in GRAPH_DIR
LOADABLE_FORMATS = (4, 5)  # a format-4 tier loads as it is and its graph is upgraded in the background
GRAPH_DIR = "groups-projected"  # format 5's graph (usearch file, projection, manifest)
FORMAT4_GRAPH_DIR = "groups"  # format 4's 512-d graph, left in place so that earlier code still loads the tier
BLOCK_ROWS = 1 << 20  # rows per code block: appends never copy the codes written before
GROUP_MOMENTS = 32  # the most a group may hold (6 bits of a graph key)
DEFAULT_GROUP_MOMENTS = GROUP_MOMENTS  # the default of TierParams.group_moments (chosen in docs/performance.md)
# A group's mean stands for its moments only while they resemble it: a run of GROUP_MOMENTS moments
# whose every moment has at least this cosine to the run's mean is one group; otherwise the run is cut
# greedily where a moment falls below it against the running mean of its group. 0.6 keeps every video
# of the bench's generator whole (lowest cosine to the mean 0.70 for 99 % of them) and splits videos
# whose scenes have little in common (bench/search/group_robustness.py), which a mean of all of them
# would stand for badly: recall there fell to 0.34 with fixed groups.
GROUP_MIN_COSINE = 0.6
# Graph keys: the serial of a group's first moment shifted left by KEY_LENGTH_BITS, plus its length.
KEY_LENGTH_BITS = 6
# The code scale is chosen so that this share of the first rows' components fit in int8 unclipped.
SCALE_QUANTILE = 0.9999


@dataclass(frozen=True)
class TierParams:
    probe: int = DEFAULT_QUANTIZED_PROBE  # groups scored per search (scene mode: a quarter, at least 64)
    group_moments: int = DEFAULT_GROUP_MOMENTS  # most moments in one group (one graph node), up to GROUP_MOMENTS
    scene_probe: int = 0  # groups scored per scenes search (0: a quarter of probe, at least 64)
    # Approximate searches score candidates from the residual codes in memory (within about 1e-3 of the
    # exact cosine) and read no row; False: re-score from LevelDB reads as approximate=false does.
    refine: bool = True
    candidates: int = 32  # fewest rows re-scored exactly in scene mode (one LevelDB get each)
    # int8 nodes: half the memory of float16 and cheaper distances, and on the bench's data the same share
    # of the right groups found as float16 (usearch quantizes the unit means itself). Connectivity 32 and
    # expansion_add 128 rather than 16 / 64: for the same number of distances computed per search, the
    # graph returns the right groups among fewer keys (1M scenes, 50,000 groups: 0.95 of the true top-10
    # videos' groups among 205 keys instead of 410), and every key asked for costs its moments' codes.
    graph: AnnParams = AnnParams(connectivity=32, expansion_add=128, expansion_search=128, dtype="i8")
    # The graph holds the group means projected onto the fewest leading singular directions of a sample
    # of them that keep this share of their energy (projection.py; 0: never project): at 10M on the bench's
    # data 64 of 512 dimensions, and a videos search took 0.66x the time at the same recall (docs/performance.md).
    projection_energy: float = DEFAULT_ENERGY
    projection_sample: int = 50_000  # group means the projection is fitted on (a random sample of them)
    projection_min_groups: int = 4_096  # fewer groups than this: no projection (too few to fit one on)

    def __post_init__(self) -> None:
        if not 1 <= self.group_moments <= GROUP_MOMENTS:
            raise ValueError(f"quantized group moments must be between 1 and {GROUP_MOMENTS}, got {self.group_moments}")
        if not 0 <= self.projection_energy <= 1:
            raise ValueError(f"quantized projection energy must be between 0 and 1 (0: never project), "
                             f"got {self.projection_energy}")


@dataclass(frozen=True)
class _State:
    """An immutable view of the tier; a search uses exactly one. Segments (videos) are ordered by
    both their serials and their rows (both grow with every write)."""

    blocks: tuple[np.ndarray, ...]  # int8 (BLOCK_ROWS or fewer, dim) each
    seg_rows: np.ndarray  # int64 (S,) global row of each segment's moment 0 (block * BLOCK_ROWS + row)
    seg_serials: np.ndarray  # int64 (S,) serial of each segment's moment 0
    counts: np.ndarray  # int64 (S,)
    alive: np.ndarray  # bool (S,)
    videos: list[VideoRecord]
    live_rows: int = 0
    live_videos: int = 0
    live_scenes: int = 0
    # uint8 (BLOCK_ROWS or fewer, ceil(dim / 2)) each, beside ``blocks``: every row's residual code
    # (rescoring.residual_codes), from which approximate searches score candidates without reading them
    fine: tuple[np.ndarray, ...] = ()
    # (global row, component, exact residual) of every clipped component, by row (rescoring.spills)
    spill: tuple[np.ndarray, np.ndarray, np.ndarray] = field(default_factory=lambda: _no_spill())
    # TIMING_DTYPE (BLOCK_ROWS or fewer,) each, beside ``blocks``: every row's moment and scene timing,
    # from which hits are assembled without reading the store (row_timing.py)
    timing: tuple[np.ndarray, ...] = ()
    _cache: dict = field(default_factory=dict)  # the VideoTable and the live-row mask, built on first use

    @property
    def end_row(self) -> int:
        return int(self.seg_rows[-1] + self.counts[-1]) if len(self.seg_rows) else 0

    def seg_of_serials(self, serials: np.ndarray) -> np.ndarray:
        """Live segment of each serial (-1: unknown or dead)."""
        seg = np.searchsorted(self.seg_serials, serials, side="right") - 1
        safe = np.maximum(seg, 0)
        ok = (seg >= 0) & (serials - self.seg_serials[safe] < self.counts[safe]) & self.alive[safe]
        return np.where(ok, safe, -1)

    def seg_of_rows(self, rows: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.seg_rows, rows, side="right") - 1

    def table(self) -> VideoTable:
        if "table" not in self._cache:
            self._cache["table"] = VideoTable(self.videos)
        return self._cache["table"]

    def row_mask(self, seg_ok: np.ndarray) -> np.ndarray:
        """(end_row,) bool: the rows of the segments ``seg_ok`` marks."""
        chosen = np.flatnonzero(seg_ok)
        counts = self.counts[chosen]
        mask = np.zeros(self.end_row, bool)
        if counts.sum():
            firsts = np.repeat(self.seg_rows[chosen] - np.cumsum(counts) + counts, counts)
            mask[firsts + np.arange(int(counts.sum()))] = True
        return mask

    def live_mask(self) -> np.ndarray:
        if "live" not in self._cache:
            self._cache["live"] = self.row_mask(self.alive)
        return self._cache["live"]

    def codes(self, start: int, count: int) -> np.ndarray:
        block, row = divmod(start, BLOCK_ROWS)
        return self.blocks[block][row : row + count]

    def timing_of(self, start: int, count: int) -> np.ndarray:
        block, row = divmod(start, BLOCK_ROWS)
        return self.timing[block][row : row + count]

    def gather(self, rows: np.ndarray) -> np.ndarray:
        """The codes of some global rows (a copy)."""
        return _gather(self.blocks, rows, np.int8)

    def gather_fine(self, rows: np.ndarray) -> np.ndarray:
        """The residual codes of some global rows (a copy)."""
        return _gather(self.fine, rows, np.uint8)

    def gather_spill(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The clipped components of some global rows: (position in ``rows``, component, residual)."""
        spill_rows, dims, values = self.spill
        lo, hi = np.searchsorted(spill_rows, rows, side="left"), np.searchsorted(spill_rows, rows, side="right")
        counts = hi - lo
        at = _run_rows(lo, counts)
        return np.repeat(np.arange(len(rows)), counts), dims[at], values[at]


def _gather(blocks: tuple[np.ndarray, ...], rows: np.ndarray, dtype) -> np.ndarray:
    """Rows of blocks (a copy). np.take along the rows: 1.3-3.3 ms for the 20,480 rows of 1,024
    groups of 20, against 3.6-7.0 ms copying run by run and 4.4 ms indexing (round five, by hand).
    Rows in block order (the groups' rows are) are taken straight into their place, block by block:
    0.63x the time of taking each block's rows and then scattering them (round six, by hand)."""
    if len(rows) == 0:
        return np.empty((0, blocks[0].shape[1] if blocks else 0), dtype)
    which = rows // BLOCK_ROWS
    if which.min() == which.max():
        return blocks[int(which[0])].take(rows % BLOCK_ROWS, axis=0)
    out = np.empty((len(rows), blocks[0].shape[1]), dtype)
    if (which[1:] >= which[:-1]).all():
        edges = (np.flatnonzero(np.diff(which)) + 1).tolist()
        for lo, hi in zip([0, *edges], [*edges, len(rows)]):
            block = int(which[lo])  # mode="clip": no buffered copy (the rows are in range)
            np.take(blocks[block], rows[lo:hi] - block * BLOCK_ROWS, axis=0, out=out[lo:hi], mode="clip")
        return out
    for block in np.unique(which):
        chosen = which == block
        out[chosen] = blocks[int(block)].take(rows[chosen] % BLOCK_ROWS, axis=0)
    return out


def _sorted_spill(parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if not parts:
        return _no_spill()
    rows, dims, values = (np.concatenate([p[i] for p in parts]) for i in range(3))
    order = np.argsort(rows, kind="stable")
    return rows[order], dims[order], values[order]


def _run_rows(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The global rows of runs of consecutive rows, one run after the other."""
    total = int(lengths.sum())
    return np.repeat(starts, lengths) + np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)


def _no_spill() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.empty(0, np.int64), np.empty(0, np.int16), np.empty(0, np.float32)


def _state(blocks, seg_rows, seg_serials, counts, alive, videos: list[VideoRecord], live_scenes: int | None = None,
           fine=(), spill=None, timing=()) -> _State:
    """A state; ``live_scenes`` None: counted over the videos (O(videos); writes pass it)."""
    alive = np.asarray(alive, bool)
    counts = np.asarray(counts, np.int64)
    if live_scenes is None:
        live_scenes = sum(v.scene_count for v, a in zip(videos, alive) if a)
    return _State(
        tuple(blocks), np.asarray(seg_rows, np.int64), np.asarray(seg_serials, np.int64), counts, alive, videos,
        int(counts[alive].sum()), int(alive.sum()), live_scenes, tuple(fine), spill if spill is not None else _no_spill(),
        timing=tuple(timing),
    )


def _scale(vectors: np.ndarray) -> float:
    """The code scale for vectors like these: SCALE_QUANTILE of their components fit in int8."""
    return 127.0 / max(float(np.quantile(np.abs(vectors[:65_536]), SCALE_QUANTILE)), 1e-6)


def _read_only(block: np.ndarray) -> np.ndarray:
    """A loaded code block, read into memory rather than mapped: a mapped page that the page cache
    dropped (LevelDB's tables compete for it: 21 GB at 10M) costs a disk read in the middle of a
    search, which is what the slowest searches were made of. Saved blocks end at their last row,
    so appends go to a fresh block (see _append)."""
    block.flags.writeable = False
    return block


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)


def _pieces(count: int, group_moments: int) -> list[int]:
    """Where the runs of at most ``group_moments`` moments of a video of ``count`` moments start: as
    few runs as fit, of near-equal lengths (20 moments in runs of at most 6: 5, 5, 5, 5, not 6, 6, 6, 2)."""
    runs = max(1, -(-count // group_moments))
    return [(i * count) // runs for i in range(runs)]


def _group_starts(codes: np.ndarray, group_moments: int) -> np.ndarray:
    """Where a video's groups start (offsets into its moments), decided from its int8 codes only, so
    the same groups come out wherever the codes are: appending, rebuilding, dropping, replaying."""
    x = _unit(codes.astype(np.float32))
    starts: list[int] = []
    edges = _pieces(len(x), group_moments)
    for chunk, end in zip(edges, [*edges[1:], len(x)]):
        run = x[chunk:end]
        starts.append(chunk)
        if (run @ _unit(run.sum(axis=0))).min() >= GROUP_MIN_COSINE:
            continue  # the common case: one group for the run
        total = run[0].copy()
        for k in range(1, len(run)):
            if float(run[k] @ _unit(total)) < GROUP_MIN_COSINE:
                starts.append(chunk + k)
                total = run[k].copy()
            else:
                total += run[k]
    return np.asarray(starts, np.int64)


def _keys(serial: int, starts: np.ndarray, count: int) -> np.ndarray:
    lengths = np.diff(np.append(starts, count))
    return ((serial + starts) << KEY_LENGTH_BITS) | lengths


def _group_keys(serial: int, codes: np.ndarray, group_moments: int) -> np.ndarray:
    """Graph keys of a video's groups (its moments' codes decide the groups)."""
    return _keys(serial, _group_starts(codes, group_moments), len(codes))


def _groups(serial: int, vectors: np.ndarray, codes: np.ndarray, group_moments: int) -> tuple[np.ndarray, np.ndarray]:
    """Graph keys and unit mean vectors of a video's groups of moments."""
    starts = _group_starts(codes, group_moments)
    means = _unit(np.add.reduceat(vectors, starts, axis=0))
    return _keys(serial, starts, len(vectors)), means.astype(np.float32)


class QuantizedIndex:
    """int8 ranking with exact float32 re-scoring from the store; the same calls as MomentIndex.

    Mutations are serialized by the caller (the Searcher's write lock); searches run concurrently.
    """

    def __init__(self, store: SearcherStore, directory: Path, params: TierParams = TierParams()) -> None:
        self.store = store
        store.log_changes = True  # every write from now on is logged for the next start-up's replay
        self.directory = directory
        self.params = params
        self.dim = 0
        self.model_id = ""
        self.scale = 0.0  # code = round(vector * scale); 0 until the first rows fix it
        self._graph: HnswIndex | None = None
        self._state = _state([], [], [], [], [], [])
        self._video_segment: dict[str, int] = {}
        self._generation = 0
        self._saved_generation = -1
        self.build_seconds: float | None = None
        self.replayed = 0  # logged writes replayed at start-up
        self._tables_stop = threading.Event()
        self._tables: threading.Thread | None = None
        # Graph writes go through this lock, so that a graph being built in the background (an upgrade
        # of a format-4 graph) learns of every add and remove made meanwhile through _graph_log.
        self._graph_lock = threading.Lock()
        self._graph_log: list[tuple[str, np.ndarray, np.ndarray | None]] | None = None
        self._graph_dir = GRAPH_DIR  # the folder the loaded graph came from (FORMAT4_GRAPH_DIR: to upgrade)
        self._files: Path | None = None  # the loaded tier's folder
        self._upgrade: threading.Thread | None = None
        self.upgraded = False  # the background upgrade finished and its graph serves
        self._graph_unsaved = False  # the upgraded graph holds writes the saved tier does not: save at close

    # -- start-up ------------------------------------------------------------------

    def open(self) -> None:
        """Loads the saved tier and replays the writes logged since, or rebuilds it from the store."""
        stored = self.store.load_videos()
        self.dim = stored.collection.embedding_dim if stored.collection else 0
        self.model_id = stored.collection.model_id if stored.collection else ""
        self._generation = stored.generation
        if stored.collection is None:
            return
        if not self._load_saved(stored):
            self.rebuild()
        graph = self._graph
        if graph is not None and graph.projection is None and self._graph_dir != GRAPH_DIR \
                and self.params.projection_energy > 0:  # (0: never project, so nothing to upgrade to)
            # A format-4 graph (512-d) serves, exactly as before, until its projected successor is built
            # beside it from the codes in memory; then the successor takes over (see _upgrade_graph).
            self._upgrade = threading.Thread(target=self._upgrade_graph, name="upgrade-group-graph", daemon=True)
            self._upgrade.start()
        # Searches that read rows (exact re-scoring) should not wait for a table to open, but approximate
        # ones read none: the tables open in the background (16 s at 10M on a cold page cache) instead
        # of delaying SERVING; a read before its table is open pays ~2.7 ms once. save_ann (at close) stops it.
        self._tables = threading.Thread(target=self._open_tables, name="open-leveldb-tables", daemon=True)
        self._tables.start()

    def _open_tables(self) -> None:
        started = time.perf_counter()
        tables = self.store.open_every_table(self._tables_stop)
        log.info("opened %d LevelDB tables in %.1f s (in the background)", tables, time.perf_counter() - started)

    def _load_saved(self, stored: StoredVideos) -> bool:
        try:
            manifest = json.loads((self.directory / MANIFEST).read_text())
        except (OSError, ValueError):
            return False
        expected = {"model_id": self.model_id, "dim": self.dim, "block_rows": BLOCK_ROWS,
                    "group_moments": self.params.group_moments}
        if manifest.get("format") not in LOADABLE_FORMATS or {k: manifest.get(k) for k in expected} != expected:
            log.info("the saved quantized tier is of another collection (%s, want %s); rebuilding", manifest, expected)
            return False
        changes = self.store.changes_after(manifest["generation"])
        if changes is None:
            log.info("the store's change log does not reach back to the saved tier's generation %d; rebuilding",
                     manifest["generation"])
            return False
        started = time.perf_counter()
        files = self.directory / manifest["files"]
        # A format-4 tier may carry an upgraded graph beside its own (written by _upgrade_graph).
        graph_dirs = (GRAPH_DIR,) if manifest["format"] >= 5 else (GRAPH_DIR, FORMAT4_GRAPH_DIR)
        graph = None
        for graph_dir in graph_dirs:
            if (files / graph_dir / "manifest.json").exists():
                graph = HnswIndex.load_if_fresh(files / graph_dir, self.dim, self.params.graph,
                                                {"generation": manifest["generation"], "model_id": self.model_id})
            if graph is not None:
                self._graph_dir = graph_dir
                break
        try:
            table = np.load(files / "segments.npz")
            blocks = [_read_only(np.load(files / f"codes-{i}.npy")) for i in range(manifest["blocks"])]
            fine = [_read_only(np.load(files / f"fine-{i}.npy")) for i in range(manifest["blocks"])]
            # A tier saved before it kept the timing has no timing files: read once from the store below.
            timing_files = [files / f"timing-{i}.npy" for i in range(manifest["blocks"])]
            timing = [np.load(f) for f in timing_files] if all(f.exists() for f in timing_files) else []
            if graph is None or any(b.dtype != np.int8 or b.shape[1:] != (self.dim,) for b in blocks) \
                    or any(f.dtype != np.uint8 or f.shape != (len(b), (self.dim + 1) // 2) for f, b in zip(fine, blocks)) \
                    or any(t.dtype != TIMING_DTYPE or t.shape != (len(b),) for t, b in zip(timing, blocks)):
                raise ValueError("the graph or a code block is missing or of another shape")
            records = {s.serial_base: s.video for s in stored.videos}
            serials = table["seg_serials"]
            videos = [records.get(int(serial)) for serial in serials]
            alive = table["alive"] & np.array([v is not None for v in videos], bool)
            videos = [v if v is not None else _GONE for v in videos]
            with np.load(files / "spill.npz") as saved:
                spill = (saved["rows"], saved["dims"], saved["values"])
            state = _state(blocks, table["seg_rows"], serials, table["counts"], alive, videos, fine=fine, spill=spill,
                           timing=timing)
        except Exception:  # a damaged file just means a rebuild
            log.warning("cannot read the saved quantized tier; rebuilding", exc_info=True)
            return False
        if not state.timing:
            state = self._timing_from_store(state)
            _save_timing(files, state)
        self.scale, self._graph, self._state = float(manifest["scale"]), graph, state
        self._files = files
        self._video_segment = {v.video_id: i for i, v in enumerate(videos) if alive[i]}
        self._saved_generation = manifest["generation"]
        # Writes after the save: each touched video's saved rows go, what is stored now comes in.
        # The graph loses the groups of every version the log names (a saved version whose record
        # is gone is already dead in the table, but its groups would still take probe slots).
        for change in changes:
            if change.old_serials is not None:
                graph.remove(self._saved_group_keys(state, *change.old_serials, self.params.group_moments))
        for video_id in dict.fromkeys(c.video_id for c in changes):
            self._drop(video_id)
        by_id = {s.video.video_id: s for s in stored.videos}
        for video_id in dict.fromkeys(c.video_id for c in changes):
            found = by_id.get(video_id)
            if found is None:
                continue
            vectors = self.store.moment_vectors({video_id: (found.serial_base, None)}).get(video_id)
            details = self.store.get_scenes_and_moments(video_id, found.serial_base)
            if vectors is not None and details is not None:
                self._append(found.video, found.serial_base, vectors, row_columns(*details))
        live = {int(self._state.seg_serials[i]) for i in np.flatnonzero(self._state.alive)}
        if live != set(records) or self._state.live_rows != sum(s.video.moment_count for s in stored.videos):
            log.warning("the saved quantized tier does not match the store after replaying %d writes; rebuilding",
                        len(changes))
            return False
        self.replayed = len(changes)
        log.info("loaded the saved quantized tier (%d rows, generation %d; group graph %d-d from %s/) and replayed %d "
                 "writes in %.1f s", self._state.live_rows, manifest["generation"], graph.graph_dim, self._graph_dir,
                 len(changes), time.perf_counter() - started)
        return True

    def rebuild(self) -> None:
        """Codes and group means of every stored moment, from one scan of the store."""
        started = time.perf_counter()
        stored, chunks = self.store.scan_vectors()
        self._graph = None
        self._graph_dir = GRAPH_DIR
        waiting: list[tuple[np.ndarray, np.ndarray]] = []  # group keys and means until the projection is fitted
        self._generation = stored.generation
        # Segments go in serial order (so that a serial finds its segment by binary search): each
        # video's rows are placed first, then filled as the scan (in video id order) reaches it.
        order = np.argsort(np.array([v.serial_base for v in stored.videos], np.int64), kind="stable")
        row_of = np.empty(len(stored.videos), np.int64)
        at = 0
        for i in order.tolist():
            n = stored.videos[i].video.moment_count
            if at % BLOCK_ROWS + n > BLOCK_ROWS:
                at = (at // BLOCK_ROWS + 1) * BLOCK_ROWS
            row_of[i] = at
            at += n
        dim = stored.collection.embedding_dim if stored.collection else 0
        blocks = [np.empty((BLOCK_ROWS, dim), np.int8) for _ in range(-(-at // BLOCK_ROWS))]  # untouched pages cost nothing
        fine = [np.empty((BLOCK_ROWS, (dim + 1) // 2), np.uint8) for _ in blocks]
        spilled: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        seg, graph_seconds, done = 0, 0.0, 0
        try:
            for _serials, vectors in chunks:  # whole videos, in the order of stored.videos
                if self.scale == 0.0:
                    self.scale = _scale(vectors)
                codes = self.quantize(vectors)
                residuals = residual_codes(vectors, codes, self.scale)
                chunk_spill = spills(vectors, codes, self.scale)
                chunk_rows = np.empty(len(vectors), np.int64)  # the global row of each
                group_starts, keys, j = [], [], 0
                while j < len(vectors):
                    video = stored.videos[seg]
                    n = video.video.moment_count
                    block, row = divmod(int(row_of[seg]), BLOCK_ROWS)
                    blocks[block][row : row + n] = codes[j : j + n]
                    fine[block][row : row + n] = residuals[j : j + n]
                    chunk_rows[j : j + n] = row_of[seg] + np.arange(n)
                    starts = _group_starts(codes[j : j + n], self.params.group_moments)
                    group_starts.append(j + starts)
                    keys.append(_keys(video.serial_base, starts, n))
                    j, seg = j + n, seg + 1
                spilled.append((chunk_rows[chunk_spill[0]], chunk_spill[1], chunk_spill[2]))
                means = np.add.reduceat(vectors, np.concatenate(group_starts), axis=0)
                means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
                graph_started = time.perf_counter()
                if self._graph is None:  # the first projection_sample groups fit the projection
                    waiting.append((np.concatenate(keys), means.astype(np.float32)))
                    if sum(len(k) for k, _ in waiting) >= self.params.projection_sample:
                        self._start_graph(waiting)
                else:
                    self._add_groups(np.concatenate(keys), means.astype(np.float32))
                graph_seconds += time.perf_counter() - graph_started
                done += len(vectors)
                if done // 1_000_000 > (done - len(vectors)) // 1_000_000:  # a long build says how far it is
                    log.info("building the quantized tier: %d of %d rows in %.0f s", done, int(at), time.perf_counter() - started)
            if self._graph is None and waiting:
                self._start_graph(waiting)
        finally:
            chunks.close()
        videos = [stored.videos[i].video for i in order]
        self._state = self._timing_from_store(_state(
            blocks, row_of[order], [stored.videos[i].serial_base for i in order], [v.moment_count for v in videos],
            np.ones(len(videos), bool), videos, fine=fine, spill=_sorted_spill(spilled)))
        self._video_segment = {v.video_id: i for i, v in enumerate(videos)}
        self.build_seconds = time.perf_counter() - started
        log.info("built the quantized tier: %d rows, %d groups in %.1f s (the group graph %.1f s, the rest reading "
                 "LevelDB and writing codes)", self._state.live_rows, 0 if self._graph is None else len(self._graph),
                 self.build_seconds, graph_seconds)
        saved = time.perf_counter()
        self.save()
        log.info("saved the quantized tier in %.1f s", time.perf_counter() - saved)

    def save(self) -> None:
        """Writes the tier beside the store into a new folder, then the manifest naming it, then
        prunes the change log up to its generation: a crash at any point leaves a manifest that
        names whole files of the generation it states."""
        state, generation = self._state, self._generation
        if self._graph is None or not state.blocks:
            return
        name = f"tier-{generation}"
        files = self.directory / name
        shutil.rmtree(files, ignore_errors=True)
        files.mkdir(parents=True)
        end = state.end_row
        for i, block in enumerate(state.blocks):
            np.save(files / f"codes-{i}.npy", block[: max(0, min(BLOCK_ROWS, end - i * BLOCK_ROWS))])
            np.save(files / f"fine-{i}.npy", state.fine[i][: max(0, min(BLOCK_ROWS, end - i * BLOCK_ROWS))])
        _save_timing(files, state)
        np.savez(files / "spill.npz", rows=state.spill[0], dims=state.spill[1], values=state.spill[2])
        np.savez(files / "segments.npz", seg_rows=state.seg_rows, seg_serials=state.seg_serials, counts=state.counts,
                 alive=state.alive)
        with self._graph_lock:
            self._graph.save(files / GRAPH_DIR, {"generation": generation, "model_id": self.model_id})
            self._graph_dir = GRAPH_DIR
        body = {"format": FORMAT, "model_id": self.model_id, "dim": self.dim, "block_rows": BLOCK_ROWS,
                "group_moments": self.params.group_moments, "generation": generation, "files": name,
                "blocks": len(state.blocks), "scale": self.scale,
                "rows": state.live_rows}
        (self.directory / (MANIFEST + ".tmp")).write_text(json.dumps(body))
        (self.directory / (MANIFEST + ".tmp")).replace(self.directory / MANIFEST)
        for old in self.directory.glob("tier-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        self._saved_generation, self._graph_unsaved = generation, False
        self.store.prune_changes(generation)

    # -- what the Searcher asks ----------------------------------------------------

    @property
    def video_count(self) -> int:
        return self._state.live_videos

    @property
    def scene_count(self) -> int:
        return self._state.live_scenes

    @property
    def moment_count(self) -> int:
        return self._state.live_rows

    @property
    def ann_ready(self) -> bool:
        return self._graph is not None

    def video(self, video_id: str) -> VideoRecord | None:
        seg = self._video_segment.get(video_id)
        return None if seg is None else self._state.videos[seg]

    def set_model(self, model_id: str) -> None:
        self.model_id = model_id

    def replace_record(self, video: VideoRecord) -> None:
        seg = self._video_segment.get(video.video_id)
        if seg is not None:
            s = self._state
            videos = list(s.videos)
            videos[seg] = video
            self._state = _state(s.blocks, s.seg_rows, s.seg_serials, s.counts, s.alive, videos,
                                 s.live_scenes - s.videos[seg].scene_count + video.scene_count, s.fine, s.spill,
                                 s.timing)

    def save_ann(self) -> None:
        """At close (before the store closes): stops opening tables; the change log covers every write
        since the last save, so the tier is rewritten only once replaying them would take long."""
        self._tables_stop.set()
        if self._tables is not None:
            self._tables.join()
        if self._upgrade is not None:
            self._upgrade.join()
        if self._graph is not None and (self._generation - self._saved_generation > 10_000 or self._graph_unsaved):
            self.save()

    def wait_for_ann(self, timeout: float | None = None) -> bool:
        return self._graph is not None

    # -- writes (serialized by the caller) ------------------------------------------

    def upsert(self, video: VideoRecord, scenes: list[SceneRecord], vectors: np.ndarray, serial_base: int,
               generation: int, moments: list[MomentRecord] | None = None) -> None:
        if self.dim == 0:
            self.dim = vectors.shape[1]
        self._drop(video.video_id)
        self._append(video, serial_base, vectors, row_columns(scenes, moments if moments is not None else
                                                                 moments_of_scenes(scenes)))
        self._generation = generation
        self._maybe_compact()

    def delete(self, video_id: str, generation: int) -> None:
        self._drop(video_id)
        self._generation = generation
        self._maybe_compact()

    def clear(self) -> None:
        """The collection became empty (a new model may fill it): forget the tier and its files."""
        self._graph = None
        self._state = _state([], [], [], [], [], [])
        self._video_segment = {}
        self.dim = 0
        self.scale = 0.0
        (self.directory / MANIFEST).unlink(missing_ok=True)

    @staticmethod
    def _saved_group_keys(state: _State, serial: int, count: int, group_moments: int) -> np.ndarray:
        """Graph keys of the version with these serials, when the saved state holds its codes (a
        version written and replaced after the save never reached the saved graph)."""
        seg = int(np.searchsorted(state.seg_serials, serial))
        if seg < len(state.seg_serials) and state.seg_serials[seg] == serial and state.counts[seg] == count:
            return _group_keys(serial, state.codes(int(state.seg_rows[seg]), count), group_moments)
        return np.empty(0, np.int64)

    def _drop(self, video_id: str) -> None:
        seg = self._video_segment.pop(video_id, None)
        if seg is None:
            return
        s = self._state
        alive = s.alive.copy()
        alive[seg] = False
        # The state goes first, the graph write after it (as in _append): a graph upgrade that starts
        # its log between the two then builds from a state without this video, or logs the removal.
        self._state = _state(s.blocks, s.seg_rows, s.seg_serials, s.counts, alive, s.videos,
                             s.live_scenes - s.videos[seg].scene_count, s.fine, s.spill, s.timing)
        if self._graph is not None:
            self._remove_groups(_group_keys(int(s.seg_serials[seg]), s.codes(int(s.seg_rows[seg]), int(s.counts[seg])),
                                            self.params.group_moments))

    def _append(self, video: VideoRecord, serial_base: int, vectors: np.ndarray, columns: np.ndarray,
                add_groups: bool = True) -> None:
        """Writes a video's codes and timing (store.row_columns) past the end (older states never see
        rows past their segments)."""
        s = self._state
        if self.scale == 0.0:
            self.scale = _scale(vectors)
        n = len(vectors)
        if n > BLOCK_ROWS:
            raise ValueError(f"a video of {n} moments does not fit a code block of {BLOCK_ROWS} rows")
        blocks, fine, timing, at = list(s.blocks), list(s.fine), list(s.timing), s.end_row
        if not blocks or at // BLOCK_ROWS >= len(blocks) or at % BLOCK_ROWS + n > BLOCK_ROWS \
                or not blocks[at // BLOCK_ROWS].flags.writeable:
            at = len(blocks) * BLOCK_ROWS  # a fresh block: the rest of the last one stays unused
            blocks.append(np.empty((BLOCK_ROWS, vectors.shape[1]), np.int8))  # untouched pages cost nothing
            fine.append(np.empty((BLOCK_ROWS, (vectors.shape[1] + 1) // 2), np.uint8))
            timing.append(np.empty(BLOCK_ROWS, TIMING_DTYPE))
        block, row = divmod(at, BLOCK_ROWS)
        codes = blocks[block][row : row + n] = self.quantize(vectors)
        timing[block][row : row + n] = timing_rows(columns)
        fine[block][row : row + n] = residual_codes(vectors, codes, self.scale)
        new_rows, dims, values = spills(vectors, codes, self.scale)  # past every row so far: the order holds
        spill = (np.append(s.spill[0], at + new_rows), np.append(s.spill[1], dims), np.append(s.spill[2], values))
        self._video_segment[video.video_id] = len(s.videos)
        self._state = _state(blocks, np.append(s.seg_rows, at), np.append(s.seg_serials, serial_base),
                             np.append(s.counts, n), np.append(s.alive, True), [*s.videos, video],
                             s.live_scenes + video.scene_count, fine, spill, timing)
        if add_groups:
            self._add_groups(*_groups(serial_base, vectors, codes, self.params.group_moments))

    def _timing_from_store(self, state: _State) -> _State:
        """``state`` with every live segment's timing read from the store (one pass over its scenes and
        moments): a rebuild, or a tier saved before the timing was kept. A segment whose video the store
        holds in another version is left unfilled: replaying the change log drops it."""
        started = time.perf_counter()
        timing = [np.zeros(len(block), TIMING_DTYPE) for block in state.blocks]
        segment_of = {int(serial): i for i, serial in enumerate(state.seg_serials.tolist())}
        filled = 0
        for _video_id, serial, columns in self.store.iter_row_columns():
            seg = segment_of.get(serial)
            if seg is None or not state.alive[seg] or state.counts[seg] != columns.shape[1]:
                continue
            block, row = divmod(int(state.seg_rows[seg]), BLOCK_ROWS)
            timing[block][row : row + columns.shape[1]] = timing_rows(columns)
            filled += columns.shape[1]
        log.info("read the timing of %d of %d live rows from the store in %.1f s", filled, state.live_rows,
                 time.perf_counter() - started)
        return replace(state, timing=tuple(timing), _cache={})

    def _add_groups(self, keys: np.ndarray, means: np.ndarray) -> None:
        with self._graph_lock:
            if self._graph is None:
                self._graph = HnswIndex(self.dim, self.params.graph)
            self._graph.add(keys, means)
            if self._graph_log is not None:
                self._graph_log.append(("add", keys, means))

    def _remove_groups(self, keys: np.ndarray) -> None:
        with self._graph_lock:
            if self._graph is not None:
                self._graph.remove(keys)
            if self._graph_log is not None:
                self._graph_log.append(("remove", keys, None))

    def _fitted(self, sample: np.ndarray) -> np.ndarray | None:
        """The projection for a graph over groups like ``sample`` (unit means), or None."""
        if len(sample) < self.params.projection_min_groups or self.params.projection_energy <= 0:
            return None
        started = time.perf_counter()
        projection = fit_projection(sample, self.params.projection_energy)
        log.info("group graph: %s (fitted on %d group means, %.2f %% of their energy kept, %.1f s)",
                 "no projection: the means need every dimension" if projection is None else
                 f"{self.dim}-d means projected to {projection.shape[1]}-d", len(sample),
                 100 * kept_energy(sample, projection), time.perf_counter() - started)
        return projection

    def _start_graph(self, waiting: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """A rebuild's graph: the projection fitted on the first groups (``waiting``), which then go in."""
        keys, means = np.concatenate([k for k, _ in waiting]), np.concatenate([m for _, m in waiting])
        waiting.clear()
        sample = means[np.random.default_rng(0).permutation(len(means))[: self.params.projection_sample]]
        with self._graph_lock:
            self._graph = HnswIndex(self.dim, self.params.graph, self._fitted(sample))
        self._add_groups(keys, means)

    def _segment_groups(self, state: _State, segs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Graph keys and unit means of some segments' groups, from their int8 codes (within 0.5 / scale
        of the vectors in every component: the same groups, and means within ~1e-3 of a rebuild's)."""
        keys, means = [], []
        for seg in segs.tolist():
            codes = state.codes(int(state.seg_rows[seg]), int(state.counts[seg]))
            starts = _group_starts(codes, self.params.group_moments)
            keys.append(_keys(int(state.seg_serials[seg]), starts, len(codes)))
            means.append(np.add.reduceat(codes.astype(np.float32), starts, axis=0))
        if not keys:
            return np.empty(0, np.int64), np.empty((0, self.dim), np.float32)
        return np.concatenate(keys), _unit(np.concatenate(means)).astype(np.float32)

    def _upgrade_graph(self, chunk_segments: int = 5_000) -> None:
        """Builds a projected graph beside a format-4 one (which serves meanwhile) from the codes in
        memory, then swaps it in and saves it into the loaded tier's folder beside the old graph (the
        tier's manifest is left alone, so earlier code still loads the tier with its own graph). Writes
        made meanwhile reach the new graph through _graph_log; when there were any, the saved tier is
        not the state the new graph holds, so it is saved with the whole tier at close instead."""
        started = time.perf_counter()
        old = self._graph
        with self._graph_lock:
            self._graph_log = []
        state = self._state  # the log above catches every graph write after this state
        try:
            live = np.flatnonzero(state.alive)
            rng = np.random.default_rng(0)
            picked = rng.permutation(live)
            per_segment = max(1.0, len(old or ()) / max(len(live), 1))
            _, sample = self._segment_groups(state, picked[: int(self.params.projection_sample / per_segment) + 1])
            projection = self._fitted(sample)
            if projection is None:
                return
            graph = HnswIndex(self.dim, self.params.graph, projection)
            for lo in range(0, len(live), chunk_segments):
                if self._tables_stop.is_set() or self._graph is not old:
                    log.info("the group graph's upgrade stopped (closing or cleared)")
                    return
                graph.add(*self._segment_groups(state, live[lo : lo + chunk_segments]))
                if (lo // chunk_segments) % 20 == 19:
                    log.info("upgrading the group graph: %d of %d videos in %.0f s", lo + chunk_segments, len(live),
                             time.perf_counter() - started)
            with self._graph_lock:
                if self._graph is not old:
                    return
                for op, keys, means in self._graph_log or ():
                    graph.remove(keys)  # an add of a group already built from the state above replaces it
                    if op == "add" and means is not None:
                        graph.add(keys, means)
                clean = not self._graph_log and self._generation == self._saved_generation and self._files is not None
                self._graph, self._graph_log = graph, None
                if clean and self._files is not None:
                    graph.save(self._files / GRAPH_DIR, {"generation": self._saved_generation, "model_id": self.model_id})
                    self._graph_dir = GRAPH_DIR
                else:  # written since the saved tier: the next save (at close at the latest) writes it
                    self._graph_unsaved = True
            self.upgraded = True
            log.info("upgraded the group graph to %d-d in %.0f s (%s)", graph.graph_dim, time.perf_counter() - started,
                     "saved beside the format-4 graph" if clean else "saved with the tier at close")
        finally:
            with self._graph_lock:
                self._graph_log = None

    def wait_for_upgrade(self, timeout: float | None = None) -> bool:
        """Waits for a background upgrade of the group graph (if one runs); True once none runs."""
        if self._upgrade is not None:
            self._upgrade.join(timeout)
        return self._upgrade is None or not self._upgrade.is_alive()

    def quantize(self, vectors: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(vectors * self.scale), -127, 127).astype(np.int8)

    def _maybe_compact(self) -> None:
        """Rewrites the codes without dead rows once they are a quarter of all rows (the old blocks
        stay with older states until their searches end)."""
        s = self._state
        if s.end_row - s.live_rows <= max(BLOCK_ROWS // 4, s.end_row // 4):
            return
        keep = np.flatnonzero(s.alive)
        blocks: list[np.ndarray] = []
        fine: list[np.ndarray] = []
        timing: list[np.ndarray] = []
        rows = np.empty(len(keep), np.int64)
        at = 0
        for i, seg in enumerate(keep):
            n = int(s.counts[seg])
            if not blocks or at % BLOCK_ROWS + n > BLOCK_ROWS:
                at = len(blocks) * BLOCK_ROWS
                blocks.append(np.empty((BLOCK_ROWS, self.dim), np.int8))
                fine.append(np.empty((BLOCK_ROWS, (self.dim + 1) // 2), np.uint8))
                timing.append(np.empty(BLOCK_ROWS, TIMING_DTYPE))
            old = np.arange(int(s.seg_rows[seg]), int(s.seg_rows[seg]) + n)
            blocks[-1][at % BLOCK_ROWS : at % BLOCK_ROWS + n] = s.codes(int(s.seg_rows[seg]), n)
            fine[-1][at % BLOCK_ROWS : at % BLOCK_ROWS + n] = s.gather_fine(old)
            timing[-1][at % BLOCK_ROWS : at % BLOCK_ROWS + n] = s.timing_of(int(s.seg_rows[seg]), n)
            rows[i] = at
            at += n
        videos = [s.videos[i] for i in keep]
        new_row_of_seg = np.full(len(s.seg_rows), -1, np.int64)
        new_row_of_seg[keep] = rows
        spill_segs = s.seg_of_rows(s.spill[0])
        kept = new_row_of_seg[spill_segs] >= 0  # segments keep their order, so the rows stay sorted
        spill = (new_row_of_seg[spill_segs[kept]] + s.spill[0][kept] - s.seg_rows[spill_segs[kept]],
                 s.spill[1][kept], s.spill[2][kept])
        self._state = _state(blocks, rows, s.seg_serials[keep], s.counts[keep], np.ones(len(keep), bool), videos,
                             fine=fine, spill=spill, timing=timing)
        self._video_segment = {v.video_id: i for i, v in enumerate(videos)}
        log.info("compacted the quantized codes: %d dead rows dropped", s.end_row - s.live_rows)

    # -- ranking -------------------------------------------------------------------

    def rank(self, query: np.ndarray, params: SearchParams, candidates: Candidates = Candidates()) -> Ranked:
        state, graph = self._state, self._graph
        if graph is None or state.live_rows == 0:
            return Ranked([], [])
        seg_ok, excluded_rows = self._allowed(state, candidates) if candidates.restricts else (None, None)
        q8 = self.quantize(query)[None]
        allowed_share = 1.0 if seg_ok is None else seg_ok.sum() / max(state.live_videos, 1)
        if params.approximate and allowed_share >= ANN_MIN_FILTER_FRACTION:
            probe = self.params.probe if params.mode == "videos" else self.params.scene_probe or max(64, self.params.probe // 4)
            probe = max(probe, 8 * params.top_k)
            rows, segs, codes = self._group_rows(state, graph, query, probe, allowed_share)
            if seg_ok is not None:
                keep = seg_ok[segs]
                rows, segs, codes = rows[keep], segs[keep], codes[keep]
            scores = _dots(q8, codes)
        else:  # every (allowed) row's code
            rows = np.flatnonzero(state.live_mask() if seg_ok is None else state.row_mask(seg_ok))
            bounds = np.searchsorted(rows, np.arange(len(state.blocks) + 1) * BLOCK_ROWS)
            parts = []
            for block, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
                if hi > lo:  # score the block up to its last wanted row, then keep the wanted ones
                    local = rows[lo:hi] - block * BLOCK_ROWS
                    parts.append(_dots(q8, state.blocks[block][: local[-1] + 1])[local])
            scores = np.concatenate(parts) if parts else np.empty(0, np.float32)
            segs = state.seg_of_rows(rows)
        if excluded_rows is not None and excluded_rows.size:
            scores[np.isin(rows, excluded_rows)] = -np.inf
        want = max(self.params.candidates, 3 * params.top_k) if params.mode == "scenes" else 32 * params.top_k
        best = top_candidates(scores, want)
        best = best[np.argsort(-scores[best], kind="stable")][: max(want, 1)]
        rows, segs, scores = rows[best], segs[best], scores[best]
        offsets = rows - state.seg_rows[segs]
        codes = state.gather(rows)
        # Approximate searches score their candidates from memory (the residual codes: within about
        # 1e-3 of the cosine, typically 3e-5) and read no row; min_score and MEAN read as
        # approximate=false does (a cut at an absolute score; means over moments never looked at).
        refined = refined_scores(query, codes, state.gather_fine(rows), self.scale, state.gather_spill(rows))[0] \
            if self.params.refine and params.approximate and state.fine and candidates.min_score is None \
            and params.video_scoring != "mean" else None
        upper = upper_bounds(query, codes, self.scale) if refined is None else np.full(len(codes), np.inf)
        if params.mode == "scenes":
            return Ranked([], self._rank_scenes(state, query, segs, offsets, upper, params.top_k, candidates.min_score,
                                                refined), params.approximate)
        return Ranked(self._rank_videos(state, query, scores, upper, segs, offsets, params, candidates, refined), [],
                      params.approximate)

    def _group_rows(self, state: _State, graph: HnswIndex, query: np.ndarray, probe: int,
                    allowed_share: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows (global) of the groups the graph proposes, in row order, the segment of each and their codes."""
        keys = graph.search(query, int(probe / allowed_share) + 1).astype(np.int64)
        firsts, lengths = keys >> KEY_LENGTH_BITS, keys & ((1 << KEY_LENGTH_BITS) - 1)
        segs = state.seg_of_serials(firsts)
        firsts, lengths, segs = firsts[segs >= 0], lengths[segs >= 0], segs[segs >= 0]
        offsets = firsts - state.seg_serials[segs]
        lengths = np.minimum(lengths, state.counts[segs] - offsets)
        starts = state.seg_rows[segs] + offsets
        order = np.argsort(starts, kind="stable")  # in row order: the copy walks memory forwards
        starts, lengths, segs = starts[order], lengths[order], segs[order]
        rows = _run_rows(starts, lengths)
        return rows, np.repeat(segs, lengths), state.gather(rows)

    def _allowed(self, state: _State, candidates: Candidates) -> tuple[np.ndarray, np.ndarray]:
        """(segments the filter keeps, global rows of excluded moments)."""
        seg_ok = state.alive.copy()
        if candidates.video_filter is not None:
            matches = state.table().matches(candidates.video_filter)
            if matches is not None:
                seg_ok &= matches
        excluded = []
        for video_id, moments in candidates.excluded.items():
            seg = self._video_segment.get(video_id)
            if seg is None or seg >= len(state.seg_rows) or state.videos[seg].video_id != video_id:
                continue
            count = int(state.counts[seg])
            if moments is None:
                seg_ok[seg] = False
            else:
                local = np.asarray([m for m in moments if 0 <= m < count], np.int64)
                excluded.append(state.seg_rows[seg] + local)
        return seg_ok, (np.concatenate(excluded) if excluded else np.empty(0, np.int64))

    # -- exact re-scoring ------------------------------------------------------------

    def _exact(self, state: _State, query: np.ndarray, rows: dict[int, list[int] | None]) -> dict[int, np.ndarray]:
        """Exact float32 scores of some moments (None: every moment) per segment, from one store
        snapshot; a segment whose video was replaced or deleted since is left out."""
        wanted = {state.videos[s].video_id: (int(state.seg_serials[s]), m) for s, m in rows.items()}
        vectors = self.store.moment_vectors(wanted)
        # Row by row (a product with a matrix may round differently with the rows beside it): a
        # moment's score does not depend on which other moments one search happened to read.
        return {s: (vectors[state.videos[s].video_id] * query).sum(axis=1) for s in rows
                if state.videos[s].video_id in vectors}

    def _rank_scenes(self, state: _State, query, segs: np.ndarray, offsets: np.ndarray, upper: np.ndarray, k: int,
                     min_score: float | None, refined: np.ndarray | None = None) -> list[MomentHit]:
        def rescore(chosen: np.ndarray) -> np.ndarray:
            by_seg: dict[int, list[int]] = {}
            for i in chosen.tolist():
                by_seg.setdefault(int(segs[i]), []).append(i)
            exact = self._exact(state, query, {seg: offsets[items].tolist() for seg, items in by_seg.items()})
            scores = dict.fromkeys(chosen.tolist(), -np.inf)
            for seg, items in by_seg.items():
                if seg in exact:
                    scores.update(zip(items, exact[seg].tolist()))
            out = np.fromiter((scores[i] for i in chosen.tolist()), np.float32, len(chosen))
            if min_score is not None:
                out[out < min_score] = -np.inf
            return out

        if refined is None:
            chosen, scores = settle(upper, k, rescore)
        else:
            chosen, scores = np.arange(len(refined)), refined.astype(np.float32)
        picked = ordered(top_candidates(scores, k), scores,
                         lambda j: (state.videos[segs[chosen[j]]].video_id, int(offsets[chosen[j]])), k)
        return self._hits(state, [(int(segs[chosen[j]]), int(offsets[chosen[j]]), float(scores[j])) for j in picked])

    def _rank_videos(self, state: _State, query, scores: np.ndarray, upper: np.ndarray, segs: np.ndarray,
                     offsets: np.ndarray, params: SearchParams, candidates: Candidates,
                     refined: np.ndarray | None = None) -> list[VideoHit]:
        # Candidates arrive best first: each video keeps its best few rows by int8 score (its
        # exact best is among them unless int8 rounding reorders more than that many rows).
        per_video = max(2, params.scenes_per_video)
        if refined is not None:
            return self._rank_videos_refined(state, segs, offsets, refined, per_video, params)
        best: dict[int, float] = {}
        bound: dict[int, float] = {}  # the highest exact score any of a video's kept rows can have
        rows: dict[int, list[int]] = {}
        for score, ub, s, o in zip(scores.tolist(), upper.tolist(), segs.tolist(), offsets.tolist()):
            mine = rows.setdefault(s, [])
            if len(mine) < per_video:
                mine.append(o)
                bound[s] = max(bound.get(s, -np.inf), ub)
            best.setdefault(s, score)
        shortlist = sorted(best, key=lambda s: -best[s])[: 2 * params.top_k + 4]
        mean = params.video_scoring == "mean"
        local_scores: dict[int, tuple[np.ndarray, np.ndarray]] = {}

        def rescore(chosen: np.ndarray) -> np.ndarray:
            segments = [shortlist[i] for i in chosen.tolist()]
            exact = self._exact(state, query, {s: None if mean else rows[s] for s in segments})
            for s in segments:
                if s not in exact:
                    continue
                local = exact[s].astype(np.float32)
                moments = np.arange(len(local)) if mean else np.asarray(rows[s])
                if mean:  # every moment counts except excluded ones (and those under min_score)
                    excluded = candidates.excluded.get(state.videos[s].video_id, ())
                    local[np.asarray([m for m in excluded if 0 <= m < len(local)], np.int64)] = -np.inf
                if candidates.min_score is not None:
                    local[local < candidates.min_score] = -np.inf
                local_scores[s] = (moments, local)
            return np.array([_video_score(local_scores[s][1], mean) if s in local_scores else -np.inf
                             for s in segments], np.float32)

        # MAX: a video's score is one of its kept rows' exact scores, so their bounds bound it. MEAN
        # averages moments whose codes were not looked at: every shortlisted video is re-scored.
        video_upper = np.full(len(shortlist), np.inf) if mean else np.array([bound[s] for s in shortlist])
        chosen, seg_scores = settle(video_upper, params.top_k, rescore)
        kept = [shortlist[i] for i in chosen.tolist()]
        picked = ordered(top_candidates(seg_scores, params.top_k), seg_scores,
                         lambda i: (state.videos[kept[i]].video_id,), params.top_k)
        hits = []
        for i in picked:
            s = kept[i]
            moments, local = local_scores[s]
            listed = [(s, int(moments[j]), float(local[j])) for j in best_scenes(local, params.scenes_per_video)
                      if np.isfinite(local[j])]
            hits.append(VideoHit(state.videos[s], float(seg_scores[i]), self._hits(state, listed)))
        return hits

    def _rank_videos_refined(self, state: _State, segs: np.ndarray, offsets: np.ndarray, refined: np.ndarray,
                             per_video: int, params: SearchParams) -> list[VideoHit]:
        """Videos by MAX from the residual codes' estimates (no reads, so every candidate video counts):
        a video's score is the best estimate of its first ``per_video`` candidates (they arrive best
        first by int8 score); array operations over the candidates, no loop per candidate."""
        videos, inverse = np.unique(segs, return_inverse=True)
        counts = np.bincount(inverse, minlength=len(videos))
        by_video = np.argsort(inverse, kind="stable")  # each video's candidates together, in candidate order
        place = np.empty(len(segs), np.int64)
        place[by_video] = np.arange(len(segs)) - np.repeat(np.cumsum(counts) - counts, counts)
        kept = np.flatnonzero(place < per_video)
        estimate = np.full(len(videos), -np.inf)
        np.maximum.at(estimate, inverse[kept], refined[kept])
        seg_scores = estimate.astype(np.float32)
        picked = ordered(top_candidates(seg_scores, params.top_k), seg_scores,
                         lambda i: (state.videos[videos[i]].video_id,), params.top_k)
        hits = []
        for i in picked:
            s, mine = int(videos[i]), kept[inverse[kept] == i]
            local = refined[mine].astype(np.float32)
            listed = [(s, int(offsets[mine[j]]), float(local[j])) for j in best_scenes(local, params.scenes_per_video)
                      if np.isfinite(local[j])]
            hits.append(VideoHit(state.videos[s], float(seg_scores[i]), self._hits(state, listed)))
        return hits

    @staticmethod
    def _hits(state: _State, chosen: list[tuple[int, int, float]]) -> list[MomentHit]:
        """Scene hits of (segment, moment index, score), their timing from memory (the state's own version
        of each video: no store read)."""
        hits = []
        for s, m, score in chosen:
            block, row = divmod(int(state.seg_rows[s]) + m, BLOCK_ROWS)
            columns = state.timing[block]
            hits.append(MomentHit(state.videos[s].video_id, scene_at(columns, row), score, moment_at(columns, row, m)))
        return hits


# Stands in for the record of a saved segment whose video is gone (the segment is dead).
_GONE = VideoRecord("", "", 0.0, Fraction(1), 0, 0, 0, "", "", 0)


def _save_timing(files: Path, state: _State) -> None:
    """The timing blocks beside the code blocks (each written whole before its name appears)."""
    end = state.end_row
    for i, timing in enumerate(state.timing):
        np.save(files / f"timing-{i}.tmp.npy", timing[: max(0, min(BLOCK_ROWS, end - i * BLOCK_ROWS))])
        (files / f"timing-{i}.tmp.npy").replace(files / f"timing-{i}.npy")


def _dots(q8: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """int8 dot products of one quantized query with rows of codes (VNNI where the CPU has it)."""
    if len(codes) == 0:
        return np.empty(0, np.float32)
    return np.asarray(numkong.cdist(q8, np.ascontiguousarray(codes), metric="dot"))[0].astype(np.float32)


def _video_score(local: np.ndarray, mean: bool) -> float:
    finite = local[np.isfinite(local)]
    if finite.size == 0:
        return -np.inf
    return float(finite.mean() if mean else finite.max())


def choose_precision(precision: str, store: SearcherStore, threshold: int) -> str:
    """float32 or int8 for ``precision`` (auto: int8 once the store holds ``threshold`` moments;
    decided at start-up, so a collection that grows past it switches at the next restart)."""
    if precision not in PRECISIONS:
        raise ValueError(f"ranking precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision != "auto":
        return precision
    if store.next_serial() < threshold:  # serials are never reused: an upper bound of the moments
        return "float32"
    moments = sum(s.video.moment_count for s in store.load_videos().videos)
    return "int8" if moments >= threshold else "float32"
