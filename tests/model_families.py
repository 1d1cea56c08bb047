"""Tiny random-weight models of every supported family, built offline from their transformers
configs (nothing downloaded, nothing large committed). Each is saved in the Hugging Face layout
(config, weights, tokenizer, preprocessor) exactly as a real checkpoint of its family is, so the
Embedder loads it through the same from_pretrained path as a hub id.

Tokenizers are built here too: a sentencepiece Unigram model trained on a few English and Chinese
sentences (SigLIP, SigLIP2/Gemma, AltCLIP/XLM-R read that format), a WordPiece vocabulary with
single Chinese characters (Chinese-CLIP's BERT), and the demo model's byte-level BPE (CLIP).
"""

from __future__ import annotations

import math
from pathlib import Path

CORPUS = [
    "a photo of a dog", "a red circle on a blue background", "two people talking in a kitchen",
    "an orange cross", "a green square moving", "the cat sleeps on the sofa",
    "一个红色的圆", "一个橙色的十字", "一只狗在草地上奔跑", "两个人在厨房里说话", "蓝色的背景上有一个绿色的方块",
]
# Families and the image size / patch size of their tiny models.
IMAGE_SIZE = 32
PATCH_SIZE = 8
EMBED_DIM = 16
# What each family's tiny model embeds in (SigLIP's is its vision width).
EMBEDDING_SIZE = {"clip": 16, "siglip": 32, "siglip2": 32, "siglip2-naflex": 32, "chinese-clip": 16, "altclip": 16}
SIGLIP_LOGIT_SCALE, SIGLIP_LOGIT_BIAS = 10.0, -10.0
FAMILIES = ("clip", "siglip", "siglip2", "siglip2-naflex", "chinese-clip", "altclip")


def _spm_model(directory: Path, *, model_type: str = "unigram", vocab_size: int = 160) -> Path:
    """A tiny sentencepiece model trained on CORPUS (deterministic, under a second)."""
    import sentencepiece as spm

    directory.mkdir(parents=True, exist_ok=True)
    corpus = directory / "corpus.txt"
    corpus.write_text("\n".join(CORPUS * 4) + "\n", encoding="utf-8")
    prefix = directory / "spiece"
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(prefix), vocab_size=vocab_size, model_type=model_type,
        character_coverage=1.0, hard_vocab_limit=False, pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
        num_threads=1, minloglevel=2,
    )
    corpus.unlink()
    (directory / "spiece.vocab").unlink(missing_ok=True)
    return prefix.with_suffix(".model")


def _spm_pieces(spm_file: Path) -> list[tuple[str, float]]:
    """The (piece, score) list of a sentencepiece model, without its own special pieces."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(spm_file))
    return [(sp.id_to_piece(i), sp.get_score(i)) for i in range(sp.get_piece_size())
            if not (sp.is_control(i) or sp.is_unknown(i))]


def _gemma_bpe() -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Vocabulary and merges of a small byte-fallback-free BPE (Gemma's layout: pad, eos, bos, unk, mask first)."""
    import json

    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    special = ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"]
    tokenizer.train_from_iterator(CORPUS * 4, trainers.BpeTrainer(vocab_size=200, special_tokens=special, show_progress=False))
    model = json.loads(tokenizer.to_str())["model"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in model["merges"]]
    return model["vocab"], merges


def _text(vocab_size: int, **extra) -> dict:
    return {"vocab_size": vocab_size, "hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1,
            "num_attention_heads": 2, **extra}


def _vision(**extra) -> dict:
    return {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
            "num_channels": 3, **extra}


def _save(model, processor, out: Path, seed: int) -> Path:
    model.eval()
    model.save_pretrained(out)
    processor.save_pretrained(out)
    return out


