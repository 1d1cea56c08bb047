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
