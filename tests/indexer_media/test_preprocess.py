"""Our pixel values against Hugging Face's CLIPImageProcessor on real video frames."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from videosearch.embedder.types import Preprocessing
from videosearch.embedder.preprocessing import (
    FramePreprocessor,
    ReducedFrame,
    normalize,
    resized_size,
)

from .helpers import clip_preprocessing, decode_all

import transformers
logging.getLogger("transformers").setLevel(logging.ERROR)  # "torchvision missing, using the PIL backend"

# Measured (see videosearch.embedder.preprocessing): pillow within one uint8 level, torch within 5.
TOLERANCE = {"pillow": (0.02, 0.0005), "torch": (0.1, 0.01)}  # max and mean abs, normalized units


def preprocessing_from_image_processor(proc) -> Preprocessing:
    """The Preprocessing a CLIPImageProcessor stands for (the Embedder builds the official one)."""
    resample = {2: "bilinear", 3: "bicubic"}[int(proc.resample)]
    return Preprocessing(
        shortest_edge=proc.size["shortest_edge"],
        crop_height=proc.crop_size["height"],
        crop_width=proc.crop_size["width"],
        rescale_factor=proc.rescale_factor,
        image_mean=tuple(proc.image_mean),
        image_std=tuple(proc.image_std),
        resample=resample,
    )


def hf_pixels(proc, frames_bgr) -> np.ndarray:
    rgb = [np.ascontiguousarray(f[:, :, ::-1]) for f in frames_bgr]
    return proc(images=rgb, return_tensors="np")["pixel_values"]


@pytest.fixture(scope="module")
def real_frames(videos):
    landscape = decode_all(videos / "testvideo.mp4")[::61]  # 1280x720, frames of every scene
    portrait = decode_all(videos / "issue-134-rotate.mp4")[::47]  # 544x1280 after rotation
    return {"landscape": landscape, "portrait": portrait}


@pytest.mark.parametrize("backend", ["pillow", "torch"])
@pytest.mark.parametrize("size", [224, 32])
@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_matches_clip_image_processor(real_frames, backend, size, orientation):
    if backend == "torch":
        import torch  # noqa: F401 - a required dependency: a broken install fails here
    frames = real_frames[orientation]
    proc = transformers.CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
    preprocessing = preprocessing_from_image_processor(proc)
    ours = normalize(np.stack([FramePreprocessor(preprocessing, backend=backend)(f) for f in frames]), preprocessing)
    theirs = hf_pixels(proc, frames)
    assert ours.shape == theirs.shape == (len(frames), 3, size, size) and ours.dtype == np.float32
    diff = np.abs(ours - theirs)
    max_tol, mean_tol = TOLERANCE[backend]
    assert diff.max() <= max_tol and diff.mean() <= mean_tol, (diff.max(), diff.mean())


@pytest.mark.parametrize("backend", ["pillow", "torch"])
@pytest.mark.parametrize("size", [224, 32])
@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_candidates_shrunk_first_stay_close_to_clip_image_processor(real_frames, backend, size, orientation):
    """The scene sampler keeps box-filtered, integer-shrunk candidates and resizes only the
    frames it samples: a small, bounded departure from the reference, traded for speed."""
    frames = real_frames[orientation]
    proc = transformers.CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
    preprocessing = preprocessing_from_image_processor(proc)
    preprocess = FramePreprocessor(preprocessing, backend=backend)
    candidates = [preprocess.candidate(f) for f in frames]
    if orientation == "landscape" or size == 32:
        assert all(isinstance(c, ReducedFrame) for c in candidates), "large frames are shrunk first"
    ours = normalize(np.stack([preprocess.finish(c) for c in candidates]), preprocessing)
    diff = np.abs(ours - hf_pixels(proc, frames))
    assert diff.max() <= 0.25 and diff.mean() <= 0.01, (diff.max(), diff.mean())


def test_channels_are_rgb(real_frames):
    # Swapping R and B in the input must swap our output planes 0 and 2: we did flip BGR.
    frame = real_frames["landscape"][1]
    preprocess = FramePreprocessor(clip_preprocessing(32), backend="pillow")
    proc = transformers.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    ours = normalize(preprocess(frame), clip_preprocessing(32))
    wrong = normalize(preprocess(np.ascontiguousarray(frame[:, :, ::-1])), clip_preprocessing(32))
    theirs = hf_pixels(proc, [frame])[0]
    assert np.abs(ours - theirs).max() < np.abs(wrong - theirs).max()
    assert np.abs(ours - theirs).max() <= 0.02


def test_tiny_clip_processor(tmp_path, real_frames):
    from videosearch.demo.tokenizer import build_tiny_random_clip

    model_dir = build_tiny_random_clip(tmp_path / "clip", image_size=32)
    processor = transformers.CLIPProcessor.from_pretrained(model_dir)
    preprocessing = preprocessing_from_image_processor(processor.image_processor)
    assert (preprocessing.crop_height, preprocessing.crop_width) == (32, 32)
    frames = real_frames["portrait"][:3]
    ours = normalize(np.stack([FramePreprocessor(preprocessing)(f) for f in frames]), preprocessing)
    theirs = hf_pixels(processor.image_processor, frames)
    assert np.abs(ours - theirs).max() <= 0.1


@pytest.mark.parametrize("backend", ["pillow", "torch"])
def test_crop_larger_than_resized_frame_pads_like_transformers(backend):
    if backend == "torch":
        import torch  # noqa: F401 - a required dependency: a broken install fails here
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)
    proc = transformers.CLIPImageProcessor(size={"shortest_edge": 24}, crop_size={"height": 32, "width": 36})
    preprocessing = preprocessing_from_image_processor(proc)
    ours = normalize(FramePreprocessor(preprocessing, backend=backend)(frame), preprocessing)
    theirs = hf_pixels(proc, [frame])[0]
    assert ours.shape == theirs.shape == (3, 32, 36)
    assert np.abs(ours - theirs).max() <= TOLERANCE[backend][0]


def test_resized_size_truncates_like_transformers():
    assert resized_size(720, 1280, 224) == (224, 398)  # 398.2 -> 398
    assert resized_size(1280, 544, 224) == (527, 224)  # 527.06 -> 527
    assert resized_size(100, 100, 32) == (32, 32)


def test_normalize_is_rescale_then_mean_std():
    preprocessing = clip_preprocessing(2)
    pixels = np.zeros((1, 3, 2, 2), np.uint8)
    pixels[0, 1] = 255
    out = normalize(pixels, preprocessing)
    assert out.dtype == np.float32 and out.shape == (1, 3, 2, 2)
    np.testing.assert_allclose(out[0, 0], -0.48145466 / 0.26862954, rtol=1e-6)
    np.testing.assert_allclose(out[0, 1], (1 - 0.4578275) / 0.26130258, rtol=1e-6)
    with pytest.raises(ValueError, match="3, H, W"):
        normalize(np.zeros((2, 2), np.uint8), preprocessing)


def test_unknown_resample_is_refused():
    bad = Preprocessing(32, 32, 32, 1 / 255, (0, 0, 0), (1, 1, 1), "fancy")
    with pytest.raises(ValueError, match="resample"):
        FramePreprocessor(bad)
