"""The model families the Embedder hosts, each through transformers' own classes
(``AutoConfig`` -> ``AutoModel`` + ``AutoProcessor``), and the one place that says how a
family gets text and image features, pads its text and scores a match.

| family          | config model_type | text padding   | image input                       | score   |
|-----------------|-------------------|----------------|-----------------------------------|---------|
| clip            | clip              | longest        | shortest edge + centre crop       | cosine  |
| siglip          | siglip            | max_length     | fixed height x width, no crop     | sigmoid |
| siglip2         | siglip (Gemma tok)| max_length     | fixed height x width, no crop     | sigmoid |
| siglip2-naflex  | siglip2           | max_length     | aspect kept, patch budget + mask  | sigmoid |
| chinese-clip    | chinese_clip      | longest        | as its processor says (OFA: fixed)| cosine  |
| altclip         | altclip           | longest        | shortest edge + centre crop       | cosine  |

Why the padding matters: SigLIP's text tower pools the *last* position and was trained on
texts padded to its full length (no attention mask), so a text padded only to the longest in
its batch embeds differently alone and in company. CLIP-style towers pool the end-of-text or
first token under an attention mask, so padding to the longest is exact and cheaper.

Pooling and projection are each model's own ``get_text_features``/``get_image_features``;
the Embedder only L2-normalizes what they return, and reads the embedding size from one tiny
forward pass at load (SigLIP's image side has no projection layer: its size is the vision
tower's width, which a config field like ``projection_dim`` would not tell).

OpenCLIP checkpoints (open_clip_torch: the XLM-R and NLLB-CLIP multilingual models Immich
offers) are not in the table: they are not transformers models (no config.json model_type,
their own tokenizers and ``create_model_and_transforms``), so hosting them would mean a
second loader with its own preprocessing reader and weight checks, and a new dependency that
this machine cannot test without downloading real weights. See docs/embedder-notes.md.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import re
from dataclasses import dataclass
from typing import Any, cast

import torch

from videosearch.embedder.types import (
    RESIZE_FIXED,
    RESIZE_PATCH_BUDGET,
    RESIZE_SHORTEST_EDGE_CROP,
    SCORE_COSINE,
    SCORE_SIGMOID,
    Preprocessing,
)

log = logging.getLogger(__name__)

RGB = tuple[float, float, float]  # a per-channel mean or standard deviation


class ModelLoadError(RuntimeError):
    """The model cannot be loaded or the device/dtype settings cannot work; the
    message says what to do. Raised at startup only."""


@dataclass(frozen=True)
class Family:
    """One supported model family: how to recognise it and how to use it."""

    name: str
    model_type: str  # config.json's model_type
    architecture: str  # the transformers class AutoModel builds for it (for messages)
    score_kind: str
    text_padding: str  # "longest" or "max_length" (see the module doc)
    examples: tuple[str, ...]
    languages: str
    # Positions the text tower reserves before the first token (XLM-R style: padding_idx + 1).
    position_offset: int = 0
    # How GetModelInfo tells this family apart from another with the same model_type.
    tokenizer_hint: str = ""


FAMILIES: tuple[Family, ...] = (
    Family(
        "clip",
        "clip",
        "CLIPModel",
        SCORE_COSINE,
        "longest",
        ("openai/clip-vit-base-patch32", "openai/clip-vit-large-patch14", "laion/CLIP-ViT-B-32-laion2B-s34B-b79K"),
        "English",
    ),
    Family(
        "siglip",
        "siglip",
        "SiglipModel",
        SCORE_SIGMOID,
        "max_length",
        (
            "google/siglip-base-patch16-224",
            "google/siglip-so400m-patch14-384",
            "google/siglip-base-patch16-256-multilingual",
        ),
        "English (multilingual variant: many)",
    ),
    Family(
        "siglip2",
        "siglip",
        "SiglipModel",
        SCORE_SIGMOID,
        "max_length",
        ("google/siglip2-base-patch16-224", "google/siglip2-so400m-patch14-384"),
        "multilingual",
        tokenizer_hint="gemma",
    ),
    Family(
        "siglip2-naflex",
        "siglip2",
        "Siglip2Model",
        SCORE_SIGMOID,
        "max_length",
        ("google/siglip2-base-patch16-naflex", "google/siglip2-so400m-patch16-naflex"),
        "multilingual",
    ),
    Family(
        "chinese-clip",
        "chinese_clip",
        "ChineseCLIPModel",
        SCORE_COSINE,
        "longest",
        ("OFA-Sys/chinese-clip-vit-base-patch16", "OFA-Sys/chinese-clip-vit-large-patch14"),
        "Chinese, some English",
    ),
    Family(
        "altclip",
        "altclip",
        "AltCLIPModel",
        SCORE_COSINE,
        "longest",
        ("BAAI/AltCLIP", "BAAI/AltCLIP-m9"),
        "English and Chinese (m9: nine languages)",
        position_offset=2,
    ),
)


def supported_families() -> str:
    """One line listing the families, for messages."""
    return "; ".join(f"{f.name} ({f.architecture}, e.g. {f.examples[0]})" for f in FAMILIES)


def family_for(model_type: str, architectures: list[str] | None, tokenizer_class: str = "") -> Family:
    """The family of a config's model_type (and tokenizer, where one model_type holds two);
    ModelLoadError listing the supported families otherwise."""
    candidates = [f for f in FAMILIES if f.model_type == model_type]
    if not candidates:
        shown = f"{model_type!r}" + (f" ({', '.join(architectures)})" if architectures else "")
        raise ModelLoadError(
            f"the model is a {shown} model, which the Embedder does not host; supported families: "
            f"{supported_families()}. Pass --model a checkpoint of one of these (a Hugging Face id or a local directory)"
        )
    hinted = [f for f in candidates if f.tokenizer_hint and f.tokenizer_hint in tokenizer_class.lower()]
    return hinted[0] if hinted else next(f for f in candidates if not f.tokenizer_hint)


def _advice(model_id: str, exc: Exception) -> str:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    if len(reason) > 600:
        reason = reason[:600] + "..."
    return (
        f"cannot load the model {model_id!r} ({type(exc).__name__}: {reason}). "
        "To fix it: pass a local directory that holds the model and its processor files with "
        "--model (or VIDEOSEARCH_EMBEDDER_MODEL); or set HF_HOME to a Hugging Face cache that "
        "already has this model; or start once with network access (HF_HUB_OFFLINE unset) so "
        "it gets downloaded and cached; or check the model id for typos."
    )


_TOWERS = (
    (("text_model", "text_projection", "text_embed"), "text tower"),
    (("vision_model", "visual_projection", "vision_embed", "image_embed"), "image tower"),
    (("logit_scale", "logit_bias"), "score head (logit scale/bias)"),
)


def tower_of(key: str) -> str:
    for prefixes, tower in _TOWERS:
        if any(part.startswith(prefixes) for part in key.split(".")):
            return tower
    return "other weights"


# Checkpoint weights no family's forward pass reads: the pooling layer of a BERT/RoBERTa text
# tower that these models build without one (their projection reads the first token), and
# position-id buffers older checkpoints saved. Unused, so dropping them changes no embedding.
HARMLESS_UNEXPECTED = re.compile(r"(^|\.)(pooler\.dense\.(weight|bias)|position_ids)$")


def check_loading_info(family: Family, model_id: str, info: dict) -> None:
    """Refuses a load that left any weights random (missing), ignored some (unexpected) or
    could not fit them (mismatched): the model would start and answer nonsense."""
    problems: dict[str, dict[str, list[str]]] = {}
    for kind in ("missing_keys", "unexpected_keys", "mismatched_keys"):
        for entry in info.get(kind) or ():
            key = entry if isinstance(entry, str) else str(entry[0])
            if kind == "unexpected_keys" and HARMLESS_UNEXPECTED.search(key):
                log.info("%s: ignoring the checkpoint's unused %s", model_id, key)
                continue
            problems.setdefault(tower_of(key), {}).setdefault(kind.removesuffix("_keys"), []).append(key)
    if not problems:
        return
    parts = []
    for tower, kinds in sorted(problems.items()):
        described = ", ".join(f"{len(keys)} {kind} (e.g. {sorted(keys)[0]})" for kind, keys in sorted(kinds.items()))
        parts.append(f"{tower}: {described}")
    raise ModelLoadError(
        f"refusing to start: the {family.name} model {model_id!r} did not load completely -- "
        + "; ".join(parts)
        + ". Missing weights would be random and every embedding from that part meaningless. The checkpoint is "
        f"incomplete or saved for another architecture: download it again in full, or pass --model a complete "
        f"{family.architecture} checkpoint (config.json, model.safetensors, tokenizer and preprocessor files)"
    )


@dataclass
class LoadedModel:
    """A family's model (float32, CPU, eval) and its processor's parts."""

    family: Family
    model: torch.nn.Module
    tokenizer: Any  # a transformers tokenizer (called on texts)
    image_processor: Any


def load_family_model(model_id: str) -> LoadedModel:
    """Loads any supported family, or raises ModelLoadError saying what to do."""
    from transformers import AutoConfig, AutoModel, AutoProcessor

    try:
        config = AutoConfig.from_pretrained(model_id)
    except Exception as exc:  # any failure here means "cannot start"; say what to do
        raise ModelLoadError(_advice(model_id, exc)) from exc
    family_for(config.model_type, getattr(config, "architectures", None))  # unknown -> the supported list
    try:
        processor = AutoProcessor.from_pretrained(model_id)
    except Exception as exc:
        if "sentencepiece" in str(exc).lower():
            raise ModelLoadError(
                f"cannot load the tokenizer of {model_id!r}: it needs the sentencepiece package; "
                "install it (pip install -r requirements.txt pins it)"
            ) from exc
        raise ModelLoadError(_advice(model_id, exc)) from exc
    tokenizer = getattr(processor, "tokenizer", None)
    image_processor = getattr(processor, "image_processor", None)
    if tokenizer is None or image_processor is None:
        raise ModelLoadError(
            f"{model_id!r} has no {'tokenizer' if tokenizer is None else 'image processor'} files; "
            "pass --model a directory (or id) with the tokenizer and preprocessor_config.json saved beside the weights"
        )
    family = family_for(config.model_type, getattr(config, "architectures", None), type(tokenizer).__name__)
    try:
        # Mismatched shapes are reported in `info` (and refused below, tower by tower) rather
        # than raised as transformers' generic error.
        model, info = AutoModel.from_pretrained(
            model_id, dtype=torch.float32, output_loading_info=True, ignore_mismatched_sizes=True
        )
    except Exception as exc:
        raise ModelLoadError(_advice(model_id, exc)) from exc
    check_loading_info(family, model_id, info)
    model.eval()
    return LoadedModel(family, model, tokenizer, image_processor)


def max_text_length(family: Family, tokenizer, text_config) -> int:
    """Tokens the text tower can read: the tokenizer's limit within the position table."""
    positions = int(text_config.max_position_embeddings) - family.position_offset
    limit = getattr(tokenizer, "model_max_length", None)
    return int(min(limit, positions)) if isinstance(limit, int) and limit > 0 else positions


