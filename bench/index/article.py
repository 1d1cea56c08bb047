"""The article's indexing and query pipeline, re-implemented for bench/index/run.py.

Two variants, both on the same CLIP as this project and both with the article's defaults:

* **as written**: scenes by PySceneDetect's ``SceneManager()`` as it comes (its automatic
  downscaling on, as in the 0.6 releases the article used and in 0.7) with ``ContentDetector()``;
  then 3 frames per scene, a seek per frame; ``CLIPProcessor`` per frame, and the 3 frames'
  pixel values averaged into one picture per scene: that picture is what the article stores.
  CLIP runs at query time: every query embeds its text *and every stored scene's picture*.
* **bug fixed, CLIP at index time**: the same scenes, seeks and ``CLIPProcessor`` calls, but one
  forward pass per frame at index time and the normalized mean of the frames' embeddings
  stored per scene (what the article meant to do); a query embeds its text only and ranks the
  stored embeddings by dot product.

Where the article's code leaves a choice open, the re-implementation takes the faster one, so
the comparison cannot favour this project: at query time all of a video's stored scenes go
through the vision tower in one batched forward pass (not one call per scene), and both
variants sample the 3 midpoints of the scene's thirds (the article's own sampling is buggy;
these are the positions this project's ``--frames-per-scene 3`` takes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

AS_WRITTEN = "article's pipeline as written"
BUG_FIXED = "article's pipeline, bug fixed (CLIP at index time)"
QUERY_BATCH = 64  # scenes per vision forward pass at query time (bounds memory, not speed)


@dataclass
class ArticleIndex:
    """What one variant stored for one video, and where its indexing time went."""

    cuts: list[int]
    times: dict[str, float]
    scene_pictures: np.ndarray | None = None  # as written: (scenes, 3, 224, 224) averaged pixel values
    scene_embeddings: np.ndarray | None = None  # bug fixed: (scenes, dim), L2-normalized
    query_seconds: list[float] = field(default_factory=list)

    @property
    def total(self) -> float:
        return self.times["total"]


def detect_scenes(path: Path) -> list[tuple[int, int]]:
    """``SceneManager()`` with ``ContentDetector()``, both as they come (automatic downscaling)."""
    from scenedetect import ContentDetector, SceneManager, open_video

    video = open_video(str(path))
    manager = SceneManager()
    manager.add_detector(ContentDetector())
    manager.detect_scenes(video)
    scenes = [(s.frame_num, e.frame_num) for s, e in manager.get_scene_list()]
    return scenes or [(0, video.frame_number)]


def index_video(path: Path, model, processor, *, clip_at_index: bool) -> ArticleIndex:
    import torch
    from PIL import Image

    times: dict[str, float] = {}
    started = time.perf_counter()
    scenes = detect_scenes(path)
    times["decode+detect"] = time.perf_counter() - started

    capture = cv2.VideoCapture(str(path))
    stored = []
    seek = preprocess = forward = 0.0
    for start, end in scenes:
        length = end - start
        positions = sorted({start + (2 * i + 1) * length // 6 for i in range(3)})
        per_frame = []
        for position in positions:
            t0 = time.perf_counter()
            capture.set(cv2.CAP_PROP_POS_FRAMES, position)  # a seek per sample
            ok, frame = capture.read()
            t1 = time.perf_counter()
            inputs = processor(images=Image.fromarray(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)), return_tensors="pt")
            t2 = time.perf_counter()
            if clip_at_index:
                with torch.inference_mode():
                    output = model.get_image_features(**inputs)  # one forward pass per frame
                features = output if isinstance(output, torch.Tensor) else output.pooler_output
                per_frame.append(torch.nn.functional.normalize(features, dim=-1)[0].numpy())
            else:
                per_frame.append(inputs["pixel_values"][0].numpy())
            t3 = time.perf_counter()
            seek, preprocess, forward = seek + t1 - t0, preprocess + t2 - t1, forward + t3 - t2
        mean = np.mean(per_frame, axis=0)
        stored.append(mean / np.linalg.norm(mean) if clip_at_index else mean)  # as written: averaged pixels
    capture.release()
    times.update({"seek+decode samples": seek, "preprocess": preprocess, "embed": forward})
    times["total"] = time.perf_counter() - started
    result = ArticleIndex(cuts=[s for s, _ in scenes[1:]], times=times)
    if clip_at_index:
        result.scene_embeddings = np.stack(stored).astype(np.float32)
    else:
        result.scene_pictures = np.stack(stored).astype(np.float32)
    return result


def answer_queries(index: ArticleIndex, queries: list[str], model, processor, top_k: int = 10) -> list[list[int]]:
    """Ranks the stored scenes for each query as the variant does; records each query's seconds."""
    import torch

    rankings = []
    for query in queries:
        began = time.perf_counter()
        tokens = processor.tokenizer([query], padding=True, return_tensors="pt")
        with torch.inference_mode():
            text = model.get_text_features(**tokens)
            text = text if isinstance(text, torch.Tensor) else text.pooler_output
            text = torch.nn.functional.normalize(text, dim=-1)[0].numpy()
            if index.scene_pictures is not None:  # as written: CLIP on every stored scene, every query
                parts = []
                for at in range(0, len(index.scene_pictures), QUERY_BATCH):
                    pixels = torch.from_numpy(index.scene_pictures[at : at + QUERY_BATCH])
                    image = model.get_image_features(pixel_values=pixels)
                    image = image if isinstance(image, torch.Tensor) else image.pooler_output
                    parts.append(torch.nn.functional.normalize(image, dim=-1).numpy())
                scenes = np.concatenate(parts)
            else:
                scenes = index.scene_embeddings
        scores = scenes @ text
        rankings.append(list(np.argsort(-scores)[:top_k]))
        index.query_seconds.append(time.perf_counter() - began)
    return rankings
