"""The committed demo CLIP (models/demo-clip) loads like any HF CLIP and still reaches
the zero-shot accuracy recorded in its eval_results.json."""

import json
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from videosearch.demo import world
from videosearch.demo.evaluate import embed_texts, evaluate, load

MODEL = Path(__file__).resolve().parents[2] / "models" / "demo-clip"


def test_model_files_are_standard_and_small():
    for name in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                 "preprocessor_config.json", "README.md", "eval_results.json"):
        assert (MODEL / name).is_file(), name
    assert not (MODEL / "pytorch_model.bin").exists()
    assert (MODEL / "model.safetensors").stat().st_size < 8 * 1024 * 1024


def test_caption_embeddings_are_distinct():
    model, processor = load(MODEL)
    txt = embed_texts(model, processor, world.CAPTIONS)
    sim = txt @ txt.t()
    off = sim - 2 * torch.eye(len(world.CAPTIONS))
    assert float(off.max()) < 0.99  # no two captions collapse onto one embedding


def test_recorded_zero_shot_accuracy_still_holds():
    recorded = json.loads((MODEL / "eval_results.json").read_text())["accuracy"]
    assert recorded >= 0.90
    # fresh frames, different seed from the recorded run
    res = evaluate(MODEL, frames=210, seed=2024)
    assert res["accuracy"] >= recorded - 0.03, res


def test_chinese_captions_reach_the_goal_and_their_recorded_accuracy_holds():
    recorded = json.loads((MODEL / "eval_results.json").read_text())["languages"]
    assert recorded["zh"]["accuracy"] >= 0.95 and recorded["en"]["accuracy"] >= 0.95, recorded
    res = evaluate(MODEL, frames=120, seed=2024, language="zh")
    assert res["accuracy"] >= recorded["zh"]["accuracy"] - 0.03, res
    model, processor = load(MODEL)
    # a Chinese caption lands next to its English twin, not next to another caption
    en, zh = embed_texts(model, processor, world.CAPTIONS), embed_texts(model, processor, world.CAPTIONS_ZH)
    assert (zh @ en.t()).argmax(dim=1).tolist() == list(range(len(world.CAPTIONS)))
    # and everyday paraphrases find the same caption
    for caption, query in (("a red circle", "红色圆形"), ("a yellow star", "黄色的五角星"), ("a blue square", "蓝色方块")):
        q = embed_texts(model, processor, [query])
        assert world.CAPTIONS[int((q @ en.t()).argmax())] == caption, query


def test_accuracy_holds_through_the_embedder_and_the_indexers_preprocessing():
    """The production path: the Embedder's pipeline loads the committed model by directory,
    16:9 video-sized frames go through the Indexer's preprocessing, uint8 on the wire."""
    import numpy as np

    from videosearch.embedder.model import ClipEmbedder
    from videosearch.embedder.preprocessing import FramePreprocessor

    recorded = json.loads((MODEL / "eval_results.json").read_text())["accuracy"]
    embedder = ClipEmbedder(str(MODEL), device="cpu", dtype="float32")
    preprocess = FramePreprocessor(embedder.model_info().preprocessing)
    rng = np.random.default_rng(777)
    labels = rng.integers(len(world.CAPTIONS), size=150)
    frames = [world.render_frame(world.CAPTIONS[i], rng, size=(640, 360)) for i in labels]
    # Frames arrive from OpenCV as BGR; go through the same candidate path the scene sampler uses.
    pixels = np.stack([preprocess.finish(preprocess.candidate(np.ascontiguousarray(f[:, :, ::-1]))) for f in frames])
    images = embedder.embed_images(pixels)
    texts = embedder.embed_texts(world.CAPTIONS)
    accuracy = float(np.mean((images @ texts.T).argmax(axis=1) == labels))
    print(f"accuracy through the Embedder: {accuracy:.3f} (recorded {recorded:.3f})")
    assert accuracy >= recorded - 0.05, accuracy
