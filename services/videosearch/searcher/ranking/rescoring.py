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


# -- re-scoring from memory: the int8 code plus a 4-bit code of what it left out ------------------------
#
# Reading a row from LevelDB costs a disk read once the store outgrows the page cache (10M moments: 20 GB
# of float32 rows; ~3 ms a cold read here), and a videos search read ~20 videos. The residual of an
# unclipped int8 code, ``x * scale - code``, lies in [-0.5, 0.5] in every component; 4 bits of it
# (half a byte a component: 2.5 GB at 10M and 512-d) leave at most 1/30 of a code step, so
#
#     |q . x - q . (code + residual) / scale| <= |q|_1 / (30 * scale)
#
# (about 8e-4 on the bench's data; the typical error is some 30 times smaller). Scores within that
# bound decide the top k without reading a row wherever the intervals of the k-th and the next
# candidates do not overlap; ``settle_within`` reads exactly just the candidates whose interval
# crosses the cut.

RESIDUAL_LEVELS = 15  # 4 bits: levels 0..15 stand for residuals -0.5 + level / 15


def residual_codes(vectors: np.ndarray, codes: np.ndarray, scale: float) -> np.ndarray:
    """(rows, ceil(dim / 2)) uint8: each row's residual ``vectors * scale - codes`` in 4 bits a
    component, two components a byte (meaningless where a component was clipped: see refined_scores)."""
    residual = vectors.astype(np.float32) * np.float32(scale) - codes.astype(np.float32)
    levels = np.clip(np.rint((residual + 0.5) * RESIDUAL_LEVELS), 0, RESIDUAL_LEVELS).astype(np.uint8)
    if levels.shape[1] % 2:
        levels = np.pad(levels, ((0, 0), (0, 1)))
    return (levels[:, 0::2] << 4) | levels[:, 1::2]


def refined_scores(query: np.ndarray, codes: np.ndarray, residuals: np.ndarray, scale: float
                   ) -> tuple[np.ndarray, np.ndarray]:
    """(estimate, error) of each row's exact score ``query . x`` from its int8 code and residual code:
    the exact score lies within ``error`` of ``estimate`` (error inf where a component may have been
    clipped: the residual code says nothing there)."""
    dim = codes.shape[1]
    levels = np.empty((len(residuals), residuals.shape[1] * 2), np.float32)
    levels[:, 0::2], levels[:, 1::2] = residuals >> 4, residuals & 15
    q = query.astype(np.float64)
    fine = codes.astype(np.float32) + levels[:, :dim] / RESIDUAL_LEVELS - 0.5
    estimate = fine.astype(np.float64) @ q / scale
    error = float(np.abs(q).sum()) / (2 * RESIDUAL_LEVELS * scale) + FLOAT_SLACK * max(1.0, float(np.linalg.norm(q)))
    clipped = (codes.max(axis=1, initial=-127) >= 127) | (codes.min(axis=1, initial=127) <= -127)
    return estimate, np.where(clipped, np.inf, error)


def settle_within(estimate: np.ndarray, error: np.ndarray, k: int,
                  rescore: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Scores good enough to rank the top ``k`` as exact scores would, reading exactly only the items
    whose interval ``estimate +- error`` overlaps another's across one of the first k places.

    Returns (every item's score: exact where read, else its estimate; which items were read).
    Afterwards, for every j <= k, the j best scores' items are the j best by exact score: the top k
    and their order are those of exact scores (exact ties, all read, follow the caller's tie rule).
    A caller that shows fewer than k (or pages) may cut anywhere within the k.
    """
    scores = np.asarray(estimate, np.float64).copy()
    error = np.asarray(error, np.float64).copy()
    read = np.zeros(len(scores), bool)
    while len(scores) > 1:
        order = np.argsort(-scores, kind="stable")
        lower, upper = scores[order] - error[order], scores[order] + error[order]
        cuts = np.arange(1, min(k, len(order) - 1) + 1)  # a cut after the first j items, j = 1..k
        weakest_above = np.minimum.accumulate(lower)[cuts - 1]  # the lowest certain score above cut j
        strongest_below = np.maximum.accumulate(upper[::-1])[::-1][cuts]  # the highest possible one below it
        open_cuts = cuts[weakest_above <= strongest_below]
        if len(open_cuts) == 0:
            break
        # An item is contested when some open cut has it above and an item below that may beat it, or
        # has it below and an item above that it may beat.
        above = np.full(len(order), -np.inf)  # per place: the highest possible score below an open cut after it
        below = np.full(len(order), np.inf)  # per place: the lowest certain score above an open cut before it
        for j in open_cuts.tolist():
            above[:j] = np.maximum(above[:j], strongest_below[j - 1])
            below[j:] = np.minimum(below[j:], weakest_above[j - 1])
        contested = order[(lower <= above) | (upper >= below)]
        contested = contested[~read[contested]]
        if len(contested) == 0:
            break  # only exact scores are tied across a cut: the caller's tie rule decides
        scores[contested] = np.asarray(rescore(contested), np.float64)
        error[contested] = 0.0
        read[contested] = True
    return scores, np.flatnonzero(read)
