"""Each moment's timing and its scene's, one row per moment, kept in memory by both rankings so that
a hit is assembled without reading the store.

The float32 tier keeps them as columns beside its matrix; the quantized tier as blocks of
``TIMING_DTYPE`` rows beside its codes (76 B a moment: 0.76 GB at 10M moments). Reading them from
the store instead took three LevelDB gets and two JSON parses per hit video: about 2 ms of a videos
search at 10M, and up to 17 ms when the pages were cold (docs/performance.md, round six).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from videosearch.searcher.storage.store import ROW_COLUMNS
from videosearch.searcher.types import MomentRecord, SceneRecord

_KINDS = {"frame": np.int64, "seconds": np.float64, "sampled_frames": np.int32, "scene_index": np.int32}
# The type of each of ROW_COLUMNS: frames and seconds exactly as the store holds them.
ROW_KINDS = {name: next(kind for part, kind in _KINDS.items() if name.endswith(part)) for name in ROW_COLUMNS}
TIMING_DTYPE = np.dtype([(name, kind) for name, kind in ROW_KINDS.items()])


def timing_rows(columns: np.ndarray) -> np.ndarray:
    """(moments,) TIMING_DTYPE rows of store.row_columns' (len(ROW_COLUMNS), moments) float64."""
    out = np.empty(columns.shape[1], TIMING_DTYPE)
    for position, name in enumerate(ROW_COLUMNS):
        out[name] = columns[position]
    return out


def scene_at(columns: Mapping[str, np.ndarray] | np.ndarray, row: int) -> SceneRecord:
    """The scene of a row: ``columns`` maps each of ROW_COLUMNS to a column (a dict of arrays or TIMING_DTYPE rows)."""
    return SceneRecord(
        index=int(columns["scene_index"][row]),
        start_frame=int(columns["scene_start_frame"][row]),
        end_frame=int(columns["scene_end_frame"][row]),
        start_seconds=float(columns["scene_start_seconds"][row]),
        end_seconds=float(columns["scene_end_seconds"][row]),
        sampled_frames=int(columns["scene_sampled_frames"][row]),
    )


def moment_at(columns: Mapping[str, np.ndarray] | np.ndarray, row: int, index: int) -> MomentRecord:
    """The moment of a row, moment ``index`` of its video (see scene_at for ``columns``)."""
    return MomentRecord(
        index=index,
        scene_index=int(columns["scene_index"][row]),
        start_frame=int(columns["start_frame"][row]),
        end_frame=int(columns["end_frame"][row]),
        start_seconds=float(columns["start_seconds"][row]),
        end_seconds=float(columns["end_seconds"][row]),
        sampled_frames=int(columns["sampled_frames"][row]),
    )
