"""Offline builders for CLIP tokenizers/processors and a tiny random CLIP.

Nothing here touches the network: the BPE vocabulary is learned locally (plain
deterministic BPE) and wrapped in transformers' standard ``CLIPTokenizer`` so that
the result saves and loads with ``CLIPProcessor.from_pretrained`` like any real CLIP.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

BOS = "<|startoftext|>"
EOS = "<|endoftext|>"

# OpenAI CLIP normalisation constants.
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]

# Text context length. Same as real CLIP so that ``truncation=True`` behaves alike.
MAX_TEXT_LENGTH = 77

# Words every demo tokenizer knows as whole tokens (the demo world's vocabulary plus
# a few common query words). Anything else still tokenizes (byte-level fallback).
DEFAULT_WORDS: tuple[str, ...] = (
    "a", "an", "the", "of", "and", "with", "on", "in", "photo", "picture", "video",
    "one", "two", "three", "single",
    "red", "green", "blue", "yellow", "purple", "orange", "white", "pink", "cyan", "black",
    "circle", "circles", "square", "squares", "triangle", "triangles", "star", "stars",
    "cross", "crosses", "ring", "rings", "diamond", "diamonds", "heart", "hearts",
    "shape", "shapes", "object", "background", "moving", "small", "big", "large",
)

# Chinese characters every demo tokenizer knows as single tokens: the demo world's Chinese
# captions plus common query characters. CLIP's pre-tokenizer keeps a run of Chinese
# characters as one "word" (they are all letters), so these tokens are built per character
# (see :func:`_character_merges`): any phrasing of known characters tokenizes the same way,
# and an unknown character still falls back to its UTF-8 bytes.
DEFAULT_CHINESE: str = (
    "一个两三的和在上有张图片照视频里中小大形色"
    "红绿蓝黄紫橙白粉青黑灰"
    "圆圈方块正角星五十字加号环菱心"
    "背景物体移动"
)


def _words(texts: list[str] | tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for t in texts:
        out.extend(re.findall(r"[a-z]+|[0-9]|[^\sa-z0-9]+", t.lower()))
    return out


def _bytes_to_unicode() -> dict[int, str]:
    """GPT-2/CLIP's byte -> printable character table (the byte-level alphabet)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = list(bs)
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs), strict=True))


def _character_merges(chars: list[str]) -> list[tuple[str, str]]:
    """Merges that join each multi-byte character's byte-level symbols into one token,
    both inside a word and at its end (``</w>``), and never across two characters (a
    merge always starts from a UTF-8 lead byte, so a character boundary never matches)."""
    table = _bytes_to_unicode()
    merges: list[tuple[str, str]] = []
    for ch in chars:
        syms = [table[b] for b in ch.encode("utf-8")]
        if len(syms) < 2:
            continue
        left = syms[0]
        for i, sym in enumerate(syms[1:], start=1):
            if i == len(syms) - 1:
                merges.append((left, sym + "</w>"))
            merges.append((left, sym))
            left += sym
    return merges


