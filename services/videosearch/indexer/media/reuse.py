"""Fewer forward passes: a sampled frame that looks like the scene's last embedded one reuses
its embedding instead of running CLIP again.

A long take that holds still (an interview, a slide, a landscape) is sampled once per second,
and each sample used to cost a full forward pass, although CLIP would return nearly the same
vector every time.
Here each scene's samples are compared, in order, with the scene's *anchor* (its last sample
that was really embedded; the first sample always is). A sample whose CLIP crop differs from
the anchor's by less than ``max_difference`` takes the anchor's embedding; any other becomes
the new anchor and is embedded. Comparing with the anchor, never with the previous sample,
keeps a slow pan from drifting away one small step at a time.

The difference is the largest change of any cell of a 16 x 16 grid laid over the crop (each
cell the mean of its pixels, per colour channel, in 8-bit levels): a subject that walks into
one part of the picture moves that cell a lot, while sensor noise averages out within a cell.
A mean over the whole picture would hide the subject. ``python bench/index/reuse.py`` measures
how close reused embeddings stay to the ones CLIP computes for those frames and how many
forward passes are saved (they depend on the footage: none on video that keeps moving); its
figures, and why the default holds, are in docs/performance.md, "Fewer forward passes"; why a
grid, in docs/moments-notes.md.
"""

from __future__ import annotations

import cv2
import numpy as np

GRID = 16
"""Cells per side of the grid the crops are compared on."""

DEFAULT_MAX_DIFFERENCE = 12.0
"""8-bit levels: a sample whose grid cells all lie closer than this to the anchor's reuses its
embedding. 0 turns reuse off (every sample is embedded)."""


def signature(crop: np.ndarray) -> np.ndarray:
    """A CLIP crop (3, height, width) uint8 as its GRID x GRID x 3 cell means (float32)."""
    pixels = np.ascontiguousarray(np.asarray(crop).transpose(1, 2, 0))
    return cv2.resize(pixels, (GRID, GRID), interpolation=cv2.INTER_AREA).astype(np.float32)


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """How far apart two signatures are: the largest change of one cell, in 8-bit levels."""
    return float(np.abs(a - b).max())


def embedding_sources(crops: np.ndarray, max_difference: float = DEFAULT_MAX_DIFFERENCE) -> list[int]:
    """For each of one scene's sampled crops (N, 3, h, w), in order, the index of the sample
    whose embedding it takes: its own when it is embedded, else the anchor's (see the module
    doc). ``max_difference`` 0 embeds every sample."""
    if max_difference <= 0 or len(crops) < 2:
        return list(range(len(crops)))
    sources = [0]
    anchor = signature(crops[0])
    for i in range(1, len(crops)):
        current = signature(crops[i])
        if difference(current, anchor) < max_difference:
            sources.append(sources[-1])
        else:
            sources.append(i)
            anchor = current
    return sources


def validate_max_difference(value: float) -> float:
    """``value`` when it is a usable threshold; ValueError saying what to change otherwise."""
    if not (np.isfinite(value) and 0 <= value <= 255):
        raise ValueError(
            f"the embedding reuse difference must be 0 (off) to 255 8-bit levels "
            f"(default {DEFAULT_MAX_DIFFERENCE:g}), got {value}"
        )
    return float(value)
