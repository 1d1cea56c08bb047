"""Frames and images become a model's pixel values, the way its own Hugging Face image processor makes them.

Three resize modes (``Preprocessing.resize_mode``, read from the processor by the Embedder):
shortest edge + centre crop (CLIPImageProcessor, described below), a fixed height x width
resize without crop (SigLIP, Chinese-CLIP: step 1 resizes straight to that size, step 2 takes
all of it), and a patch budget (SigLIP2 NaFlex: step 1 resizes, aspect kept, to
``patch_budget_size``, step 2 takes all of it; the Embedder cuts the result into patches).

Shared by every caller of the Embedder that sends pixels: the Indexer (video frames) and the
Searcher (image queries), so a query image is prepared exactly like an indexed frame.

CLIPImageProcessor (transformers 5; its Pillow backend, which is what runs without torchvision)
does, for an RGB uint8 image:

1. resize with Pillow so the shortest edge is ``shortest_edge`` and the long edge is
   ``int(shortest_edge * long / short)`` (truncated, see ``get_resize_output_image_size``),
   resample bicubic, which Pillow applies *antialiased* (the kernel widens when shrinking);
2. center crop at ``top = (new_h - crop_h) // 2``, ``left = (new_w - crop_w) // 2``
   (padding with zeros where the resized image is smaller than the crop);
3. multiply by ``rescale_factor``; 4. subtract ``image_mean`` and divide by ``image_std``.

We keep steps 1-2 in uint8 (``FramePreprocessor``) so the scene sampler can buffer candidate
frames cheaply, and do 3-4 in ``normalize`` for callers that want float tensors.

Two resize backends, both antialiased bicubic like Pillow's (cv2.resize is not: measured
against CLIPImageProcessor on frames of testvideo.mp4, cv2.INTER_CUBIC is off by up to 1.27 in
normalized units and cv2.INTER_AREA by up to 0.24):

* ``"pillow"``: Pillow itself, restricted to the crop box (``box=``) so only the crop is
  computed: off by at most one uint8 level (0.015 normalized) on rare pixels, mean ~1e-6;
  about 3.6 ms for a 720p frame at 224.
* ``"torch"``: ``torch.nn.functional.interpolate(mode="bicubic", antialias=True)`` on uint8,
  which implements Pillow's filter with vectorised integer code: about 1.3 ms for the same
  frame; off by at most 0.073 normalized (5 uint8 levels) and 0.001 on average on the shared
  test videos. The default when torch is importable, since preprocessing every candidate
  frame is the largest cost of the decode pass.

Channel order does not change the resize, so BGR frames from OpenCV are resized as they are
and flipped to RGB afterwards.

Non-square pixels (a 704x576 stream with 16:11 pixels shows as 1024x576): CLIP must see the
frame as it is shown, so step 1 works out the resized size from the *display* size and
resizes the stored pixels straight to it, stretching one axis more than the other in the same
single resize (no full-size stretched copy is ever made).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np
from PIL import Image

from videosearch.embedder.types import RESIZE_FIXED, RESIZE_PATCH_BUDGET, RESIZE_SHORTEST_EDGE_CROP, Preprocessing


class DisplayAspect(Protocol):
    """How stored pixels are shown (videosearch.indexer.media.video_file.PixelAspect fits)."""

    def display_size(self, height: int, width: int) -> tuple[int, int]: ...


class SquarePixels:
    """Pixels shown as stored: still images, and most video."""

    def display_size(self, height: int, width: int) -> tuple[int, int]:
        return height, width


_PIL_RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
}


def resized_size(height: int, width: int, shortest_edge: int) -> tuple[int, int]:
    """(new_height, new_width) as transformers' get_resize_output_image_size computes it."""
    short, long = (width, height) if width <= height else (height, width)
    new_short, new_long = shortest_edge, int(shortest_edge * long / short)
    return (new_long, new_short) if width <= height else (new_short, new_long)


