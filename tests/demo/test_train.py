"""The training script runs end to end on a few steps and its loss falls."""

import numpy as np

import torch
import transformers  # noqa: F401 - a required dependency: a broken install fails here

from videosearch.demo.train import main, train


def test_train_few_steps_loss_falls_and_saves_loadable_model(tmp_path):
    from transformers import CLIPModel, CLIPProcessor

    out = tmp_path / "m"
    summary = train(out, seed=0, steps=40, batch=30, log_every=1000, log=lambda s: None)
    losses = summary["losses"]
    assert len(losses) == 40
    assert np.mean(losses[-5:]) < np.mean(losses[:5]) - 0.3, losses
    for name in ("config.json", "model.safetensors", "tokenizer.json", "preprocessor_config.json",
                 "training_args.json"):
        assert (out / name).is_file(), name
    model = CLIPModel.from_pretrained(out)
    proc = CLIPProcessor.from_pretrained(out)
    enc = proc(text=["a red circle"], return_tensors="pt", padding=True)
    with torch.no_grad():
        t = model.text_projection(model.text_model(**enc).pooler_output)
    assert t.shape[-1] == model.config.projection_dim


def test_training_is_deterministic(tmp_path):
    a = train(tmp_path / "a", seed=3, steps=3, batch=30, log=lambda s: None)["losses"]
    b = train(tmp_path / "b", seed=3, steps=3, batch=30, log=lambda s: None)["losses"]
    c = train(tmp_path / "c", seed=4, steps=3, batch=30, log=lambda s: None)["losses"]
    assert a == b
    assert a != c


def test_cli_runs(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "cli"), "--steps", "2", "--batch", "30", "--log-every", "1"]) == 0
    assert "step     2/2" in capsys.readouterr().out
    assert (tmp_path / "cli" / "model.safetensors").is_file()
