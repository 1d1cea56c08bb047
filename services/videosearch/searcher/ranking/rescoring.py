"""Exact re-scoring of only the candidates that could still make the top k.

The quantized tier re-scores its candidates from the float32 vectors in LevelDB, one read per
row, and most of them cannot end in the top k: their int8 code already says so. An int8 code
``c = clip(rint(x * scale), -127, 127)`` of a unit row ``x`` that no clipping touched is off by at
most 0.5 in every component, so for any query ``q``

    |q . x - q . c / scale| <= 0.5 * |q|_1 / scale

(on the bench's data about 0.012, against typical gaps between the 10th and the 30th best row of a
few hundredths). A row with a component at +-127 may have been clipped: its error has no such bound
and it is always re-scored. ``settle`` re-scores the best few by this upper bound, then every other
candidate whose bound reaches the k-th best exact score found: one left out scores strictly below
it, so the top k (ties included) are those that re-scoring every candidate would give.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# float32 dot products of 512 components of unit vectors are off by at most about 3e-5 (the exact
# scores are float32 sums); the bound leaves room for that.
FLOAT_SLACK = 1e-4
# Rows re-scored in the first round beyond k: the k-th exact score they give sets the cut for the rest.
FIRST_ROUND_EXTRA = 2


def upper_bounds(query: np.ndarray, codes: np.ndarray, scale: float) -> np.ndarray:
    """(rows,) an upper bound of each row's exact score ``query . x`` from its int8 code alone (inf
    where a component may have been clipped)."""
    q = query.astype(np.float64)
    estimate = codes.astype(np.float64) @ q / scale
    slack = 0.5 * float(np.abs(q).sum()) / scale + FLOAT_SLACK * max(1.0, float(np.linalg.norm(q)))
    clipped = (codes.max(axis=1, initial=-127) >= 127) | (codes.min(axis=1, initial=127) <= -127)
    return np.where(clipped, np.inf, estimate + slack)


def settle(upper: np.ndarray, k: int, rescore: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Exact scores of just the items that could be among the top ``k``.

    ``upper[i]`` bounds item i's exact score; ``rescore(items)`` returns the exact scores of those
    items (-inf for one that no longer counts: gone, under min_score). Returns (the items re-scored,
    their exact scores); every other item scores strictly below the k-th best of these.
    """
    order = np.argsort(-upper, kind="stable")
    first, rest = order[: k + FIRST_ROUND_EXTRA], order[k + FIRST_ROUND_EXTRA :]
    exact = np.asarray(rescore(first), np.float32)
    finite = exact[np.isfinite(exact)]
    kth = float(np.partition(finite, len(finite) - k)[len(finite) - k]) if len(finite) >= k else -np.inf
    rest = rest[upper[rest] >= kth]
    if len(rest) == 0:
        return first, exact
    return np.concatenate([first, rest]), np.concatenate([exact, np.asarray(rescore(rest), np.float32)])