def patch_budget_size(
    height: int, width: int, patch_size: int, max_num_patches: int, eps: float = 1e-5
) -> tuple[int, int]:
    """(height, width) as transformers' Siglip2 get_image_size_for_max_num_patches computes it:
    the largest scale (binary search) whose sides, rounded up to multiples of the patch size,
    give at most max_num_patches patches."""

    def scaled(scale: float, size: int) -> int:
        return max(patch_size, int(math.ceil(size * scale / patch_size) * patch_size))

    low, high = eps / 10, 100.0
    while high - low >= eps:
        scale = (low + high) / 2
        if (scaled(scale, height) / patch_size) * (scaled(scale, width) / patch_size) <= max_num_patches:
            low = scale
        else:
            high = scale
    return scaled(low, height), scaled(low, width)


def _pil_resample(name: str) -> Image.Resampling:
    try:
        return _PIL_RESAMPLE[name.lower()]
    except KeyError:
        raise ValueError(f"unknown resample {name!r}; use one of {sorted(_PIL_RESAMPLE)}") from None


def default_backend() -> str:
    try:
        import torch  # noqa: F401 - imported only to learn whether it can be
    except ImportError:
        return "pillow"
    return "torch"


# A candidate frame is first shrunk by an integer factor with a box filter (cv2 INTER_AREA,
# about 0.2 ms for 720p against 1.2 ms for the antialiased bicubic resize) as long as it
# stays at least this many times the target size; the bicubic resize then runs only on the
# few frames a scene keeps. Measured against CLIPImageProcessor on testvideo.mp4: mean
# absolute difference 0.005 and at most 0.17 in normalized units, on sharp edges.
REDUCE_HEADROOM = 1.5
# Larger factors save little more time and let the box filter's shape show (measured at 32 px).
MAX_REDUCTION = 4


@dataclass(frozen=True)
class ReducedFrame:
    """A BGR frame shrunk by an integer factor, remembering the size it was decoded at."""

    pixels: np.ndarray
    height: int
    width: int


