import numpy as np

import torch
import transformers  # noqa: F401 - a required dependency: a broken install fails here

from videosearch.demo.tokenizer import build_clip_processor, build_tiny_random_clip


def test_processor_tokenizes_words_as_single_tokens():
    proc = build_clip_processor(["a", "red", "circle"], 32)
    enc = proc.tokenizer("A red  circle")
    toks = proc.tokenizer.convert_ids_to_tokens(enc["input_ids"])
    assert toks == ["<|startoftext|>", "a</w>", "red</w>", "circle</w>", "<|endoftext|>"]
    # unknown words still tokenize (byte-level fallback), no crash
    assert len(proc.tokenizer("zebra!")["input_ids"]) > 3
    img = np.zeros((90, 160, 3), dtype=np.uint8)
    px = proc(images=[img], return_tensors="pt")["pixel_values"]
    assert tuple(px.shape) == (1, 3, 32, 32)


def test_tiny_random_clip_roundtrip(tmp_path):
    from transformers import CLIPModel, CLIPProcessor

    d1 = build_tiny_random_clip(tmp_path / "a", seed=0)
    d2 = build_tiny_random_clip(tmp_path / "b", seed=0)
    d3 = build_tiny_random_clip(tmp_path / "c", seed=1)
    for name in ("config.json", "model.safetensors", "tokenizer.json", "preprocessor_config.json"):
        assert (d1 / name).is_file(), name
    m1, m2, m3 = (CLIPModel.from_pretrained(d) for d in (d1, d2, d3))
    proc = CLIPProcessor.from_pretrained(d1)
    enc = proc(text=["a red circle", "two blue squares"], return_tensors="pt", padding=True)
    pix = proc(images=[np.full((360, 640, 3), 128, np.uint8)], return_tensors="pt")["pixel_values"]
    assert tuple(pix.shape) == (1, 3, 32, 32)
    with torch.no_grad():
        t1 = m1.text_projection(m1.text_model(**enc).pooler_output)
        t2 = m2.text_projection(m2.text_model(**enc).pooler_output)
        t3 = m3.text_projection(m3.text_model(**enc).pooler_output)
        i1 = m1.visual_projection(m1.vision_model(pixel_values=pix).pooler_output)
    assert t1.shape == (2, 16) and i1.shape == (1, 16)
    assert torch.equal(t1, t2)
    assert not torch.allclose(t1, t3)


def test_chinese_is_one_token_per_character_in_any_phrasing():
    from videosearch.demo import world

    tok = build_clip_processor(world.WORDS, 32).tokenizer
    pieces = tok.convert_ids_to_tokens(tok("一个红色的圆")["input_ids"])[1:-1]
    assert len(pieces) == 6, pieces
    assert tok.decode(tok("一个红色的圆")["input_ids"], skip_special_tokens=True).strip() == "一个红色的圆"
    # the same characters tokenize alike inside another phrasing, and never merge across characters
    assert tok("红色圆形")["input_ids"][1:3] == tok("一个红色的圆")["input_ids"][3:5]
    for caption in world.CAPTIONS_ZH:
        assert len(tok(caption)["input_ids"]) == len(caption) + 2, caption
    # a character outside the vocabulary still tokenizes (its UTF-8 bytes), and English is unchanged
    assert len(tok("龍")["input_ids"]) == 2 + 3
    assert tok.convert_ids_to_tokens(tok("a red circle")["input_ids"])[1:-1] == ["a</w>", "red</w>", "circle</w>"]
