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
# (about 8e-4 on the bench's data; the typical error is some 30 times smaller: about 3e-5).
# Approximate searches rank their candidates by these estimates and read nothing. Reading just the
# candidates whose intervals overlap across a cut (tried: the top k and their order then equal exact
# re-scoring's) read MORE than the int8 bound's shortcut on the bench's data (1M scenes: 19 videos
# per videos search against 17), because the best videos' scores lie closer together than the
# worst-case interval is wide; the typical error is far below those gaps.

RESIDUAL_LEVELS = 15  # 4 bits: levels 0..15 stand for residuals -0.5 + level / 15


def residual_codes(vectors: np.ndarray, codes: np.ndarray, scale: float) -> np.ndarray:
    """(rows, ceil(dim / 2)) uint8: each row's residual ``vectors * scale - codes`` in 4 bits a
    component, two components a byte (meaningless where a component was clipped: see spills)."""
    residual = vectors.astype(np.float32) * np.float32(scale) - codes.astype(np.float32)
    levels = np.clip(np.rint((residual + 0.5) * RESIDUAL_LEVELS), 0, RESIDUAL_LEVELS).astype(np.uint8)
    if levels.shape[1] % 2:
        levels = np.pad(levels, ((0, 0), (0, 1)))
    return (levels[:, 0::2] << 4) | levels[:, 1::2]


def spills(vectors: np.ndarray, codes: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row, component, residual) of every clipped component: its residual is past what 4 bits hold
    (one component in 10,000 is clipped, by the choice of the scale, so 5.6 % of the bench's rows have
    one; their residual codes alone were as far off as int8: 6e-4 against 2.6e-5), kept exactly."""
    residual = vectors.astype(np.float32) * np.float32(scale) - codes.astype(np.float32)
    rows, dims = np.nonzero(np.abs(residual) > 0.5)
    return rows.astype(np.int64), dims.astype(np.int16), residual[rows, dims].astype(np.float32)


def refined_scores(
    query: np.ndarray,
    codes: np.ndarray,
    residuals: np.ndarray,
    scale: float,
    spilled: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(estimate, error) of each row's exact score ``query . x`` from its int8 code and residual code:
    the exact score lies within ``error`` of ``estimate``. ``spilled``: (position among these rows,
    component, exact residual) of their clipped components (spills()); without it a row with a
    clipped component gets error inf (the residual code says nothing there)."""
    dim = codes.shape[1]
    q = query.astype(np.float64)
    q32 = np.zeros(residuals.shape[1] * 2, np.float32)  # padded to whole bytes: a padding level meets a 0
    q32[:dim] = query
    # code + level / 15 - 0.5 per component, as products with the high and the low nibbles (the
    # even and the odd components) apart: no (rows, dim) array of levels is built
    fine = (residuals >> 4).astype(np.float32) @ q32[0::2] + (residuals & 15).astype(np.float32) @ q32[1::2]
    estimate = (
        (codes.astype(np.float32) @ q32[:dim]).astype(np.float64) + fine / RESIDUAL_LEVELS - 0.5 * float(q.sum())
    ) / scale
    error = float(np.abs(q).sum()) / (2 * RESIDUAL_LEVELS * scale) + FLOAT_SLACK * max(1.0, float(np.linalg.norm(q)))
    if spilled is None:
        clipped = (codes.max(axis=1, initial=-127) >= 127) | (codes.min(axis=1, initial=127) <= -127)
        return estimate, np.where(clipped, np.inf, error)
    at, dims, values = spilled  # the exact residual in place of the residual code's level
    dims = dims.astype(np.int64)
    packed = residuals[at, dims // 2]
    decoded = np.where(dims % 2 == 0, packed >> 4, packed & 15) / RESIDUAL_LEVELS - 0.5
    np.add.at(estimate, at, q[dims] * (values - decoded) / scale)
    return estimate, np.full(len(codes), error)