class FramePreprocessor:
    """Turns BGR uint8 frames (H, W, 3) into RGB uint8 crops (3, crop_h, crop_w). Thread-safe.

    Frames are shown, and so resized, with ``pixel_aspect`` (see the module doc).
    """

    def __init__(
        self, preprocessing: Preprocessing, *, backend: str | None = None, pixel_aspect: DisplayAspect = SquarePixels()
    ) -> None:
        mode = preprocessing.resize_mode
        if mode == RESIZE_PATCH_BUDGET:
            if min(preprocessing.patch_size, preprocessing.max_num_patches) <= 0:
                raise ValueError(f"a patch budget needs a positive patch size and patch count, got {preprocessing}")
        elif mode == RESIZE_FIXED:
            if min(preprocessing.crop_height, preprocessing.crop_width) <= 0:
                raise ValueError(f"preprocessing sizes must be positive, got {preprocessing}")
        elif mode == RESIZE_SHORTEST_EDGE_CROP:
            if min(preprocessing.shortest_edge, preprocessing.crop_height, preprocessing.crop_width) <= 0:
                raise ValueError(f"preprocessing sizes must be positive, got {preprocessing}")
        else:
            raise ValueError(f"unknown resize mode {mode!r}")
        self._crops = mode == RESIZE_SHORTEST_EDGE_CROP
        self.preprocessing = preprocessing
        self.pixel_aspect = pixel_aspect
        self._resample = _pil_resample(preprocessing.resample)
        self.backend = backend or default_backend()
        if self.backend not in ("pillow", "torch"):
            raise ValueError(f"unknown resize backend {self.backend!r}; use 'pillow' or 'torch'")
        if self.backend == "torch" and preprocessing.resample.lower() not in _TORCH_MODES:
            self.backend = "pillow"  # torch antialiases only bilinear and bicubic
        # (frame height, frame width, source box or None, resized (h, w)), replaced as a whole
        # so that threads sharing this object never see half of a plan.
        self._plan: tuple[int, int, tuple[float, float, float, float] | None, tuple[int, int]] = (0, 0, None, (0, 0))

    def for_pixel_aspect(self, pixel_aspect: DisplayAspect) -> FramePreprocessor:
        """The same preprocessing for frames shown with ``pixel_aspect``."""
        return FramePreprocessor(self.preprocessing, backend=self.backend, pixel_aspect=pixel_aspect)

    @property
    def output_shape(self) -> tuple[int, int, int]:
        """(3, H, W) of the pixels made; with a patch budget, of the last frame size seen
        (one patch before any)."""
        p = self.preprocessing
        if p.resize_mode == RESIZE_PATCH_BUDGET:
            new_h, new_w = self._plan[3]
            return (3, new_h or p.patch_size, new_w or p.patch_size)
        return (3, p.crop_height, p.crop_width)

    def _resized_size(self, height: int, width: int) -> tuple[int, int]:
        """What a decoded frame of this size is resized to: the model's resize of its display size."""
        p = self.preprocessing
        display_h, display_w = self.pixel_aspect.display_size(height, width)
        if p.resize_mode == RESIZE_FIXED:
            return p.crop_height, p.crop_width
        if p.resize_mode == RESIZE_PATCH_BUDGET:
            return patch_budget_size(display_h, display_w, p.patch_size, p.max_num_patches)
        return resized_size(display_h, display_w, p.shortest_edge)

    def _crop_size(self, new_h: int, new_w: int) -> tuple[int, int]:
        """The crop taken from the resized frame: the whole of it unless the model centre-crops."""
        p = self.preprocessing
        return (p.crop_height, p.crop_width) if self._crops else (new_h, new_w)

    def _make_plan(self, height: int, width: int):
        """Works out, once per frame size, which source box maps onto the crop."""
        new_h, new_w = self._resized_size(height, width)
        crop_h, crop_w = self._crop_size(new_h, new_w)
        top, left = (new_h - crop_h) // 2, (new_w - crop_w) // 2
        if top < 0 or left < 0:
            # The crop is larger than the resized frame: resize fully, then pad as transformers.
            return (height, width, None, (new_h, new_w))
        # Pillow maps output pixel x to source (box_x0 + (x + 0.5) * scale) with scale =
        # box_width / out_width, and clips the filter support to the whole image, so resizing
        # this box to the crop size computes the crop of the full resize (up to float rounding
        # of the coefficients: rarely one uint8 level).
        sx, sy = width / new_w, height / new_h
        box = (left * sx, top * sy, (left + crop_w) * sx, (top + crop_h) * sy)
        return (height, width, box, (new_h, new_w))

    def __call__(self, frame_bgr: np.ndarray) -> np.ndarray:
        height, width = frame_bgr.shape[:2]
        plan = self._plan
        if plan[:2] != (height, width):
            plan = self._plan = self._make_plan(height, width)
        _, _, box, (new_h, new_w) = plan
        crop_h, crop_w = self._crop_size(new_h, new_w)
        if self.backend == "torch":
            crop = _center_crop(self._torch_resize(frame_bgr, new_h, new_w), crop_h, crop_w)
            return np.ascontiguousarray(crop[:, :, ::-1].transpose(2, 0, 1))
        image = Image.fromarray(frame_bgr)
        if box is not None:
            crop = np.asarray(image.resize((crop_w, crop_h), self._resample, box=box))
        else:
            crop = _center_crop(np.asarray(image.resize((new_w, new_h), self._resample)), crop_h, crop_w)
        # BGR -> RGB and HWC -> CHW in one copy.
        return np.ascontiguousarray(crop[:, :, ::-1].transpose(2, 0, 1))

    def reduction_factor(self, height: int, width: int) -> int:
        """The integer factor a frame of this size can shrink by and keep REDUCE_HEADROOM
        over its resized size on both axes."""
        new_h, new_w = self._resized_size(height, width)
        factor = int(min(height / new_h, width / new_w) // REDUCE_HEADROOM)
        return max(1, min(factor, MAX_REDUCTION))

    def candidate(self, frame_bgr: np.ndarray) -> np.ndarray | ReducedFrame:
        """A cheap stand-in kept while it is unknown whether the frame will be sampled:
        the finished crop for small frames, a ReducedFrame for large ones (see ``finish``)."""
        height, width = frame_bgr.shape[:2]
        factor = self.reduction_factor(height, width)
        if factor < 2:
            return self(frame_bgr)
        small = cv2.resize(frame_bgr, (width // factor, height // factor), interpolation=cv2.INTER_AREA)
        return ReducedFrame(small, height, width)

    def finish(self, candidate: np.ndarray | ReducedFrame) -> np.ndarray:
        """The RGB uint8 crop (3, crop_h, crop_w) of a candidate, with the geometry (resized
        size and crop offsets) of the frame as it was decoded."""
        if not isinstance(candidate, ReducedFrame):
            return candidate
        new_h, new_w = self._resized_size(candidate.height, candidate.width)
        if self.backend == "torch":
            resized = self._torch_resize(candidate.pixels, new_h, new_w)
        else:
            resized = np.asarray(Image.fromarray(candidate.pixels).resize((new_w, new_h), self._resample))
        crop = _center_crop(resized, *self._crop_size(new_h, new_w))
        return np.ascontiguousarray(crop[:, :, ::-1].transpose(2, 0, 1))

    def _torch_resize(self, frame: np.ndarray, new_h: int, new_w: int) -> np.ndarray:
        import torch
        import torch.nn.functional as F

        # HWC uint8 viewed as a channels-last NCHW tensor: the layout torch's fast uint8 path wants.
        x = torch.from_numpy(frame).permute(2, 0, 1).unsqueeze(0)
        mode = _TORCH_MODES[self.preprocessing.resample.lower()]
        with torch.inference_mode():
            out = F.interpolate(x, size=(new_h, new_w), mode=mode, antialias=True)
        return out[0].permute(1, 2, 0).numpy()


_TORCH_MODES = {"bicubic": "bicubic", "bilinear": "bilinear"}


def _center_crop(image: np.ndarray, crop_h: int, crop_w: int) -> np.ndarray:
    """transformers' center_crop for an HWC image, zero padding where the image is too small."""
    height, width = image.shape[:2]
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    if top >= 0 and left >= 0:
        return image[top : top + crop_h, left : left + crop_w]
    new_h, new_w = max(crop_h, height), max(crop_w, width)
    padded = np.zeros((new_h, new_w) + image.shape[2:], dtype=image.dtype)
    top_pad, left_pad = -(-(new_h - height) // 2), -(-(new_w - width) // 2)  # ceil, as transformers
    padded[top_pad : top_pad + height, left_pad : left_pad + width] = image
    top, left = top + top_pad, left + left_pad
    return padded[max(0, top) : top + crop_h, max(0, left) : left + crop_w]


def normalize(pixels: np.ndarray, preprocessing: Preprocessing) -> np.ndarray:
    """uint8 RGB pixels (..., 3, H, W) -> float32 model input: rescale, then (x - mean) / std."""
    if pixels.ndim < 3 or pixels.shape[-3] != 3:
        raise ValueError(f"expected pixels shaped (..., 3, H, W), got {pixels.shape}")
    mean = np.asarray(preprocessing.image_mean, dtype=np.float32).reshape(3, 1, 1)
    std = np.asarray(preprocessing.image_std, dtype=np.float32).reshape(3, 1, 1)
    scaled = pixels.astype(np.float32) * np.float32(preprocessing.rescale_factor)
    return (scaled - mean) / std