def pooled(output) -> torch.Tensor:
    """get_*_features returns a tensor in transformers 4 and an output object in 5."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


def text_inputs(model, tokens) -> dict:
    """The tokenizer's outputs the model's get_text_features takes (SigLIP's takes no
    token_type_ids; Chinese-CLIP's BERT does)."""
    accepted = _text_parameters(model.__class__)
    return {k: v for k, v in tokens.items() if k in accepted}


@functools.cache
def _text_parameters(model_class: Any) -> frozenset[str]:  # a transformers model class
    return frozenset(inspect.signature(model_class.get_text_features).parameters)


def logit_scale_and_bias(model) -> tuple[float, float]:
    """exp(logit_scale) and logit_bias as the model learned them (0 where it has none)."""
    scale = getattr(model, "logit_scale", None)
    bias = getattr(model, "logit_bias", None)
    return (
        float(scale.detach().float().exp()) if scale is not None else 0.0,
        float(bias.detach().float().reshape(-1)[0]) if bias is not None else 0.0,
    )


def _size_field(size, key: str):
    if size is None:
        return None
    if isinstance(size, dict):
        return size.get(key)
    return getattr(size, key, None)


def resample_name(resample) -> str:
    from transformers.image_utils import PILImageResampling

    try:
        return PILImageResampling(int(resample)).name.lower()
    except (TypeError, ValueError):
        return str(getattr(resample, "name", resample)).lower()


def preprocessing_of(image_processor) -> Preprocessing:
    """Reads the preprocessing from the model's own image processor, so that callers learn it
    from the model itself and can never disagree with it."""
    rescale = float(image_processor.rescale_factor) if getattr(image_processor, "do_rescale", True) else 1.0
    if getattr(image_processor, "do_normalize", True):
        mean = cast(RGB, tuple(float(v) for v in image_processor.image_mean))
        std = cast(RGB, tuple(float(v) for v in image_processor.image_std))
    else:
        mean, std = (0.0, 0.0, 0.0), (1.0, 1.0, 1.0)
    resample = resample_name(image_processor.resample)

    def made(shortest: int, height: int, width: int, mode: str, patch: int = 0, patches: int = 0) -> Preprocessing:
        return Preprocessing(
            shortest, height, width, rescale, mean, std, resample, mode, patch_size=patch, max_num_patches=patches
        )

    name = type(image_processor).__name__
    max_patches, patch = getattr(image_processor, "max_num_patches", None), getattr(image_processor, "patch_size", None)
    if max_patches and patch:  # NaFlex: aspect kept within a patch budget
        # The sizes name what a square image becomes, so that a caller that knows only crops
        # (an older Indexer) still sends a size the budget accepts.
        side = math.isqrt(int(max_patches)) * int(patch)
        return made(side, side, side, RESIZE_PATCH_BUDGET, int(patch), int(max_patches))
    if not getattr(image_processor, "do_resize", True):
        raise ModelLoadError(
            f"the image processor ({name}) does not resize, so images would keep their own "
            "sizes; the Embedder needs one input size: set do_resize in preprocessor_config.json"
        )
    size, crop = image_processor.size, getattr(image_processor, "crop_size", None)
    cropped = bool(getattr(image_processor, "do_center_crop", False)) and crop is not None
    shortest = _size_field(size, "shortest_edge")
    if shortest:
        if not cropped:
            raise ModelLoadError(
                f"the image processor ({name}) resizes the shortest edge without a centre crop, "
                "so images keep their aspect ratio and size; set do_center_crop and crop_size"
            )
        return made(
            int(shortest), int(_size_field(crop, "height")), int(_size_field(crop, "width")), RESIZE_SHORTEST_EDGE_CROP
        )
    height, width = _size_field(size, "height"), _size_field(size, "width")
    if not height or not width:
        raise ModelLoadError(
            f"the image processor ({name}) has a size the Embedder cannot read ({size}); "
            "supported: shortest_edge with a centre crop, height and width, or a NaFlex patch budget"
        )
    if cropped and (int(_size_field(crop, "height")), int(_size_field(crop, "width"))) != (int(height), int(width)):
        raise ModelLoadError(
            f"the image processor ({name}) resizes to {height}x{width} and then crops; the Embedder "
            "supports a fixed resize without a crop, or shortest edge plus crop"
        )
    return made(min(int(height), int(width)), int(height), int(width), RESIZE_FIXED)
