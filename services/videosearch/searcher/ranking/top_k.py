"""Deterministic top-k selection: score descending, then video id, then scene index.

np.argpartition alone picks an arbitrary subset among equal scores at the cut,
so every candidate scoring at least the k-th best score is kept and the final
order is decided by a full sort of that (small) set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np


def top_candidates(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of every finite score >= the k-th largest finite score (unordered).

    Returns more than k indices only when scores tie at the cut.
    """
    n = scores.shape[0]
    if k <= 0 or n == 0:
        return np.empty(0, dtype=np.int64)
    if k < n:
        part = np.argpartition(scores, n - k)[n - k :]
        threshold = scores[part].min()
        if threshold == -np.inf:
            candidates = np.flatnonzero(scores > -np.inf)
        else:
            candidates = np.flatnonzero(scores >= threshold)
    else:
        candidates = np.flatnonzero(scores > -np.inf)
    return candidates


def ordered(candidates: np.ndarray, scores: np.ndarray, tiebreak: Callable[[int], tuple], k: int) -> list[int]:
    """The first k candidates by (score desc, tiebreak(i) asc)."""
    return sorted(candidates.tolist(), key=lambda i: (-float(scores[i]), *tiebreak(i)))[:k]


def best_scenes(local_scores: np.ndarray, k: int) -> Sequence[int]:
    """Positions of the k best scenes of one video: score desc, then scene index asc."""
    order = np.lexsort((np.arange(local_scores.shape[0]), -local_scores))
    return order[:k].tolist()
