"""Pixel helpers for the Embedder tests."""

from __future__ import annotations

import numpy as np
from videosearch.embedder.model import ClipEmbedder


def random_uint8(count: int, size: int = 32, seed: int = 0) -> np.ndarray:
    """Random (count, 3, size, size) uint8 frames, already at crop size."""
    return np.random.default_rng(seed).integers(0, 256, size=(count, 3, size, size), dtype=np.uint8)


def normalize_like_processor(pixels: np.ndarray, embedder: ClipEmbedder) -> np.ndarray:
    """The client's float path: rescale, then normalize per channel, in float32."""
    p = embedder.preprocessing
    mean = np.asarray(p.image_mean, dtype=np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(p.image_std, dtype=np.float32).reshape(1, 3, 1, 1)
    return ((pixels.astype(np.float32) * np.float32(p.rescale_factor)) - mean) / std
