"""Zero-shot accuracy of a CLIP model on freshly rendered demo-world frames.

    PYTHONPATH=services python -m videosearch.demo.evaluate --model models/demo-clip --frames 500 --seed 12345

Every frame is classified against *all* captions of one language
(:data:`videosearch.demo.world.CAPTIONS_BY_LANGUAGE`: English and Chinese, each measured on
the same frames) by cosine similarity of CLIP embeddings. Text and images go through ``CLIPProcessor``
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


def evaluate(
    model_path: str | Path, *, frames: int = 500, seed: int = 12345, threads: int | None = None, language: str = "en"
) -> dict:
    """Return ``{"accuracy", "color_accuracy", "shape_accuracy", "frames", "seed", "language", "confusions"}``
    for the captions of ``language`` (a key of :data:`videosearch.demo.world.CAPTIONS_BY_LANGUAGE`)."""
    return evaluate_languages(model_path, frames=frames, seed=seed, threads=threads, languages=(language,))[language]


def evaluate_languages(
    model_path: str | Path,
    *,
    frames: int = 500,
    seed: int = 12345,
    threads: int | None = None,
    languages: tuple[str, ...] = world.LANGUAGES,
) -> dict[str, dict]:
    """:func:`evaluate` for several languages on the same frames (embedded once)."""
    import torch

    if threads:
        torch.set_num_threads(threads)
    model, processor = load(model_path)
    imgs, labels = render_eval_frames(frames, seed)
    img = embed_images(model, processor, imgs)
    n_shapes = len(world.SHAPES)
    results = {}
    for language in languages:
        captions = world.CAPTIONS_BY_LANGUAGE[language]
        pred = (img @ embed_texts(model, processor, captions).t()).argmax(dim=1).numpy()
        conf = Counter(f"{captions[t]} -> {captions[p]}" for t, p in zip(labels, pred) if t != p)
        results[language] = {
            "accuracy": float(np.mean(pred == labels)),
            "color_accuracy": float(np.mean(pred // n_shapes == labels // n_shapes)),
            "shape_accuracy": float(np.mean(pred % n_shapes == labels % n_shapes)),
            "frames": int(frames),
            "seed": int(seed),
            "language": language,
            "confusions": dict(conf.most_common(10)),
        }
    return results


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
    ap.add_argument(
        "--language",
        action="append",
        choices=world.LANGUAGES,
        help="caption language to measure (repeatable; default: all of them)",
    )
    args = ap.parse_args(argv)
    languages = tuple(args.language or world.LANGUAGES)
    results = evaluate_languages(args.model, frames=args.frames, seed=args.seed, languages=languages)
    if args.record:
        # The top-level figures stay the English ones (what older readers of the file expect);
        # every language's are under "languages".
        strip = lambda res: {k: v for k, v in res.items() if k != "confusions"}
        rec = strip(results[languages[0]])
        rec["languages"] = {language: strip(res) for language, res in results.items()}
        rec["command"] = (
            f"python -m videosearch.demo.evaluate --model {args.model} --frames {args.frames} --seed {args.seed}"
        )
        (Path(args.model) / "eval_results.json").write_text(json.dumps(rec, indent=2, ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(results, indent=2, ensure_ascii=False))
        return 0
    for language, res in results.items():
        print(
            f"zero-shot accuracy ({language}): {res['accuracy'] * 100:.1f}% ({args.frames} frames, seed {args.seed}, "
            f"{len(world.CAPTIONS)} captions)"
        )
        print(
            f"  colour accuracy: {res['color_accuracy'] * 100:.1f}%   shape accuracy: {res['shape_accuracy'] * 100:.1f}%"
        )
        for k, v in res["confusions"].items():
            print(f"  {v:4d}  {k}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
