"""Image throughput of each supported family's image tower at its real size, on this CPU:
`python bench/embedder/families.py` (also run by `make bench-embedder`).

No real weights can be downloaded here, so each tower is built with random weights from a
config of the real checkpoint's sizes (speed depends on the architecture, not the weights).
Only the image tower runs: images/s is what indexing costs, and the text tower embeds one
query at a time. One warm-up pass, then timed passes of `--batch` images, in float32 and
bfloat16 side by side; the machine may be shared, so read the figures as lower bounds.
"""

from __future__ import annotations

import argparse
import math
import time

import torch

# The vision towers of the table's example checkpoints (sizes from their config.json).
BASE = dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12)
LARGE = dict(hidden_size=1024, intermediate_size=4096, num_hidden_layers=24, num_attention_heads=16)
TOWERS = {
    "clip (openai/clip-vit-base-patch32)": ("clip", dict(BASE, image_size=224, patch_size=32, hidden_act="quick_gelu")),
    "siglip / siglip2 (google/siglip2-base-patch16-224)": ("siglip", dict(BASE, image_size=224, patch_size=16)),
    "siglip2-naflex (google/siglip2-base-patch16-naflex, 16:9 frame: 252 of 256 patches)":
        ("siglip2", dict(BASE, patch_size=16, num_patches=256)),
    "chinese-clip (OFA-Sys/chinese-clip-vit-base-patch16)": ("chinese_clip", dict(BASE, image_size=224, patch_size=16)),
    "altclip (BAAI/AltCLIP: ViT-L/14)": ("clip", dict(LARGE, image_size=224, patch_size=14, hidden_act="quick_gelu")),
}


def tower(kind: str, config: dict):
    import transformers as tf

    if kind == "clip":
        return tf.CLIPVisionModelWithProjection(tf.CLIPVisionConfig(projection_dim=768, **config))
    if kind == "siglip":
        return tf.SiglipVisionModel(tf.SiglipVisionConfig(**config))
    if kind == "siglip2":
        return tf.Siglip2VisionModel(tf.Siglip2VisionConfig(**config))
    return tf.ChineseCLIPVisionModel(tf.ChineseCLIPVisionConfig(**config))


def inputs(kind: str, config: dict, batch: int) -> dict:
    if kind != "siglip2":
        size = config["image_size"]
        return {"pixel_values": torch.randn(batch, 3, size, size)}
    from videosearch.embedder.patches import patchify
    from videosearch.embedder.preprocessing import patch_budget_size

    patch, budget = config["patch_size"], config["num_patches"]
    height, width = patch_budget_size(1080, 1920, patch, budget)
    p = patchify(torch.randn(batch, 3, height, width), patch, budget)
    return {"pixel_values": p.patches, "pixel_attention_mask": p.mask, "spatial_shapes": p.spatial_shapes}


def images_per_second(model, batch_inputs: dict, dtype: torch.dtype, passes: int) -> float:
    model = model.to(dtype)
    cast = {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in batch_inputs.items()}
    batch = next(iter(cast.values())).shape[0]
    with torch.inference_mode():
        model(**cast)  # warm-up
        best = math.inf
        for _ in range(passes):
            start = time.perf_counter()
            model(**cast)
            best = min(best, time.perf_counter() - start)
    return batch / best


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--passes", type=int, default=1, help="timed passes per dtype (best kept)")
    args = parser.parse_args(argv)
    import os

    load = os.getloadavg()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average {load[0]:.1f}; batch {args.batch}")
    print("| family (example) | float32 images/s | bfloat16 images/s | bf16 / fp32 |")
    print("|---|---:|---:|---:|")
    for name, (kind, config) in TOWERS.items():
        torch.manual_seed(0)
        model = tower(kind, config).eval()
        batch_inputs = inputs(kind, config, args.batch)
        fp32 = images_per_second(model, batch_inputs, torch.float32, args.passes)
        bf16 = images_per_second(model, batch_inputs, torch.bfloat16, args.passes)
        print(f"| {name} | {fp32:.2f} | {bf16:.2f} | {bf16 / fp32:.2f}x |", flush=True)
        del model
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