def learn_bpe_merges(words: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """Learn CLIP-style BPE merges (``</w>`` marks the end of a word) from ``words``.

    Plain, deterministic BPE: repeatedly merge the most frequent adjacent pair, ties broken
    by the lexicographically smallest pair, until every word is a single token. (The
    ``tokenizers`` BPE trainer breaks ties non-deterministically, which would make the
    token ids, and therefore training, irreproducible.)
    """
    seqs = [list(w[:-1]) + [w[-1] + "</w>"] for w in sorted(set(words)) if w]
    merges: list[tuple[str, str]] = []
    while True:
        counts: dict[tuple[str, str], int] = {}
        for sq in seqs:
            for pair in itertools.pairwise(sq):
                counts[pair] = counts.get(pair, 0) + 1
        if not counts:
            return merges
        best = min(counts, key=lambda pr: (-counts[pr], pr))
        merges.append(best)
        a, b = best
        new_seqs = []
        for sq in seqs:
            out: list[str] = []
            i = 0
            while i < len(sq):
                if i + 1 < len(sq) and sq[i] == a and sq[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(sq[i])
                    i += 1
            new_seqs.append(out)
        seqs = new_seqs


def build_clip_tokenizer(words: list[str] | tuple[str, ...] = DEFAULT_WORDS):
    """Build a small byte-level BPE tokenizer (CLIP style, ``</w>`` suffix) as ``CLIPTokenizer``.

    The vocabulary is laid out like OpenAI's: the 256 byte-level symbols, the same 256
    symbols with ``</w>``, the learned merges in order (every word of ``words`` and of
    :data:`DEFAULT_WORDS` becomes a single token), then one token per Chinese character
    (every character of ``words`` and of :data:`DEFAULT_CHINESE`, with and without
    ``</w>``), then ``<|startoftext|>`` and ``<|endoftext|>``. Fully offline and
    deterministic for a given word list.
    """
    from tokenizers import pre_tokenizers
    from transformers import CLIPTokenizer

    ws = sorted({w for w in _words(list(words)) + _words(list(DEFAULT_WORDS)) if re.fullmatch(r"[a-z]+", w)})
    byte_chars = sorted(pre_tokenizers.ByteLevel.alphabet())

    vocab: dict[str, int] = {}
    for c in byte_chars:
        vocab[c] = len(vocab)
    for c in byte_chars:
        vocab[c + "</w>"] = len(vocab)
    kept: list[tuple[str, str]] = []
    chinese = sorted({ch for ch in "".join(words) + DEFAULT_CHINESE if ord(ch) > 127 and ch.isalpha()})
    for a, b in [*learn_bpe_merges(ws), *_character_merges(chinese)]:
        merged = a + b
        if merged in vocab:
            continue
        vocab[merged] = len(vocab)
        kept.append((a, b))
    vocab[BOS] = len(vocab)
    vocab[EOS] = len(vocab)

    return CLIPTokenizer(
        vocab=vocab,
        merges=kept,
        unk_token=EOS,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=EOS,
        model_max_length=MAX_TEXT_LENGTH,
    )


def build_image_processor(image_size: int):
    """A ``CLIPImageProcessor`` (resize shortest edge, center crop, CLIP mean/std, bicubic)."""
    try:  # transformers >= 5 without torchvision: use the PIL backend explicitly (no warning)
        from transformers import CLIPImageProcessorPil as _Proc
    except ImportError:  # pragma: no cover - older transformers
        from transformers import CLIPImageProcessor as _Proc
    from transformers.image_utils import PILImageResampling

    return _Proc(
        do_resize=True,
        size={"shortest_edge": image_size},
        resample=PILImageResampling.BICUBIC,
        do_center_crop=True,
        crop_size={"height": image_size, "width": image_size},
        do_rescale=True,
        rescale_factor=1 / 255,
        do_normalize=True,
        image_mean=list(CLIP_MEAN),
        image_std=list(CLIP_STD),
        do_convert_rgb=True,
    )


def build_clip_processor(words: list[str], image_size: int):
    """Build a ``transformers.CLIPProcessor`` fully offline (BPE tokenizer + image processor)."""
    from transformers import CLIPProcessor

    return CLIPProcessor(image_processor=build_image_processor(image_size), tokenizer=build_clip_tokenizer(words))


def tiny_clip_config(
    vocab_size: int,
    *,
    image_size: int = 32,
    patch_size: int = 8,
    text_hidden: int = 32,
    vision_hidden: int = 32,
    layers: int = 2,
    heads: int = 2,
    projection_dim: int = 16,
    bos_token_id: int | None = None,
    eos_token_id: int | None = None,
    pad_token_id: int | None = None,
):
    from transformers import CLIPConfig

    text: dict[str, int | None] = {
        "vocab_size": vocab_size,
        "hidden_size": text_hidden,
        "intermediate_size": text_hidden * 4,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "max_position_embeddings": MAX_TEXT_LENGTH,
        "projection_dim": projection_dim,
    }
    if bos_token_id is not None:
        text.update(bos_token_id=bos_token_id, eos_token_id=eos_token_id, pad_token_id=pad_token_id)
    vision = {
        "hidden_size": vision_hidden,
        "intermediate_size": vision_hidden * 4,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "image_size": image_size,
        "patch_size": patch_size,
        "num_channels": 3,
        "projection_dim": projection_dim,
    }
    return CLIPConfig(text_config=text, vision_config=vision, projection_dim=projection_dim)


def build_tiny_random_clip(out_dir: str | Path, *, seed: int = 0, image_size: int = 32) -> Path:
    """Save a tiny randomly initialised CLIP (model + processor) to ``out_dir``.

    The weights are a deterministic function of ``seed``; the directory has the standard
    Hugging Face layout (config.json, model.safetensors, tokenizer files,
    preprocessor_config.json) and loads with ``CLIPModel.from_pretrained(out_dir)`` and
    ``CLIPProcessor.from_pretrained(out_dir)``. Embedding dimension is 16. Intended for
    tests: it is fast (well under a second) and produces meaningless embeddings.
    """
    import torch
    from transformers import CLIPModel

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    processor = build_clip_processor(list(DEFAULT_WORDS), image_size)
    tok = processor.tokenizer
    config = tiny_clip_config(
        len(tok),
        image_size=image_size,
        patch_size=max(1, image_size // 4),
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = CLIPModel(config)
    model.eval()
    model.save_pretrained(out)
    save_processor(processor, out)
    return out


def save_processor(processor, out_dir: str | Path) -> None:
    """``processor.save_pretrained`` plus the classic standalone files.

    transformers 5 stores the image-processor settings inside ``processor_config.json``;
    we additionally write ``preprocessor_config.json`` and ``vocab.json``/``merges.txt``
    so that the directory has the familiar CLIP layout and older loaders work too.
    """
    import json

    out = Path(out_dir)
    processor.save_pretrained(out)
    processor.image_processor.save_pretrained(out)
    state = json.loads(processor.tokenizer.backend_tokenizer.to_str())
    vocab = state["model"]["vocab"]
    merges = state["model"]["merges"]
    (out / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False) + "\n", encoding="utf-8")
    lines = ["#version: 0.2"] + [m if isinstance(m, str) else " ".join(m) for m in merges]
    (out / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
