"""Every supported model family, offline: a tiny random model of each (tests/model_families.py)
loads through the same from_pretrained path as a hub id, is served by a real Embedder, embeds
English, Chinese and an image, and is prepared for exactly as its own processor prepares images."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoProcessor
from videosearch.common.tensors import from_tensor, to_tensor
from videosearch.client.embedder import EmbedderClient
from videosearch.embedder.families import FAMILIES as FAMILY_TABLE
from videosearch.embedder.families import ModelLoadError
from videosearch.embedder.model import ClipEmbedder, check_reduced_precision
from videosearch.embedder.patches import patchify
from videosearch.embedder.preprocessing import FramePreprocessor, normalize, patch_budget_size
from videosearch.embedder.server import serve
from videosearch.embedder.settings import EmbedderSettings
from videosearch.v1 import embedder_pb2

from tests.model_families import EMBEDDING_SIZE, FAMILIES, SIGLIP_LOGIT_BIAS, SIGLIP_LOGIT_SCALE

TEXTS = ["a red circle", "一个红色的圆", "一个橙色的十字 on a blue background"]
RESIZE = {"clip": "shortest_edge_crop", "altclip": "shortest_edge_crop", "siglip": "fixed", "siglip2": "fixed",
          "chinese-clip": "fixed", "siglip2-naflex": "patch_budget"}


def test_the_table_covers_the_tested_families():
    assert {f.name for f in FAMILY_TABLE} == set(FAMILIES)


def frame_image(height: int = 90, width: int = 160, seed: int = 0) -> np.ndarray:
    """An RGB uint8 frame with smooth areas and sharp edges (what resizing filters disagree on)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    image = np.stack([xx * 255 // width, yy * 255 // height, (xx + yy) % 256], axis=-1).astype(np.uint8)
    for _ in range(6):
        y, x = rng.integers(0, height - 10), rng.integers(0, width - 10)
        image[y : y + rng.integers(4, 30), x : x + rng.integers(4, 40)] = rng.integers(0, 256, 3)
    return image


@pytest.fixture(scope="module")
def embedders(tiny_family_dirs):
    return {family: ClipEmbedder(str(path), device="cpu", dtype="float32") for family, path in tiny_family_dirs.items()}


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize(("height", "width"), [(90, 160), (150, 64)])
@pytest.mark.parametrize("backend", ["pillow", "torch"])
def test_pixels_match_the_family_processor(tiny_family_dirs, embedders, family, height, width, backend):
    """Ours (FramePreprocessor, as the Indexer and the Searcher prepare frames, then the Embedder's
    normalization / patches) against the family's own image processor on the same image.
    Tolerance: pillow backend within one uint8 level after normalization (1/255/std, at most
    0.016 here) on rare pixels; torch backend (antialiased interpolate) within 0.1, mean 0.01."""
    rgb = frame_image(height, width)
    processor = AutoProcessor.from_pretrained(tiny_family_dirs[family]).image_processor
    theirs = processor(images=[rgb], return_tensors="np")
    prep = embedders[family].preprocessing
    assert prep.resize_mode == RESIZE[family]
    ours = FramePreprocessor(prep, backend=backend)(np.ascontiguousarray(rgb[:, :, ::-1]))
    values = normalize(ours[None], prep)
    tolerance, mean_tolerance = (1.01 / 255 / min(prep.image_std), 1e-3) if backend == "pillow" else (0.1, 0.01)
    if family == "siglip2-naflex":
        assert ours.shape[1:] == patch_budget_size(height, width, prep.patch_size, prep.max_num_patches)
        patches = patchify(torch.from_numpy(values), prep.patch_size, prep.max_num_patches)
        np.testing.assert_array_equal(patches.mask.numpy(), theirs["pixel_attention_mask"])
        np.testing.assert_array_equal(patches.spatial_shapes.numpy(), theirs["spatial_shapes"])
        difference = np.abs(patches.patches.numpy() - theirs["pixel_values"])
    else:
        assert values.shape == theirs["pixel_values"].shape
        difference = np.abs(values - theirs["pixel_values"])
    assert difference.max() <= tolerance and difference.mean() <= mean_tolerance, (difference.max(), difference.mean())


def test_patch_budget_size_matches_transformers():
    from transformers.models.siglip2.image_processing_pil_siglip2 import get_image_size_for_max_num_patches

    for height, width in [(90, 160), (1080, 1920), (576, 704), (100, 7), (7, 100), (480, 480)]:
        for patch, budget in [(8, 16), (16, 256), (14, 729)]:
            assert patch_budget_size(height, width, patch, budget) == get_image_size_for_max_num_patches(
                height, width, patch, budget)


@pytest.fixture(scope="module")
def servers(embedders):
    running = {family: serve(EmbedderSettings(port=0, max_batch_size=4), model) for family, model in embedders.items()}
    yield running
    for server in running.values():
        server.stop(0)


@pytest.mark.parametrize("family", FAMILIES)
def test_a_real_embedder_serves_every_family(servers, embedders, family):
    with EmbedderClient(servers[family].address, timeout=30) as client:
        info = client.model_info()
        assert info.family == family
        assert info.embedding_dim == EMBEDDING_SIZE[family]
        assert info.score_kind == ("sigmoid" if family.startswith("siglip") else "cosine")
        if family.startswith("siglip"):  # the learned scale and bias come through for calibration
            assert info.logit_scale == pytest.approx(SIGLIP_LOGIT_SCALE, rel=1e-5)
            assert info.logit_bias == pytest.approx(SIGLIP_LOGIT_BIAS, rel=1e-5)
        else:
            assert info.logit_scale == pytest.approx(float(embedders[family].model.logit_scale.detach().exp()))
        texts = client.embed_texts(TEXTS)
        assert texts.shape == (len(TEXTS), info.embedding_dim) and texts.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(texts, axis=1), 1.0, atol=1e-5)
        assert np.abs(texts[0] - texts[1]).max() > 1e-4  # English and Chinese are read, not all one unknown token
        prep = info.preprocessing
        frames = [FramePreprocessor(prep)(np.ascontiguousarray(frame_image(seed=s)[:, :, ::-1])) for s in (1, 2)]
        images = client.embed_images(np.stack(frames))
        assert images.shape == (2, info.embedding_dim)
        np.testing.assert_allclose(np.linalg.norm(images, axis=1), 1.0, atol=1e-5)
        # A caller that knows only crops (an older Indexer) sends crop_height x crop_width: accepted by every family.
        assert client.embed_images(np.zeros((1, 3, prep.crop_height, prep.crop_width), np.uint8)).shape == (1, info.embedding_dim)
        # one text alone embeds as it does among others (SigLIP: padded to its full length)
        np.testing.assert_allclose(client.embed_texts(TEXTS[:1])[0], texts[0], atol=2e-5)


def test_naflex_embeds_each_image_as_its_own_processor_would(tiny_family_dirs, embedders):
    """The whole path: our resize + the Embedder's patches give the embedding the model gives
    the processor's own inputs (different aspect ratios in one batch of the batcher)."""
    embedder = embedders["siglip2-naflex"]
    processor = AutoProcessor.from_pretrained(tiny_family_dirs["siglip2-naflex"]).image_processor
    for height, width in [(90, 160), (150, 64)]:
        rgb = frame_image(height, width)
        ours = embedder(FramePreprocessor(embedder.preprocessing, backend="pillow")(rgb[:, :, ::-1].copy())[None])
        inputs = processor(images=[rgb], return_tensors="pt")
        with torch.inference_mode():
            theirs = embedder.model.get_image_features(**inputs).pooler_output
        theirs = torch.nn.functional.normalize(theirs, dim=-1).numpy()
        np.testing.assert_allclose(ours, theirs, atol=2e-3)


def test_naflex_refuses_a_size_outside_its_patch_budget(servers):
    import grpc

    from videosearch.v1 import embedder_pb2_grpc
    from videosearch.common.grpc_server import insecure_channel

    with insecure_channel(servers["siglip2-naflex"].address) as channel:
        stub = embedder_pb2_grpc.EmbedderServiceStub(channel)
        for shape in [(1, 3, 40, 40), (1, 3, 12, 16)]:  # 25 patches > 16; not multiples of 8
            with pytest.raises(grpc.RpcError) as error:
                stub.EmbedImages(embedder_pb2.EmbedImagesRequest(pixel_values=to_tensor(np.zeros(shape, np.uint8))))
            assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert "multiples of 8" in error.value.details() and "16" in error.value.details()
        ok = stub.EmbedImages(embedder_pb2.EmbedImagesRequest(pixel_values=to_tensor(np.zeros((1, 3, 16, 32), np.uint8))))
        assert from_tensor(ok.embeddings).shape == (1, 32)


@pytest.mark.parametrize("family", FAMILIES)
def test_reduced_precision_runs_for_every_family(tiny_family_dirs, embedders, family):
    """bfloat16 (what --dtype auto picks on a CPU with native bfloat16) stays close to float32."""
    reduced = ClipEmbedder(str(tiny_family_dirs[family]), device="cpu", dtype="bfloat16")
    full = embedders[family]
    cosine = (reduced.embed_texts(TEXTS) * full.embed_texts(TEXTS)).sum(axis=1)
    assert cosine.min() > 0.98
    if family != "siglip2-naflex":
        check = check_reduced_precision(full.model, full.processor, full.preprocessing)
        assert check.min_text_cosine > 0.98


def _drop_weights(directory, prefix: str) -> None:
    weights = directory / "model.safetensors"
    tensors = load_file(weights)
    save_file({k: v for k, v in tensors.items() if not k.startswith(prefix)}, weights, metadata={"format": "pt"})


def test_a_half_loaded_model_is_refused_naming_the_tower(tiny_family_dirs, tmp_path):
    import shutil

    broken = tmp_path / "chinese-clip-no-text"
    shutil.copytree(tiny_family_dirs["chinese-clip"], broken)
    _drop_weights(broken, "text_model.")
    with pytest.raises(ModelLoadError) as error:
        ClipEmbedder(str(broken), device="cpu", dtype="float32")
    message = str(error.value)
    assert "chinese-clip" in message and "text tower" in message and "missing" in message
    assert "image tower" not in message and "download it again" in message


def test_weights_of_another_architecture_are_refused(tiny_family_dirs, tmp_path):
    """CLIP weights under a SigLIP config: every tower mismatched or missing, refused."""
    import shutil

    mixed = tmp_path / "mixed"
    shutil.copytree(tiny_family_dirs["siglip"], mixed)
    shutil.copy(tiny_family_dirs["clip"] / "model.safetensors", mixed / "model.safetensors")
    with pytest.raises(ModelLoadError) as error:
        ClipEmbedder(str(mixed), device="cpu", dtype="float32")
    assert "refusing to start: the siglip model" in str(error.value)


def test_an_unknown_architecture_lists_the_supported_families(tiny_family_dirs, tmp_path):
    import shutil

    other = tmp_path / "bert"
    shutil.copytree(tiny_family_dirs["chinese-clip"], other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config["text_config"], "model_type": "bert",
                                                   "architectures": ["BertModel"]}))
    with pytest.raises(ModelLoadError) as error:
        ClipEmbedder(str(other), device="cpu", dtype="float32")
    message = str(error.value)
    assert "'bert' (BertModel)" in message
    assert all(f.name in message for f in FAMILY_TABLE)


