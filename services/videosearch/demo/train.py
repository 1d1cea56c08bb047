"""Train the small offline demo CLIP on the procedurally rendered world.

    PYTHONPATH=services python -m videosearch.demo.train --out models/demo-clip --seed 0

The model is a standard ``transformers.CLIPModel`` (ViT vision tower + transformer text
tower, projection heads, learnable temperature) trained from scratch on images rendered
on the fly by :mod:`videosearch.demo.world`. The result is saved in the standard Hugging
Face layout with ``save_pretrained`` (model + ``CLIPProcessor``), so it loads with
``CLIPModel.from_pretrained`` / ``CLIPProcessor.from_pretrained`` like any real CLIP.

Loss: a label-aware version of CLIP's symmetric InfoNCE. Each step encodes a batch of
images and *all* captions; image->text is a softmax over every caption, text->image a
softmax over the batch's images where every image of that caption is a positive (so
repeated captions in a batch are not treated as negatives). The loss is averaged over the
two caption languages (:data:`videosearch.demo.world.CAPTIONS_BY_LANGUAGE`): the English
captions, and the Chinese ones where each step phrases half of them in one of their
paraphrases (:func:`videosearch.demo.world.chinese_variants`), so both languages land on the
same image embeddings.

Training is deterministic for a given seed, step count and thread count (fixed torch /
numpy seeds, ``torch.use_deterministic_algorithms(True)``, fixed thread count).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from videosearch.demo import world
from videosearch.demo.tokenizer import (
    CLIP_MEAN,
    CLIP_STD,
    build_clip_processor,
    save_processor,
    tiny_clip_config,
)

# Model size (kept in one place; recorded in training_args.json and the model card).
IMAGE_SIZE = 40
PATCH_SIZE = 5
VISION_HIDDEN = 64
TEXT_HIDDEN = 64
LAYERS = 4
TEXT_LAYERS = 2
HEADS = 4
PROJECTION_DIM = 64

DEFAULT_STEPS = 2000

# What the Embedder reports about this model (videosearch.embedder.model_notice), beside every answer.
NOTICE = ("demo model: it knows only the demo world (one coloured shape on a grey background; 6 colours x 5 shapes, "
          "in English and Chinese) and its scores mean nothing on real videos; serve a real model "
          "(e.g. --model openai/clip-vit-base-patch32) to search real footage")
DEFAULT_BATCH = 90
DEFAULT_LR = 1e-3


def build_model(processor, seed: int, *, image_size: int = IMAGE_SIZE, patch_size: int = PATCH_SIZE,
                vision_hidden: int = VISION_HIDDEN, layers: int = LAYERS):
    import torch
    from transformers import CLIPConfig, CLIPModel

    tok = processor.tokenizer
    base = tiny_clip_config(
        len(tok),
        image_size=image_size,
        patch_size=patch_size,
        text_hidden=TEXT_HIDDEN,
        vision_hidden=vision_hidden,
        layers=layers,
        heads=HEADS,
        projection_dim=PROJECTION_DIM,
        bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    text_cfg = base.text_config.to_dict()
    text_cfg["num_hidden_layers"] = TEXT_LAYERS
    config = CLIPConfig(
        text_config=text_cfg,
        vision_config=base.vision_config.to_dict(),
        projection_dim=PROJECTION_DIM,
        logit_scale_init_value=math.log(1 / 0.07),
    )
    torch.manual_seed(seed)
    return CLIPModel(config)


def image_features(model, pixel_values):
    out = model.vision_model(pixel_values=pixel_values)
    return model.visual_projection(out.pooler_output)


def text_features(model, input_ids, attention_mask):
    out = model.text_model(input_ids=input_ids, attention_mask=attention_mask)
    return model.text_projection(out.pooler_output)


def to_pixel_values(images_uint8: np.ndarray):
    """uint8 (n,H,W,3) RGB -> normalised float tensor (n,3,H,W), as CLIPImageProcessor does."""
    import torch

    x = torch.from_numpy(images_uint8).permute(0, 3, 1, 2).float().div_(255.0)
    mean = torch.tensor(CLIP_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CLIP_STD).view(1, 3, 1, 1)
    return (x - mean) / std


def contrastive_loss(img_emb, txt_emb, labels, logit_scale):
    """Label-aware symmetric InfoNCE. img_emb (B,D), txt_emb (C,D) normalised; labels (B,)."""
    import torch
    import torch.nn.functional as F

    logits = logit_scale * img_emb @ txt_emb.t()  # (B, C)
    loss_i = F.cross_entropy(logits, labels)
    # text -> image: for every caption present in the batch, softmax over the images,
    # all images with that caption are positives
    lt = logits.t()  # (C, B)
    present = torch.unique(labels)
    lt = lt[present]
    pos = (labels.unsqueeze(0) == present.unsqueeze(1)).float()  # (P, B)
    logp = lt.log_softmax(dim=1)
    loss_t = -(logp * pos).sum(1).div(pos.sum(1)).mean()
    pred = logits.argmax(1)
    acc = (pred == labels).float().mean()
    return (loss_i + loss_t) / 2, acc, pred


def lr_at(step: int, total: int, base: float, warmup: int) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * t)))


def train(
    out: str | Path,
    *,
    seed: int = 0,
    steps: int = DEFAULT_STEPS,
    batch: int = DEFAULT_BATCH,
    lr: float = DEFAULT_LR,
    threads: int = 1,
    log_every: int = 50,
    log=print,
    image_size: int = IMAGE_SIZE,
    patch_size: int = PATCH_SIZE,
    vision_hidden: int = VISION_HIDDEN,
    layers: int = LAYERS,
) -> dict:
    """Train and save the demo CLIP to ``out``; returns a summary dict (also saved as
    ``training_args.json`` next to the weights) plus the per-step ``losses``."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True)
    rng = np.random.default_rng(seed)

    processor = build_clip_processor(world.WORDS, image_size)
    model = build_model(
        processor, seed, image_size=image_size, patch_size=patch_size, vision_hidden=vision_hidden, layers=layers
    )
    n_params = sum(p.numel() for p in model.parameters())
    log(f"demo-clip: {n_params / 1e6:.2f}M params, {len(world.CAPTIONS)} captions, {steps} steps x batch {batch}")

    n_cap = len(world.CAPTIONS)
    variants = [world.chinese_variants(i) for i in range(n_cap)]

    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, p in model.named_parameters():
        (no_decay if p.ndim < 2 or "embedding" in name or name == "logit_scale" else decay).append(p)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
        lr=lr,
        betas=(0.9, 0.98),
        eps=1e-6,
    )
    warmup = max(1, min(100, steps // 10))
    model.train()
    t0 = time.time()
    losses: list[float] = []
    run_loss = run_acc = run_cacc = run_sacc = run_zh = 0.0
    for step in range(steps):
        # balanced batch: every caption equally often (batch is a multiple of n_cap when possible)
        reps = -(-batch // n_cap)
        labels_np = rng.permutation(np.tile(np.arange(n_cap), reps))[:batch]
        imgs = world.render_batch(labels_np, image_size, image_size, rng)
        pixel_values = to_pixel_values(imgs)
        labels = torch.from_numpy(labels_np)
        chinese = [v[0] if rng.random() < 0.5 else v[int(rng.integers(len(v)))] for v in variants]
        tok = processor.tokenizer(world.CAPTIONS + chinese, padding=True, return_tensors="pt")
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, lr, warmup)
        img = torch.nn.functional.normalize(image_features(model, pixel_values), dim=-1)
        txt = torch.nn.functional.normalize(text_features(model, tok["input_ids"], tok["attention_mask"]), dim=-1)
        scale = model.logit_scale.exp().clamp(max=100.0)
        loss_en, acc, pred = contrastive_loss(img, txt[:n_cap], labels, scale)
        loss_zh, acc_zh, _ = contrastive_loss(img, txt[n_cap:], labels, scale)
        loss = (loss_en + loss_zh) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            model.logit_scale.clamp_(0, math.log(100.0))
        loss_v = float(loss.detach())
        losses.append(loss_v)
        run_loss += loss_v
        run_acc += float(acc.detach())
        run_zh += float(acc_zh.detach())
        n_sh = len(world.SHAPES)
        run_cacc += float((pred // n_sh == labels // n_sh).float().mean())
        run_sacc += float((pred % n_sh == labels % n_sh).float().mean())
        if (step + 1) % log_every == 0 or step == steps - 1:
            k = (step % log_every) + 1
            log(
                f"step {step + 1:5d}/{steps}  loss {run_loss / k:.4f}  batch-acc {run_acc / k:.3f} "
                f"(colour {run_cacc / k:.2f} shape {run_sacc / k:.2f}, zh {run_zh / k:.3f})  "
                f"scale {float(scale.detach()):.1f}  lr {opt.param_groups[0]['lr']:.2e}  {time.time() - t0:.0f}s"
            )
            run_loss = run_acc = run_cacc = run_sacc = run_zh = 0.0
    elapsed = time.time() - t0

    model.eval()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    save_processor(processor, out)
    summary = {
        "seed": seed,
        "steps": steps,
        "batch": batch,
        "lr": lr,
        "threads": threads,
        "params": n_params,
        "image_size": image_size,
        "patch_size": patch_size,
        "vision_hidden": vision_hidden,
        "layers": layers,
        "train_seconds": round(elapsed, 1),
        "first_loss": losses[0] if losses else None,
        "final_loss": float(np.mean(losses[-min(50, len(losses)) :])) if losses else None,
        "machine": " ".join(x for x in (platform.machine(), platform.processor(), f"{os.cpu_count()} cpu(s)") if x),
        "torch": torch.__version__,
        "captions": world.CAPTIONS,
        "captions_zh": world.CAPTIONS_ZH,
    }
    (out / "training_args.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out / "videosearch.json").write_text(json.dumps({"notice": NOTICE}, indent=2) + "\n")
    log(f"saved to {out} ({elapsed:.0f}s)")
    return {**summary, "losses": losses}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="models/demo-clip")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    ap.add_argument("--batch", type=int, default=DEFAULT_BATCH)
    ap.add_argument("--lr", type=float, default=DEFAULT_LR)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--log-every", type=int, default=50)
    ap.add_argument("--image-size", type=int, default=IMAGE_SIZE)
    ap.add_argument("--patch-size", type=int, default=PATCH_SIZE)
    ap.add_argument("--vision-hidden", type=int, default=VISION_HIDDEN)
    ap.add_argument("--layers", type=int, default=LAYERS)
    args = ap.parse_args(argv)
    train(
        args.out,
        seed=args.seed,
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        threads=args.threads,
        log_every=args.log_every,
        log=lambda s: print(s, flush=True),
        image_size=args.image_size,
        patch_size=args.patch_size,
        vision_hidden=args.vision_hidden,
        layers=args.layers,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
