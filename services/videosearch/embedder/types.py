"""Domain types describing an Embedder's model, shared with its callers."""

from __future__ import annotations

from dataclasses import dataclass

# How an image is resized before its pixels are sent (ImagePreprocessing.resize_mode on the wire).
RESIZE_SHORTEST_EDGE_CROP = "shortest_edge_crop"  # CLIP, AltCLIP: shorter side to shortest_edge, centre crop
RESIZE_FIXED = "fixed"  # SigLIP, SigLIP2 fixed resolution, Chinese-CLIP: straight to crop_height x crop_width
RESIZE_PATCH_BUDGET = "patch_budget"  # SigLIP2 NaFlex: aspect kept, at most max_num_patches patches
RESIZE_MODES = (RESIZE_SHORTEST_EDGE_CROP, RESIZE_FIXED, RESIZE_PATCH_BUDGET)

# How the model scores an image against a text (ModelInfo.score_kind).
SCORE_COSINE = "cosine"  # softmax-trained (CLIP, Chinese-CLIP, AltCLIP): the cosine is the score
SCORE_SIGMOID = "sigmoid"  # pairwise sigmoid (SigLIP, SigLIP2): sigmoid(cosine * logit_scale + logit_bias)
SCORE_KINDS = (SCORE_COSINE, SCORE_SIGMOID)


@dataclass(frozen=True)
class Preprocessing:
    """How an RGB frame becomes the model's pixel values, read from the model's own image processor."""

    shortest_edge: int
    crop_height: int
    crop_width: int
    rescale_factor: float
    image_mean: tuple[float, float, float]
    image_std: tuple[float, float, float]
    resample: str = "bicubic"
    resize_mode: str = RESIZE_SHORTEST_EDGE_CROP
    # RESIZE_PATCH_BUDGET only: the side of a square patch and the most patches per image.
    patch_size: int = 0
    max_num_patches: int = 0


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
    family: str = "clip"
    score_kind: str = SCORE_COSINE
    # exp(logit_scale) as the model stores it (the multiplier of the cosine); 0 when unknown.
    logit_scale: float = 0.0
    # Added after scaling (SigLIP's learned bias); 0 for models without one.
    logit_bias: float = 0.0
    dtype_reason: str = ""
    notice: str = ""  # a caveat the model's directory declares (videosearch.json), e.g. "knows only a toy world"

    def match_probability(self, cosine: float) -> float | None:
        """For sigmoid-trained models, the model's own probability that an image and a text match;
        None for cosine models, whose scores have no absolute meaning."""
        if self.score_kind != SCORE_SIGMOID or not self.logit_scale:
            return None
        import math

        logit = cosine * self.logit_scale + self.logit_bias
        return 1.0 / (1.0 + math.exp(-logit)) if logit > -700 else 0.0
