"""A Hugging Face CLIP as a three-stage pipeline, like a transformers pipeline:

``preprocess`` (CPU: validate and normalize pixels) -> ``forward`` (the only stage
that touches the device) -> ``postprocess`` (L2-normalize, float32 numpy).
On CUDA, uint8 pixels stay uint8 until the device normalizes them (see cuda_forward).

Keeping the stages apart lets the dynamic batcher validate each caller's pixels
on the caller's thread and run one shared forward pass for many callers.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
import threading
import time
from collections.abc import Sequence
import dataclasses
from dataclasses import dataclass
from typing import cast
from pathlib import Path

import numpy as np
import torch

from videosearch.common.errors import InvalidArgument
from videosearch.embedder.cuda_forward import DeviceImageForward
from videosearch.embedder.defaults import DEFAULT_MODEL_ID, MAX_TEXT_CHARS, BatchLimits
from videosearch.embedder.families import (
    ModelLoadError,
    load_family_model,
    logit_scale_and_bias,
    max_text_length,
    pooled,
    preprocessing_of,
    text_inputs,
)
from videosearch.embedder.patches import PatchImages, patchify
from videosearch.embedder.precision import auto_dtype
from videosearch.embedder.types import RESIZE_PATCH_BUDGET, ModelInfo, Preprocessing

__all__ = ["ClipEmbedder", "ModelLoadError", "preprocessing_of"]

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}

# The bench's bar for calling bfloat16 worthwhile on a CPU (PrecisionCheck.acceptable). Only
# reported: --dtype auto times nothing and decides from the CPU's flags (precision.py).
BF16_MIN_SPEEDUP = 1.2
# ... and when its embeddings stay this close (cosine) to the float32 ones.
BF16_MIN_COSINE = 0.99


@dataclass(frozen=True)
class PrecisionCheck:
    """float32 against a reduced-precision copy of the same model, measured on this machine."""

    dtype: str
    float32_seconds: float
    reduced_seconds: float
    min_image_cosine: float
    min_text_cosine: float

    @property
    def speedup(self) -> float:
        return self.float32_seconds / self.reduced_seconds

    @property
    def min_cosine(self) -> float:
        return min(self.min_image_cosine, self.min_text_cosine)

    @property
    def acceptable(self) -> bool:
        return self.speedup >= BF16_MIN_SPEEDUP and self.min_cosine >= BF16_MIN_COSINE


def resolve_device(name: str) -> torch.device:
    """auto -> cuda:N when CUDA is available, else cpu."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise ModelLoadError(f"unknown device {name!r}; use auto, cpu, cuda or cuda:N") from exc
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ModelLoadError(
                "device cuda was requested but CUDA is not available; use --device cpu or --device auto"
            )
        index = device.index if device.index is not None else torch.cuda.current_device()
        if index >= torch.cuda.device_count():
            raise ModelLoadError(
                f"device {name} does not exist; this machine has {torch.cuda.device_count()} CUDA device(s)"
            )
        device = torch.device("cuda", index)
    elif device.type != "cpu":
        raise ModelLoadError(f"unsupported device {name!r}; use auto, cpu, cuda or cuda:N")
    return device


