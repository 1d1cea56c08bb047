"""Helpers for the Indexer media tests: the shared real videos and small synthetic ones."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from videosearch.embedder.types import Preprocessing

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def clip_preprocessing(size: int) -> Preprocessing:
    return Preprocessing(size, size, size, 1 / 255, CLIP_MEAN, CLIP_STD, "bicubic")


def golden_cuts(videos: Path, name: str, setting: str = "default") -> list[int] | None:
    path = videos / "goldens" / f"{name}.ContentDetector.{setting}.json"
    return json.loads(path.read_text())["cuts"] if path.exists() else None


def decode_all(path: Path | str) -> list[np.ndarray]:
    """Every frame, decoded independently of the code under test."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def write_video(path: Path, frames, fps: float = 25.0) -> Path:
    """Writes BGR frames with OpenCV's mp4v encoder."""
    frames = iter(frames)
    first = next(frames)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (first.shape[1], first.shape[0]))
    assert writer.isOpened(), "OpenCV cannot write mp4v here"
    writer.write(first)
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def drifting_square_frames(count: int, width: int = 64, height: int = 48):
    """One long scene: a small bright square drifting one pixel per frame over a gradient,
    so every frame differs from its neighbours but no cut is ever detected."""
    background = np.tile(np.linspace(40, 120, width, dtype=np.uint8), (height, 1))
    background = np.dstack([background, background[:, ::-1], np.full_like(background, 80)])
    path_len = 2 * (width - 8) + 2 * (height - 8)
    for i in range(count):
        frame = background.copy()
        p = i % path_len
        if p < width - 8:
            x, y = p, 0
        elif p < width - 8 + height - 8:
            x, y = width - 8, p - (width - 8)
        elif p < 2 * (width - 8) + height - 8:
            x, y = 2 * (width - 8) + height - 8 - p, height - 8
        else:
            x, y = 0, path_len - p
        frame[y : y + 8, x : x + 8] = 250
        yield frame