def build_tiny_family(family: str, out: Path, *, seed: int = 0) -> Path:
    """Saves a tiny random model of ``family`` (one of FAMILIES) to ``out`` and returns it."""
    import torch
    import transformers as tf

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    if family == "clip":
        from videosearch.demo.tokenizer import build_tiny_random_clip

        return build_tiny_random_clip(out, seed=seed, image_size=IMAGE_SIZE)
    if family in ("siglip", "siglip2", "siglip2-naflex"):
        if family == "siglip":  # SigLIP v1: its own sentencepiece tokenizer (needs the sentencepiece package)
            spm_file = _spm_model(out / "_spm")
            tokenizer = tf.SiglipTokenizer(vocab_file=str(spm_file), model_max_length=16)
        else:  # SigLIP2 ships Gemma's tokenizer (a BPE; tokenizer.json)
            vocab, merges = _gemma_bpe()
            tokenizer_class = tf.Siglip2Tokenizer if family == "siglip2-naflex" else tf.GemmaTokenizer
            tokenizer = tokenizer_class(vocab=vocab, merges=merges, model_max_length=16)
        vocab = len(tokenizer)
        # SigLIP's image embedding is the vision tower's width (no projection), so the text head projects to it.
        text = _text(vocab, max_position_embeddings=16, projection_size=32, pad_token_id=tokenizer.pad_token_id,
                     bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id)
        if family == "siglip2-naflex":
            config = tf.Siglip2Config(text_config=text, vision_config=_vision(patch_size=PATCH_SIZE, num_patches=16))
            model = tf.Siglip2Model(config)
            image_processor = tf.Siglip2ImageProcessorPil(patch_size=PATCH_SIZE, max_num_patches=16)
            processor = tf.Siglip2Processor(image_processor=image_processor, tokenizer=tokenizer)
        else:
            config = tf.SiglipConfig(text_config=text, vision_config=_vision(image_size=IMAGE_SIZE, patch_size=PATCH_SIZE))
            model = tf.SiglipModel(config)
            image_processor = tf.SiglipImageProcessorPil(size={"height": IMAGE_SIZE, "width": IMAGE_SIZE})
            processor = tf.SiglipProcessor(image_processor=image_processor, tokenizer=tokenizer)
        with torch.no_grad():  # a trained SigLIP's values (random init leaves scale 1, bias 0)
            model.logit_scale.fill_(math.log(SIGLIP_LOGIT_SCALE))
            model.logit_bias.fill_(SIGLIP_LOGIT_BIAS)
        import shutil

        shutil.rmtree(out / "_spm", ignore_errors=True)
        return _save(model, processor, out, seed)
    if family == "chinese-clip":
        from videosearch.demo.tokenizer import CLIP_MEAN, CLIP_STD

        words = sorted({ch for line in CORPUS for ch in line if not ch.isascii()})
        words += sorted({w for line in CORPUS for w in line.split() if w.isascii()})
        tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
        tokenizer = tf.BertTokenizer(vocab={token: i for i, token in enumerate(tokens)}, model_max_length=24)
        config = tf.ChineseCLIPConfig(
            text_config=_text(len(tokenizer), max_position_embeddings=24, type_vocab_size=2),
            vision_config=_vision(image_size=IMAGE_SIZE, patch_size=PATCH_SIZE), projection_dim=EMBED_DIM,
        )
        model = tf.ChineseCLIPModel(config)
        # As OFA-Sys's checkpoints: a fixed square resize, no centre crop.
        image_processor = tf.ChineseCLIPImageProcessorPil(
            size={"height": IMAGE_SIZE, "width": IMAGE_SIZE}, do_center_crop=False, image_mean=CLIP_MEAN, image_std=CLIP_STD)
        processor = tf.ChineseCLIPProcessor(image_processor=image_processor, tokenizer=tokenizer)
        return _save(model, processor, out, seed)
    if family == "altclip":
        from videosearch.demo.tokenizer import build_image_processor

        spm_file = _spm_model(out / "_spm")
        specials = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
        tokenizer = tf.XLMRobertaTokenizer(vocab=specials + _spm_pieces(spm_file) + [("<mask>", 0.0)], model_max_length=24)
        config = tf.AltCLIPConfig(
            text_config=_text(len(tokenizer) + 4, max_position_embeddings=26, project_dim=EMBED_DIM,
                              pad_token_id=tokenizer.pad_token_id),
            vision_config=_vision(image_size=IMAGE_SIZE, patch_size=PATCH_SIZE), projection_dim=EMBED_DIM,
        )
        model = tf.AltCLIPModel(config)
        processor = tf.AltCLIPProcessor(image_processor=build_image_processor(IMAGE_SIZE), tokenizer=tokenizer)
        import shutil

        shutil.rmtree(out / "_spm")
        return _save(model, processor, out, seed)
    raise ValueError(f"unknown family {family!r}; use one of {FAMILIES}")
