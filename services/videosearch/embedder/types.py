"""Domain types describing an Embedder's model, shared with its callers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preprocessing:
    """How an RGB frame becomes the model's pixel values (as CLIPImageProcessor does it)."""

    shortest_edge: int
    crop_height: int
    crop_width: int
    rescale_factor: float
    image_mean: tuple[float, float, float]
    image_std: tuple[float, float, float]
    resample: str = "bicubic"


@dataclass(frozen=True)
class ModelInfo:
    """What callers need to know about the hosted model."""

    model_id: str
    embedding_dim: int
    preprocessing: Preprocessing
    device: str
    compute_dtype: str
    max_batch_size: int
    max_images_per_request: int
    max_texts_per_request: int
    notice: str = ""  # a caveat the model's directory declares (videosearch.json), e.g. "knows only a toy world"
