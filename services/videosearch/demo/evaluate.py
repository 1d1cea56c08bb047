"""Zero-shot accuracy of a CLIP model on freshly rendered demo-world frames.

    PYTHONPATH=services python -m videosearch.demo.evaluate --model models/demo-clip --frames 500 --seed 12345

Every frame is classified against *all* captions of :data:`videosearch.demo.world.CAPTIONS`
by cosine similarity of CLIP embeddings. Text and images go through ``CLIPProcessor``
exactly like at inference time (frames are rendered at video-like sizes, e.g. 640x360,
then resized to the shortest edge and center-cropped by the processor).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

from videosearch.demo import world

# (W, H) frame sizes used for evaluation frames, cycled.
EVAL_SIZES: tuple[tuple[int, int], ...] = ((640, 360), (320, 180), (256, 256), (160, 120), (480, 270))


def _as_tensor(out):
    """``get_*_features`` returns a tensor in transformers 4 and a model output in 5."""
    if hasattr(out, "pooler_output"):
        return out.pooler_output
    return out


def load(model_path: str | Path):
    from transformers import CLIPModel, CLIPProcessor

    model = CLIPModel.from_pretrained(str(model_path))
    model.eval()
    processor = CLIPProcessor.from_pretrained(str(model_path))
    return model, processor


def embed_texts(model, processor, texts: list[str]):
    import torch

    enc = processor(text=texts, return_tensors="pt", padding=True, truncation=True)
    with torch.no_grad():
        t = _as_tensor(model.get_text_features(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]))
    return torch.nn.functional.normalize(t, dim=-1)


def embed_images(model, processor, images: list[np.ndarray], batch_size: int = 64):
    import torch

    outs = []
    for i in range(0, len(images), batch_size):
        enc = processor(images=images[i : i + batch_size], return_tensors="pt")
        with torch.no_grad():
            outs.append(_as_tensor(model.get_image_features(pixel_values=enc["pixel_values"])))
    return torch.nn.functional.normalize(torch.cat(outs), dim=-1)


def render_eval_frames(n: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """``n`` frames with balanced random captions at the sizes of :data:`EVAL_SIZES`."""
    rng = np.random.default_rng(seed)
    n_cap = len(world.CAPTIONS)
    labels = rng.permutation(np.tile(np.arange(n_cap), -(-n // n_cap)))[:n]
    frames = []
    for i, lab in enumerate(labels):
        w, h = EVAL_SIZES[i % len(EVAL_SIZES)]
        frames.append(world.render_batch(np.array([lab]), h, w, rng)[0])
    return frames, labels


def evaluate(model_path: str | Path, *, frames: int = 500, seed: int = 12345, threads: int | None = None) -> dict:
    """Return ``{"accuracy", "color_accuracy", "shape_accuracy", "frames", "seed", "confusions"}``."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    model, processor = load(model_path)
    imgs, labels = render_eval_frames(frames, seed)
    txt = embed_texts(model, processor, world.CAPTIONS)
    img = embed_images(model, processor, imgs)
    pred = (img @ txt.t()).argmax(dim=1).numpy()
    n_shapes = len(world.SHAPES)
    conf = Counter(
        f"{world.CAPTIONS[t]} -> {world.CAPTIONS[p]}" for t, p in zip(labels, pred) if t != p
    )
    return {
        "accuracy": float(np.mean(pred == labels)),
        "color_accuracy": float(np.mean(pred // n_shapes == labels // n_shapes)),
        "shape_accuracy": float(np.mean(pred % n_shapes == labels % n_shapes)),
        "frames": int(frames),
        "seed": int(seed),
        "confusions": dict(conf.most_common(10)),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="models/demo-clip")
    ap.add_argument("--frames", type=int, default=500)
    ap.add_argument("--seed", type=int, default=12345)
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument(
        "--record",
        action="store_true",
        help="also write the result to <model>/eval_results.json (the accuracy tests/demo checks against)",
    )
    args = ap.parse_args(argv)
    res = evaluate(args.model, frames=args.frames, seed=args.seed)
    if args.record:
        rec = {k: v for k, v in res.items() if k != "confusions"}
        rec["command"] = (
            f"python -m videosearch.demo.evaluate --model {args.model} --frames {args.frames} --seed {args.seed}"
        )
        (Path(args.model) / "eval_results.json").write_text(json.dumps(rec, indent=2) + "\n")
    if args.json:
        print(json.dumps(res, indent=2))
    else:
        print(f"zero-shot accuracy: {res['accuracy'] * 100:.1f}% ({args.frames} frames, seed {args.seed}, "
              f"{len(world.CAPTIONS)} captions)")
        print(f"  colour accuracy: {res['color_accuracy'] * 100:.1f}%   shape accuracy: {res['shape_accuracy'] * 100:.1f}%")
        for k, v in res["confusions"].items():
            print(f"  {v:4d}  {k}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