def parse_dtype(name: str) -> torch.dtype | None:
    """None for auto; raises ModelLoadError for an unknown name."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        return None
    aliases = {"fp32": "float32", "fp16": "float16", "half": "float16", "bf16": "bfloat16"}
    name = aliases.get(name, name)
    if name not in DTYPES:
        raise ModelLoadError(f"unknown dtype {name!r}; use auto, float32, float16 or bfloat16")
    return DTYPES[name]


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def local_model_id(directory: Path) -> str:
    """The id of a model saved in a local directory: its name and a digest of its config and
    weights, so the same model copied or moved elsewhere keeps its id (stored vectors record
    it) and a retrained one in the same place does not."""
    digest = hashlib.sha256()
    files = sorted(p for p in directory.iterdir() if p.name == "config.json" or p.suffix in (".safetensors", ".bin"))
    for file in files:
        digest.update(file.name.encode())
        with file.open("rb") as handle:
            for block in iter(lambda: handle.read(4 << 20), b""):
                digest.update(block)
    return f"{directory.resolve().name}@sha256:{digest.hexdigest()[:16]}"


QUICK_GELU_ALPHA = 1.702


class _InplaceSiLU(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.silu(x, inplace=True)


def fold_quick_gelu(model) -> int:
    """Rewrites every CLIP MLP ``fc2(quick_gelu(fc1(x)))`` as the equal
    ``(fc2 / 1.702)(silu((1.702 * fc1)(x)))``: quick_gelu(y) = y * sigmoid(1.702 y)
    = silu(1.702 y) / 1.702. One fused in-place kernel replaces three passes over
    the widest activations (about 10% of a ViT-B/32 forward on CPU); results agree
    to float rounding. Returns the number of MLPs rewritten."""
    from transformers.activations import QuickGELUActivation

    folded = 0
    with torch.no_grad():
        for module in model.modules():
            activation = getattr(module, "activation_fn", None)
            fc1, fc2 = getattr(module, "fc1", None), getattr(module, "fc2", None)
            linear = torch.nn.Linear
            if (
                not isinstance(activation, QuickGELUActivation)
                or not isinstance(fc1, linear)
                or not isinstance(fc2, linear)
            ):
                continue
            fc1.weight.mul_(QUICK_GELU_ALPHA)
            if fc1.bias is not None:
                fc1.bias.mul_(QUICK_GELU_ALPHA)
            fc2.weight.div_(QUICK_GELU_ALPHA)
            module.activation_fn = _InplaceSiLU()
            folded += 1
    return folded


def calibration_pixels(preprocessing: Preprocessing, count: int = 8, seed: int = 0) -> torch.Tensor:
    """Deterministic smooth 'images' (normalized pixel values) for precision and speed checks."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(count, 3, 8, 8, generator=generator) * 255.0
    pixels = torch.nn.functional.interpolate(
        coarse, size=(preprocessing.crop_height, preprocessing.crop_width), mode="bilinear", align_corners=False
    )
    mean = torch.tensor(preprocessing.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(preprocessing.image_std).view(1, 3, 1, 1)
    return (pixels * preprocessing.rescale_factor - mean) / std


CALIBRATION_TEXTS = ["a photo of a dog", "a red circle on a blue background", "two people talking in a kitchen"]


def _time_image_forward(model, pixels: torch.Tensor, repeats: int) -> float:
    with torch.inference_mode():
        pooled(model.get_image_features(pixel_values=pixels))  # warm-up (kernel selection, allocations)
        best = math.inf
        for _ in range(repeats):
            start = time.perf_counter()
            pooled(model.get_image_features(pixel_values=pixels))
            best = min(best, time.perf_counter() - start)
    return best


def check_reduced_precision(
    model,
    processor,
    preprocessing: Preprocessing,
    dtype: torch.dtype = torch.bfloat16,
    *,
    batch: int = 8,
    repeats: int = 2,
) -> PrecisionCheck:
    """Times a CPU image forward pass in float32 and in ``dtype`` and compares the
    embeddings (images and texts) by cosine similarity. ``model`` stays float32."""
    reduced = copy.deepcopy(model).to(dtype)
    pixels = calibration_pixels(preprocessing, batch)
    tokens = text_inputs(
        model, processor.tokenizer(CALIBRATION_TEXTS, padding=True, truncation=True, return_tensors="pt")
    )
    with torch.inference_mode():
        img32 = pooled(model.get_image_features(pixel_values=pixels)).float()
        img16 = pooled(reduced.get_image_features(pixel_values=pixels.to(dtype))).float()
        txt32 = pooled(model.get_text_features(**tokens)).float()
        txt16 = pooled(reduced.get_text_features(**tokens)).float()
    cos = torch.nn.functional.cosine_similarity
    check = PrecisionCheck(
        dtype=dtype_name(dtype),
        float32_seconds=_time_image_forward(model, pixels, repeats),
        reduced_seconds=_time_image_forward(reduced, pixels.to(dtype), repeats),
        min_image_cosine=float(cos(img32, img16, dim=-1).min()),
        min_text_cosine=float(cos(txt32, txt16, dim=-1).min()),
    )
    del reduced
    return check


class ClipEmbedder:
    """One image-text model of a supported family (see families.py) on one device,
    embedding pixel arrays and texts.

    ``embedder(pixels)`` runs the three stages; the dynamic batcher calls
    ``preprocess`` per caller and ``collate``/``forward``/``postprocess`` per batch.
    """

    def __init__(
        self,
        model: str = DEFAULT_MODEL_ID,
        *,
        device: str = "auto",
        dtype: str = "auto",
        limits: BatchLimits = BatchLimits(),
        cuda_graphs: bool = True,
    ) -> None:
        # The per-request limits are only reported by model_info(); the EmbeddingEngine
        # enforces (and may override) them for the service.
        self.device = resolve_device(device)
        requested_dtype = parse_dtype(dtype)
        if requested_dtype is torch.float16 and self.device.type == "cpu":
            log.warning("float16 on CPU is slow and not faster than float32; consider --dtype bfloat16 or float32")
        path = Path(model).expanduser()
        self.source = str(path.resolve()) if path.is_dir() else model
        self.model_id = local_model_id(path) if path.is_dir() else model
        loaded = load_family_model(self.source)
        self.family = loaded.family
        clip = loaded.model
        fold_quick_gelu(clip)  # in float32, before any cast
        self.processor = loaded  # .tokenizer and .image_processor, as a transformers processor has them
        self.tokenizer = loaded.tokenizer
        self.preprocessing = preprocessing_of(loaded.image_processor)
        self.patch_budget = self.preprocessing.resize_mode == RESIZE_PATCH_BUDGET
        self.max_text_length = max_text_length(self.family, self.tokenizer, clip.config.text_config)
        self.logit_scale, self.logit_bias = logit_scale_and_bias(clip)
        if requested_dtype is not None:
            self.dtype, self.dtype_reason = requested_dtype, "requested with --dtype"
        else:
            self.dtype, self.dtype_reason = auto_dtype(self.device)
        # The probe below runs the float32 model on the CPU; then it moves to its device and dtype.
        self.model = clip
        self.dtype_in_use, self.device_in_use = torch.float32, torch.device("cpu")
        # Normalization as one affine map per channel: (x * rescale - mean) / std.
        self._mean = torch.tensor(self.preprocessing.image_mean, dtype=torch.float32).view(1, 3, 1, 1)
        self._std = torch.tensor(self.preprocessing.image_std, dtype=torch.float32).view(1, 3, 1, 1)
        self._device_forward: DeviceImageForward | None = None
        self.embedding_dim = self._probe_embedding_dim()
        self.model = clip.to(self.device, dtype=self.dtype)
        self.dtype_in_use, self.device_in_use = self.dtype, self.device
        self.limits = limits
        # Pinned staging memory lets the host->GPU copy of a batch run asynchronously;
        # one buffer per batcher worker thread and dtype.
        self._staging = threading.local()
        if self.device.type == "cuda" and not self.patch_budget:
            self._device_forward = DeviceImageForward(
                lambda pixels: pooled(self.model.get_image_features(pixel_values=pixels)),
                device=self.device,
                dtype=self.dtype,
                crop=self.crop_size,
                rescale_factor=self.preprocessing.rescale_factor,
                mean=self._mean,
                std=self._std,
                max_batch_size=limits.max_batch_size,
                graphs=cuda_graphs,
            )
        p = self.preprocessing
        log.info(
            "loaded %s (model id %s, family %s) on %s (%s, %s), embedding_dim=%d, images %s",
            self.source,
            self.model_id,
            self.family.name,
            self.device,
            dtype_name(self.dtype),
            self.dtype_reason,
            self.embedding_dim,
            f"{p.crop_height}x{p.crop_width} ({p.resize_mode})"
            if not self.patch_budget
            else f"up to {p.max_num_patches} patches of {p.patch_size}px",
        )

    def _probe_embedding_dim(self) -> int:
        """The embedding size, read from one tiny forward pass of each tower (float32, CPU):
        a config field cannot say it for every family (SigLIP's image side has no projection)."""
        if self.patch_budget:
            side = self.preprocessing.patch_size
            pixels = np.zeros((1, 3, side, side), np.uint8)
        else:
            pixels = np.zeros((1, 3, *self.crop_size), np.uint8)
        image = self.forward(self.preprocess(pixels))
        text = self._text_features(["a"])
        if image.shape[-1] != text.shape[-1]:
            raise ModelLoadError(
                f"the {self.family.name} model {self.model_id!r} embeds images in {image.shape[-1]} dimensions and "
                f"texts in {text.shape[-1]}; they must match to compare a text with an image. The checkpoint's "
                "projection sizes disagree: pass --model a complete checkpoint of this family"
            )
        return int(image.shape[-1])

    # -- description ---------------------------------------------------------

    def model_info(self) -> ModelInfo:
        return ModelInfo(
            model_id=self.model_id,
            embedding_dim=self.embedding_dim,
            preprocessing=self.preprocessing,
            device=str(self.device),
            compute_dtype=dtype_name(self.dtype),
            **dataclasses.asdict(self.limits),
            family=self.family.name,
            score_kind=self.family.score_kind,
            logit_scale=self.logit_scale,
            logit_bias=self.logit_bias,
            dtype_reason=self.dtype_reason,
        )

    @property
    def crop_size(self) -> tuple[int, int]:
        return self.preprocessing.crop_height, self.preprocessing.crop_width

    # -- images ----------------------------------------------------------------

    def expected_pixels(self) -> str:
        if self.patch_budget:
            p = self.preprocessing
            return (
                f"(N, 3, H, W) with N >= 1, H and W multiples of {p.patch_size} and (H/{p.patch_size})*(W/{p.patch_size}) "
                f"<= {p.max_num_patches} (the largest such size with the image's aspect ratio): uint8 values after that "
                "resize, or float32/float16 values also rescaled and normalized"
            )
        h, w = self.crop_size
        return (
            f"(N, 3, {h}, {w}) with N >= 1: float32 or float16 pixel values already normalized "
            f"(rescale, mean/std), or uint8 values after resize and {h}x{w} center crop"
        )

    def _size_fits(self, height: int, width: int) -> bool:
        if not self.patch_budget:
            return (height, width) == self.crop_size
        side, budget = self.preprocessing.patch_size, self.preprocessing.max_num_patches
        return (
            height >= side
            and width >= side
            and height % side == 0
            and width % side == 0
            and (height // side) * (width // side) <= budget
        )

    def preprocess(self, pixels: np.ndarray) -> torch.Tensor | PatchImages:
        """Validates a pixel array and returns it as a CPU tensor of the compute dtype,
        normalized (on CUDA, uint8 pixels stay uint8: the device normalizes them); for a
        NaFlex model, as PatchImages. Raises InvalidArgument saying what is expected."""
        if not isinstance(pixels, np.ndarray):
            raise InvalidArgument(f"pixel_values must be an array; expected {self.expected_pixels()}")
        if pixels.ndim != 4 or pixels.shape[0] < 1 or pixels.shape[1] != 3 or not self._size_fits(*pixels.shape[2:]):
            raise InvalidArgument(f"pixel_values has shape {list(pixels.shape)}; expected {self.expected_pixels()}")
        values = self._pixel_values(pixels)
        if self.patch_budget:
            p = self.preprocessing
            return patchify(values, p.patch_size, p.max_num_patches)
        return values

    def _pixel_values(self, pixels: np.ndarray) -> torch.Tensor:
        if pixels.dtype == np.uint8:
            if self._device_forward is not None:
                # On CUDA the device normalizes (cuda_forward); a quarter of the bytes cross the bus.
                # A fresh writable copy: arrays decoded from the wire are read-only.
                return torch.from_numpy(np.array(pixels, dtype=np.uint8, order="C", copy=True))
            # astype gives a fresh writable float32 array, so normalizing runs in place: one copy.
            return self._normalize_in_place(torch.from_numpy(pixels.astype(np.float32)))
        if pixels.dtype in (np.float32, np.float16):
            # Arrays decoded from the wire are read-only; torch needs a writable one.
            array = pixels if pixels.flags.writeable else pixels.copy()
            tensor = torch.from_numpy(np.ascontiguousarray(array))
            if not bool(torch.isfinite(tensor).all()):
                raise InvalidArgument(
                    "pixel_values contains NaN or infinite values; send finite normalized pixel values"
                )
        else:
            raise InvalidArgument(f"pixel_values has dtype {pixels.dtype}; expected {self.expected_pixels()}")
        return tensor.to(self.dtype).contiguous()

    def _normalized_on_cpu(self, pixels: torch.Tensor) -> torch.Tensor:
        """uint8 pixels -> normalized values in the compute dtype."""
        return self._normalize_in_place(pixels.to(torch.float32))

    def _normalize_in_place(self, values: torch.Tensor) -> torch.Tensor:
        """float32 pixel values (0-255) -> normalized values in the compute dtype."""
        values.mul_(self.preprocessing.rescale_factor).sub_(self._mean).div_(self._std)
        return values.to(self.dtype).contiguous()

    def collate(self, parts: Sequence[torch.Tensor | PatchImages]) -> torch.Tensor | PatchImages:
        """Joins preprocessed parts into one batch (in pinned memory when on CUDA). The
        pinned buffer is reused by the calling thread's next collate, after its forward."""
        if self.patch_budget:
            return PatchImages.cat(parts)
        tensors = cast(Sequence[torch.Tensor], parts)  # a fixed-size model's parts are tensors
        if len(tensors) == 1 and self.device.type == "cpu":
            return tensors[0]
        if self.device.type != "cuda":
            return torch.cat(list(tensors))
        if all(p.dtype == torch.uint8 for p in tensors):
            dtype = torch.uint8
        else:  # callers sent normalized floats too: the batch goes as floats
            dtype = self.dtype
            tensors = [self._normalized_on_cpu(p) if p.dtype == torch.uint8 else p for p in tensors]
        count = sum(int(p.shape[0]) for p in tensors)
        buffers = getattr(self._staging, "buffers", None)
        if buffers is None:
            buffers = self._staging.buffers = {}
        pinned = buffers.get(dtype)
        if pinned is None or pinned.shape[0] < count:
            h, w = self.crop_size
            pinned = torch.empty((max(count, self.limits.max_batch_size), 3, h, w), dtype=dtype).pin_memory()
            buffers[dtype] = pinned
        return torch.cat(list(tensors), out=pinned[:count])

    @property
    def cuda_graphs(self) -> bool:
        """Whether the image forward pass replays CUDA graphs (CUDA only; see cuda_forward)."""
        return self._device_forward is not None and self._device_forward.graphed

    def forward(self, pixel_values: torch.Tensor | PatchImages) -> torch.Tensor:
        """One image forward pass; returns the (unnormalized) features as float32 on CPU."""
        if self._device_forward is not None:
            return self._device_forward(pixel_values)
        with torch.inference_mode():
            if isinstance(pixel_values, PatchImages):
                batch = pixel_values.to(self.device_in_use, self.dtype_in_use)
                output = self.model.get_image_features(
                    pixel_values=batch.patches, pixel_attention_mask=batch.mask, spatial_shapes=batch.spatial_shapes
                )
            else:
                inputs = pixel_values.to(self.device_in_use, dtype=self.dtype_in_use, non_blocking=True)
                output = self.model.get_image_features(pixel_values=inputs)
            features = pooled(output)
            # float32 before normalizing: L2 norms in float16 lose precision.
            return features.to("cpu", dtype=torch.float32)

    @staticmethod
    def postprocess(features: torch.Tensor) -> np.ndarray:
        """L2-normalizes features and returns them as a float32 numpy array."""
        return torch.nn.functional.normalize(features.float(), dim=-1).numpy()

    def embed_images(self, pixels: np.ndarray) -> np.ndarray:
        """Embeds a pixel array directly (no batching across callers), max_batch_size at a time."""
        tensor = self.preprocess(pixels)
        chunks = [
            self.postprocess(self.forward(tensor[start : start + self.limits.max_batch_size]))
            for start in range(0, tensor.shape[0], self.limits.max_batch_size)
        ]
        return np.concatenate(chunks) if len(chunks) > 1 else chunks[0]

    __call__ = embed_images

    # -- texts -----------------------------------------------------------------

    def validate_texts(self, texts: Sequence[str]) -> list[str]:
        if isinstance(texts, str) or not isinstance(texts, Sequence):
            raise InvalidArgument("texts must be a list of strings")
        if len(texts) == 0:
            raise InvalidArgument("texts is empty; send at least one non-empty text")
        for index, text in enumerate(texts):
            if not isinstance(text, str) or not text.strip():
                raise InvalidArgument(
                    f"texts[{index}] is empty; every text needs at least one non-whitespace character"
                )
            if len(text) > MAX_TEXT_CHARS:
                raise InvalidArgument(
                    f"texts[{index}] is {len(text):,} characters, over the limit of {MAX_TEXT_CHARS:,}; "
                    f"shorten it (the model reads only its first {self.max_text_length} tokens)"
                )
        return list(texts)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalized text embeddings, (len(texts), embedding_dim) float32.
        Texts longer than the model's context are truncated."""
        return self.postprocess(self._text_features(self.validate_texts(texts)))

    def _text_features(self, texts: list[str]) -> torch.Tensor:
        # SigLIP pads to its full length (its tower pools the last position); CLIP-style
        # towers to the longest text (see families.py).
        tokens = self.tokenizer(
            texts,
            padding=self.family.text_padding,
            truncation=True,
            max_length=self.max_text_length,
            return_tensors="pt",
        )
        inputs = {k: v.to(self.device_in_use) for k, v in text_inputs(self.model, tokens).items()}
        with torch.inference_mode():
            return pooled(self.model.get_text_features(**inputs)).to("cpu", dtype=torch.float32)
