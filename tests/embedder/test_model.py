"""The CLIP pipeline on its own: preprocess -> forward -> postprocess, and texts."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from transformers import CLIPModel, CLIPProcessor
from videosearch.common.errors import InvalidArgument
from videosearch.embedder.precision import auto_dtype, cpu_flags
from videosearch.embedder.model import (
    ClipEmbedder,
    ModelLoadError,
    check_reduced_precision,
    local_model_id,
    parse_dtype,
    resolve_device,
)

from .helpers import normalize_like_processor, random_uint8


def test_image_embeddings_are_unit_norm_float32(tiny_embedder):
    embeddings = tiny_embedder(random_uint8(5))
    assert embeddings.shape == (5, tiny_embedder.embedding_dim) == (5, 16)
    assert embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(embeddings, axis=1), 1.0, atol=1e-5)


def test_batched_result_equals_per_image_result(tiny_embedder):
    pixels = random_uint8(7, seed=1)
    batched = tiny_embedder(pixels)
    one_by_one = np.concatenate([tiny_embedder(pixels[i : i + 1]) for i in range(len(pixels))])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5, rtol=0)
    # and different images give different embeddings (the check above is not vacuous)
    assert np.abs(batched[0] - batched[1]).max() > 1e-2


def test_more_images_than_a_batch_are_embedded_in_chunks(tiny_embedder):
    pixels = random_uint8(tiny_embedder.limits.max_batch_size * 2 + 3, seed=2)
    embeddings = tiny_embedder(pixels)
    assert embeddings.shape[0] == len(pixels)
    np.testing.assert_allclose(embeddings[-1:], tiny_embedder(pixels[-1:]), atol=1e-5, rtol=0)


def test_uint8_path_equals_float_path(tiny_embedder):
    pixels = random_uint8(4, seed=3)
    from_uint8 = tiny_embedder(pixels)
    from_float32 = tiny_embedder(normalize_like_processor(pixels, tiny_embedder))
    np.testing.assert_allclose(from_uint8, from_float32, atol=1e-5, rtol=0)
    from_float16 = tiny_embedder(normalize_like_processor(pixels, tiny_embedder).astype(np.float16))
    np.testing.assert_allclose(from_uint8, from_float16, atol=5e-3, rtol=0)


def test_uint8_path_matches_hugging_face_processor_and_model(tiny_clip_dir, tiny_embedder):
    """The reference: CLIPProcessor on a PIL image + get_image_features, as the article's pipeline did."""
    processor = CLIPProcessor.from_pretrained(tiny_clip_dir)
    model = CLIPModel.from_pretrained(tiny_clip_dir).eval()
    frame = random_uint8(1, seed=4)[0]  # already crop-sized: the resize is the identity
    image = Image.fromarray(frame.transpose(1, 2, 0))
    with torch.inference_mode():
        reference = model.get_image_features(**processor(images=image, return_tensors="pt"))
    reference = getattr(reference, "pooler_output", reference)
    reference = torch.nn.functional.normalize(reference, dim=-1).numpy()
    np.testing.assert_allclose(tiny_embedder(frame[None]), reference, atol=1e-5, rtol=0)


def test_preprocess_does_not_modify_the_callers_array(tiny_embedder):
    pixels = normalize_like_processor(random_uint8(2, seed=5), tiny_embedder)
    before = pixels.copy()
    tiny_embedder(pixels)
    np.testing.assert_array_equal(pixels, before)