def test_unused_pooler_weights_do_not_refuse_a_complete_checkpoint(tiny_family_dirs, tmp_path):
    """A BERT pooling layer Chinese-CLIP does not build is unused, not a half-load; an extra
    encoder layer (the checkpoint is deeper than its config says) is refused."""
    import shutil

    pooled = tmp_path / "pooler"
    shutil.copytree(tiny_family_dirs["chinese-clip"], pooled)
    tensors = load_file(pooled / "model.safetensors")
    save_file({**tensors, "text_model.pooler.dense.weight": torch.zeros(32, 32), "text_model.pooler.dense.bias": torch.zeros(32)},
              pooled / "model.safetensors", metadata={"format": "pt"})
    assert ClipEmbedder(str(pooled), device="cpu", dtype="float32").embed_texts(["一个红色的圆"]).shape == (1, 16)
    deeper = tmp_path / "deeper"
    shutil.copytree(tiny_family_dirs["chinese-clip"], deeper)
    extra = {k.replace("layer.0.", "layer.1."): v.clone() for k, v in tensors.items() if "text_model.encoder.layer.0." in k}
    save_file({**tensors, **extra}, deeper / "model.safetensors", metadata={"format": "pt"})
    with pytest.raises(ModelLoadError) as error:
        ClipEmbedder(str(deeper), device="cpu", dtype="float32")
    assert "text tower" in str(error.value) and "unexpected" in str(error.value)


def test_match_probability_follows_the_family_score(embedders):
    siglip, clip = embedders["siglip"].model_info(), embedders["clip"].model_info()
    # sigmoid(0.9 * 10 - 10) = sigmoid(-1)
    assert siglip.match_probability(0.9) == pytest.approx(1 / (1 + np.exp(1.0)), rel=1e-4)
    assert siglip.match_probability(-1.0) < siglip.match_probability(0.0) < siglip.match_probability(1.0)
    assert clip.match_probability(0.9) is None  # a cosine model's score has no absolute meaning
