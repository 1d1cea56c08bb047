"""Approximate nearest-neighbour index over scene vectors: usearch HNSW.

usearch rather than faiss: on this 2-core machine it builds an HNSW graph of
512-d vectors several times faster, supports removing keys (so deleted videos
leave the graph instead of being filtered forever), and stores vectors as int8,
which keeps the ANN copy at a quarter of the float32 matrix (memory target:
everything <= 1.5x the raw float32 vector bytes). The int8 scores are only used
to pick candidates; the caller re-scores candidates exactly from the float32
matrix, which is what brings recall@10 back up.

Keys are scene *serials* (see store.py), stable across restarts and compaction.
"""

from __future__ import annotations

import json
import logging
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from usearch.index import Index

log = logging.getLogger(__name__)


# Defaults of the Searcher's approximate index, used by the index, the service and the settings.
DEFAULT_ANN_MODE = "auto"
DEFAULT_ANN_THRESHOLD = 200_000  # scenes from which ann=auto builds the index
DEFAULT_ANN_CANDIDATES = 64  # fewest candidates proposed for exact re-scoring


@dataclass(frozen=True)
class AnnParams:
    connectivity: int = 16  # HNSW M
    expansion_add: int = 64  # efConstruction
    expansion_search: int = 128  # efSearch (raised to the candidate count when that is larger)
    dtype: str = "i8"


class RWLock:
    """Many readers or one writer (searches run concurrently; add/remove are exclusive)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextmanager
    def read(self):
        with self._cond:
            while self._writing:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if self._readers == 0:
                    self._cond.notify_all()

    @contextmanager
    def write(self):
        with self._cond:
            while self._writing or self._readers:
                self._cond.wait()
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


PROJECTION_FILE = "projection.npy"


class HnswIndex:
    """A usearch HNSW index (inner product) keyed by scene serial.

    With a ``projection`` (a (dim, d) matrix, projection.py) the graph holds ``vectors @ projection``
    and a query is projected the same way: callers add and search ``dim``-d vectors either way.
    """

    def __init__(self, dim: int, params: AnnParams, projection: np.ndarray | None = None) -> None:
        self.dim = dim
        self.params = params
        if projection is not None and (projection.ndim != 2 or projection.shape[0] != dim):
            raise ValueError(f"a projection of {dim}-d vectors must have {dim} rows, got shape {projection.shape}")
        self.projection = None if projection is None else np.ascontiguousarray(projection, dtype=np.float32)
        # The projection energy at which a fit found that these vectors need every dimension (None:
        # never checked): saved in the manifest, so that a graph that needs them is not refitted at every start.
        self.unprojected_at: float | None = None
        self._index = Index(
            ndim=dim if projection is None else projection.shape[1],
            metric="ip",
            dtype=params.dtype,
            connectivity=params.connectivity,
            expansion_add=params.expansion_add,
            expansion_search=params.expansion_search,
        )
        self._lock = RWLock()

    def __len__(self) -> int:
        return len(self._index)

    @property
    def memory_bytes(self) -> int:
        return int(self._index.memory_usage)

    @property
    def graph_dim(self) -> int:
        """The dimension of the vectors the graph holds (the projection's, or ``dim``)."""
        return self.dim if self.projection is None else self.projection.shape[1]

    def _projected(self, vectors: np.ndarray) -> np.ndarray:
        vectors = np.asarray(vectors, dtype=np.float32)
        return np.ascontiguousarray(vectors if self.projection is None else vectors @ self.projection)

    def add(self, keys: np.ndarray, vectors: np.ndarray, threads: int = 0) -> None:
        if len(keys) == 0:
            return
        projected = self._projected(vectors)
        with self._lock.write():
            self._index.add(np.asarray(keys, dtype=np.uint64), projected, threads=threads)

    def remove(self, keys: np.ndarray) -> None:
        if len(keys) == 0:
            return
        with self._lock.write():
            self._index.remove(np.asarray(keys, dtype=np.uint64))

    def search(self, query: np.ndarray, count: int) -> np.ndarray:
        """Keys of about ``count`` nearest scenes (by approximate inner product)."""
        with self._lock.read():
            count = min(count, len(self._index))
            if count == 0:
                return np.empty(0, dtype=np.uint64)
            matches = self._index.search(self._projected(query), count, threads=1)
        return np.asarray(matches.keys, dtype=np.uint64)

    def save(self, directory: Path, manifest: dict) -> None:
        """Writes the index and a manifest saying which store state it reflects."""
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock.read():
            self._index.save(str(directory / "hnsw.usearch.tmp"))
        (directory / "hnsw.usearch.tmp").replace(directory / "hnsw.usearch")
        body = {**manifest, "dim": self.dim, "params": asdict(self.params)}
        if self.projection is not None:  # a graph without one keeps the manifest earlier versions wrote
            np.save(directory / (PROJECTION_FILE + ".tmp.npy"), self.projection)
            (directory / (PROJECTION_FILE + ".tmp.npy")).replace(directory / PROJECTION_FILE)
            body["projection_dim"] = self.graph_dim
        self._write_manifest(directory, body)

    def save_marker(self, directory: Path) -> None:
        """Rewrites only the manifest of this graph's saved files (the same graph, now marked with
        ``unprojected_at``): one atomic replace, so a crash leaves the old manifest or the new one."""
        body = json.loads((directory / "manifest.json").read_text())
        self._write_manifest(directory, body)

    def _write_manifest(self, directory: Path, body: dict) -> None:
        body.pop("unprojected_at", None)
        if self.unprojected_at is not None:  # a graph without one keeps the manifest earlier versions wrote
            body["unprojected_at"] = self.unprojected_at
        (directory / "manifest.json.tmp").write_text(json.dumps(body))
        (directory / "manifest.json.tmp").replace(directory / "manifest.json")

    @classmethod
    def load_if_fresh(cls, directory: Path, dim: int, params: AnnParams, manifest: dict) -> "HnswIndex | None":
        """The saved index when its manifest matches ``manifest`` (same store generation etc.)."""
        try:
            saved = json.loads((directory / "manifest.json").read_text())
        except (OSError, ValueError):
            return None
        projected = saved.pop("projection_dim", None) if isinstance(saved, dict) else None
        unprojected_at = saved.pop("unprojected_at", None) if isinstance(saved, dict) else None
        expected = {**manifest, "dim": dim, "params": asdict(params)}
        if saved != expected:
            log.info("saved ANN index is stale (%s != %s); rebuilding", saved, expected)
            return None
        try:
            projection = None if projected is None else np.load(directory / PROJECTION_FILE)
            if projection is not None and (projection.shape != (dim, projected) or projection.dtype != np.float32):
                raise ValueError(f"the projection's shape {projection.shape} is not ({dim}, {projected})")
            index = cls(dim, params, projection)
            index.unprojected_at = None if unprojected_at is None else float(unprojected_at)
            index._index.load(str(directory / "hnsw.usearch"))
            if index._index.ndim != index.graph_dim:
                raise ValueError(f"the saved graph holds {index._index.ndim}-d vectors, not {index.graph_dim}-d")
        except Exception:  # a damaged file just means a rebuild
            log.warning("cannot load the saved ANN index; rebuilding", exc_info=True)
            return None
        return index

    @staticmethod
    def discard(directory: Path) -> None:
        (directory / "manifest.json").unlink(missing_ok=True)