@pytest.mark.parametrize(
    ("pixels", "fragment"),
    [
        (np.zeros((0, 3, 32, 32), np.uint8), "shape [0, 3, 32, 32]"),
        (np.zeros((1, 4, 32, 32), np.uint8), "shape [1, 4, 32, 32]"),
        (np.zeros((1, 3, 32, 31), np.uint8), "shape [1, 3, 32, 31]"),
        (np.zeros((1, 32, 32, 3), np.uint8), "shape [1, 32, 32, 3]"),
        (np.zeros((3, 32, 32), np.uint8), "shape [3, 32, 32]"),
        (np.zeros((1, 3, 32, 32), np.float64), "dtype float64"),
        (np.zeros((1, 3, 32, 32), np.int32), "dtype int32"),
    ],
)
def test_preprocess_rejects_wrong_shape_or_dtype_saying_what_is_expected(tiny_embedder, pixels, fragment):
    with pytest.raises(InvalidArgument) as info:
        tiny_embedder.preprocess(pixels)
    message = str(info.value)
    assert fragment in message
    assert "(N, 3, 32, 32)" in message and "uint8" in message and "float32" in message


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_preprocess_rejects_non_finite_values(tiny_embedder, bad):
    pixels = np.zeros((2, 3, 32, 32), np.float32)
    pixels[1, 2, 3, 4] = bad
    with pytest.raises(InvalidArgument, match="NaN or infinite"):
        tiny_embedder.preprocess(pixels)


def test_model_info_reports_the_processors_preprocessing(tiny_clip_dir, tiny_embedder):
    info = tiny_embedder.model_info()
    image_processor = CLIPProcessor.from_pretrained(tiny_clip_dir).image_processor
    p = info.preprocessing
    assert info.model_id == local_model_id(tiny_clip_dir)
    assert info.embedding_dim == 16
    assert (info.device, info.compute_dtype) == ("cpu", "float32")
    assert p.shortest_edge == image_processor.size["shortest_edge"] == 32
    assert (p.crop_height, p.crop_width) == (32, 32)
    assert p.rescale_factor == pytest.approx(1 / 255)
    assert p.image_mean == pytest.approx(tuple(image_processor.image_mean))
    assert p.image_std == pytest.approx(tuple(image_processor.image_std))
    assert p.resample == "bicubic"


def test_text_embeddings_are_deterministic_unit_norm_and_distinct(tiny_embedder):
    texts = ["a red circle", "two blue squares", "a red circle"]
    first = tiny_embedder.embed_texts(texts)
    second = tiny_embedder.embed_texts(texts)
    assert first.shape == (3, 16) and first.dtype == np.float32
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(first[0], first[2], atol=1e-6)  # padding does not change a text's embedding
    assert np.abs(first[0] - first[1]).max() > 1e-2


def test_text_alone_equals_text_in_a_padded_batch(tiny_embedder):
    alone = tiny_embedder.embed_texts(["a star"])
    in_batch = tiny_embedder.embed_texts(["a star", "a big green triangle on a white background"])
    np.testing.assert_allclose(alone[0], in_batch[0], atol=1e-5)


def test_long_text_is_truncated_to_the_context_length(tiny_embedder):
    long_text = " ".join(["red circle"] * 150)  # far beyond 77 tokens, under MAX_TEXT_CHARS
    embeddings = tiny_embedder.embed_texts([long_text, "a star"])
    assert embeddings.shape == (2, 16)
    assert np.isfinite(embeddings).all()


@pytest.mark.parametrize(
    ("texts", "fragment"),
    [([], "texts is empty"), (["fine", ""], "texts[1] is empty"), (["   \t\n"], "texts[0] is empty"), ("a", "list")],
)
def test_embed_texts_rejects_empty_input(tiny_embedder, texts, fragment):
    with pytest.raises(InvalidArgument) as info:
        tiny_embedder.embed_texts(texts)
    assert fragment in str(info.value)


def test_device_and_dtype_settings_are_validated():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert parse_dtype("auto") is None
    assert parse_dtype("bf16") is torch.bfloat16
    with pytest.raises(ModelLoadError, match="unknown dtype"):
        parse_dtype("float8")
    with pytest.raises(ModelLoadError, match="unsupported device|unknown device"):
        resolve_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ModelLoadError, match="CUDA is not available; use --device cpu"):
            resolve_device("cuda")


def test_bfloat16_model_embeds_close_to_float32(tiny_clip_dir, tiny_embedder):
    bf16 = ClipEmbedder(str(tiny_clip_dir), device="cpu", dtype="bfloat16")
    assert bf16.model_info().compute_dtype == "bfloat16"
    pixels = random_uint8(3, seed=6)
    reduced, full = bf16(pixels), tiny_embedder(pixels)
    assert reduced.dtype == np.float32
    assert (reduced * full).sum(axis=1).min() > 0.99


