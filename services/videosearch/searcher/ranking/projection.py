"""A lower-dimensional view of the quantized tier's group means, for its graph.

A graph search's cost grows with the dimension (every distance reads and multiplies every
component), and at 10M moments the search for ~1,000 group keys was 65-75 % of a videos search.
Group means of like moments concentrate their energy in few directions, so the graph is built
over their projection onto the leading right singular vectors of a sample of means, and a query
is projected the same way. The SVD is *uncentred*, so inner products (the graph's metric) are
what the projection keeps: ``q . m ~ (q P) . (m P)`` with the error bounded by the energy left out.

The dimension follows the data: the smallest ``d`` whose singular values keep ``energy`` (99 %)
of a sample's squared norm, rounded up to ``DIM_MULTIPLE``; where that is the full dimension
(means that need every dimension, as real embeddings of unlike scenes may) there is no
projection and the graph keeps the vectors as they are.
"""

from __future__ import annotations

import numpy as np

DEFAULT_ENERGY = 0.99  # share of the sample's squared norm the projection keeps (0: never project)
DIM_MULTIPLE = 16  # projected dimensions come in multiples of this (usearch's SIMD kernels like whole lanes)


def projection_dim(sample: np.ndarray, energy: float) -> int:
    """The smallest dimension keeping ``energy`` of ``sample``'s squared norm (uncentred), rounded up
    to DIM_MULTIPLE and capped at the full dimension."""
    dim = sample.shape[1]
    if energy <= 0 or len(sample) == 0:
        return dim
    power = np.linalg.svd(sample.astype(np.float64), compute_uv=False) ** 2
    kept = np.cumsum(power) / max(float(power.sum()), 1e-300)
    needed = int(np.searchsorted(kept, min(energy, 1.0) - 1e-12)) + 1
    return min(dim, -(-needed // DIM_MULTIPLE) * DIM_MULTIPLE)


def fit_projection(sample: np.ndarray, energy: float) -> np.ndarray | None:
    """A (dim, d) matrix with orthonormal columns, the leading right singular vectors of ``sample``
    (uncentred), with d from projection_dim; None when d is the full dimension (no projection)."""
    d = projection_dim(sample, energy)
    if d >= sample.shape[1]:
        return None
    _, _, vt = np.linalg.svd(sample.astype(np.float64), full_matrices=False)
    return np.ascontiguousarray(vt[:d].T, dtype=np.float32)


def kept_energy(sample: np.ndarray, projection: np.ndarray | None) -> float:
    """The share of ``sample``'s squared norm that ``projection`` keeps (1.0 without one)."""
    if projection is None:
        return 1.0
    total = float((sample.astype(np.float64) ** 2).sum())
    return float(((sample @ projection).astype(np.float64) ** 2).sum()) / max(total, 1e-300)