def test_auto_dtype_on_cpu_follows_the_hardware_not_a_timing(tiny_clip_dir):
    expected, reason = auto_dtype(torch.device("cpu"))
    infos = [ClipEmbedder(str(tiny_clip_dir), device="cpu", dtype="auto").model_info() for _ in range(2)]
    assert {info.compute_dtype for info in infos} == {str(expected).removeprefix("torch.")}
    assert infos[0].dtype_reason == reason and reason.startswith("auto: CPU")
    explicit = ClipEmbedder(str(tiny_clip_dir), device="cpu", dtype="float32").model_info()
    assert explicit.compute_dtype == "float32" and explicit.dtype_reason == "requested with --dtype"


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ({"avx2", "amx_bf16", "avx512_bf16"}, torch.bfloat16),
        ({"avx512f", "avx512_bf16"}, torch.bfloat16),
        ({"fp", "asimd", "bf16"}, torch.bfloat16),  # Arm
        ({"avx2", "avx512f"}, torch.float32),
        (set(), torch.float32),
    ],
)
def test_auto_dtype_rule(flags, expected):
    dtype, reason = auto_dtype(torch.device("cpu"), frozenset(flags))
    assert dtype is expected and reason.startswith("auto: CPU")
    assert auto_dtype(torch.device("cuda", 0), frozenset(flags))[0] is torch.float16


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu avx2 avx512_bf16\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert cpu_flags(cpuinfo) == frozenset({"fpu", "avx2", "avx512_bf16"})
    assert cpu_flags(tmp_path / "absent") == frozenset()


def test_precision_check_leaves_the_float32_model_untouched(tiny_embedder):
    before = tiny_embedder(random_uint8(1, seed=7))
    check = check_reduced_precision(tiny_embedder.model, tiny_embedder.processor, tiny_embedder.preprocessing)
    assert check.float32_seconds > 0 and check.reduced_seconds > 0
    assert next(tiny_embedder.model.parameters()).dtype == torch.float32
    np.testing.assert_array_equal(tiny_embedder(random_uint8(1, seed=7)), before)


def test_unknown_model_raises_model_load_error_saying_what_to_do(tmp_path):
    with pytest.raises(ModelLoadError) as info:
        ClipEmbedder(str(tmp_path / "no-such-model"), device="cpu", dtype="float32")
    message = str(info.value)
    assert "no-such-model" in message and "--model" in message and "HF_HOME" in message


def test_folding_quick_gelu_keeps_the_models_output(tiny_clip_dir):
    from transformers.activations import QuickGELUActivation
    from videosearch.embedder.model import fold_quick_gelu

    original = CLIPModel.from_pretrained(tiny_clip_dir).eval()
    folded = CLIPModel.from_pretrained(tiny_clip_dir).eval()
    assert fold_quick_gelu(folded) == 4  # 2 vision + 2 text layers of the tiny CLIP
    assert not any(isinstance(m, QuickGELUActivation) for m in folded.modules())
    assert fold_quick_gelu(folded) == 0  # idempotent: nothing left to fold
    pixels = torch.randn(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    tokens = CLIPProcessor.from_pretrained(tiny_clip_dir).tokenizer(["a red circle", "a star"], padding=True, return_tensors="pt")
    with torch.inference_mode():
        for method, inputs in (("get_image_features", {"pixel_values": pixels}), ("get_text_features", dict(tokens))):
            want, got = getattr(original, method)(**inputs), getattr(folded, method)(**inputs)
            want, got = getattr(want, "pooler_output", want), getattr(got, "pooler_output", got)
            torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_local_model_id_follows_content_not_location(tiny_clip_dir, tmp_path):
    import shutil

    copy = tmp_path / tiny_clip_dir.name
    shutil.copytree(tiny_clip_dir, copy)
    assert local_model_id(copy) == local_model_id(tiny_clip_dir)
    assert local_model_id(copy).startswith(f"{tiny_clip_dir.name}@sha256:")
    config = copy / "config.json"
    config.write_text(config.read_text().replace("{", '{"note": "retrained",', 1))
    assert local_model_id(copy) != local_model_id(tiny_clip_dir)
