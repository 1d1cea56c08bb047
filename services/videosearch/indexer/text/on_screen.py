"""On-screen text: words read (OCR) from the frames the decode pass sampled for CLIP, merged
over consecutive frames into WRITTEN spans with a time range and a box.

Engine: ``TextRecognizer`` is the interface; ``RapidOcrRecognizer`` runs rapidocr's shipped
PP-OCR detection and recognition models (Chinese and English, ONNX on onnxruntime, offline).
``make_text_recognizer`` is the one factory.

Cost is bounded two ways, because one OCR pass costs far more than a CLIP forward pass (about
0.3-0.7 s for a 960-wide frame on 2 shared cores, docs/performance.md): within a scene a
sample is read only when its picture differs from the last sample read (the same grid
difference as the embedding reuse of videosearch.indexer.media.reuse, on a finer grid of the whole
frame, so a caption changing at the bottom counts) and at least ``min_seconds_apart`` after
it. A sample that is not read extends the spans open at that moment; text stays one span
while it is read again on the following read samples of the scene.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Protocol

import cv2
import numpy as np

from videosearch.indexer.media.reuse import difference
from videosearch.indexer.text.spans import TextBox, TextSpan

log = logging.getLogger(__name__)

DEFAULT_MIN_CONFIDENCE = 0.6
"""Lines the recognizer scores below this are dropped (its scores on clean rendered text are
above 0.95; noise read from textures scores lower)."""
DEFAULT_MIN_SECONDS_APART = 2.0
DEFAULT_MAX_DIFFERENCE = 10.0
"""8-bit levels on the TEXT_GRID grid: a sample closer than this to the last one read is not read again."""
TEXT_GRID = (48, 27)  # cells (across, down) of the whole frame the samples are compared on
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass(frozen=True)
class ReadLine:
    """One line of text found in a frame: its words, the recognizer's confidence, and its
    axis-aligned box in pixels (x, y, width, height)."""

    text: str
    confidence: float
    box: tuple[float, float, float, float]


class TextRecognizer(Protocol):
    def read(self, frame_bgr: np.ndarray) -> list[ReadLine]: ...


class RapidOcrRecognizer:
    """rapidocr's shipped PP-OCR models (loaded on first use, about 1 s). Calls are serialized:
    one engine per Indexer, and OCR runs on one thread beside decoding and embedding."""

    def __init__(self, threads: int = 1) -> None:
        self._threads = threads
        self._engine = None
        self._lock = threading.Lock()

    def _load(self):
        from rapidocr import RapidOCR  # imported here: an Indexer with OCR off never loads onnxruntime

        params = {
            "Global.use_cls": False,
            "Global.log_level": "error",
            # Detection at the frame's own size (TEXT_FRAME_MAX_SIDE caps it), not upscaled to 736.
            "Det.limit_type": "max",
            "Det.limit_side_len": 960,
            "EngineConfig.onnxruntime.intra_op_num_threads": self._threads,
            "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        }
        engine = RapidOCR(params=params)
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        return engine

    def read(self, frame_bgr: np.ndarray) -> list[ReadLine]:
        with self._lock:
            if self._engine is None:
                self._engine = self._load()
            result = self._engine(np.ascontiguousarray(frame_bgr))
        if result is None or not getattr(result, "txts", None):
            return []
        lines = []
        for text, score, quad in zip(result.txts, result.scores, result.boxes):
            points = np.asarray(quad, dtype=np.float32).reshape(-1, 2)
            x0, y0 = points.min(axis=0)
            x1, y1 = points.max(axis=0)
            lines.append(ReadLine(str(text), float(score), (float(x0), float(y0), float(x1 - x0), float(y1 - y0))))
        return lines


RECOGNIZERS = ("rapidocr",)


def make_text_recognizer(name: str = "rapidocr", threads: int = 1) -> TextRecognizer:
    if name == "rapidocr":
        return RapidOcrRecognizer(threads=threads)
    raise ValueError(f"unknown on-screen text recognizer {name!r}; use {', '.join(RECOGNIZERS)}")


def text_signature(frame_bgr: np.ndarray) -> np.ndarray:
    """The whole frame as TEXT_GRID cell means of its grey levels (float32)."""
    grey = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, TEXT_GRID, interpolation=cv2.INTER_AREA).astype(np.float32)


def _key(text: str) -> str:
    """What two readings of the same words share: case, width and spacing folded."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def language_of(text: str) -> str:
    """ "zh" for text with Chinese characters; "" (unknown) otherwise: the models read any
    Latin-script language, so English cannot be told from the script alone."""
    return "zh" if _CJK.search(text) else ""


@dataclass
class _Open:
    start: float
    last_seen: float
    line: ReadLine
    shape: tuple[int, int]


class SceneTextReader:
    """Reads one scene's sampled frames and merges repeated lines into spans."""

    def __init__(
        self,
        recognizer: TextRecognizer,
        *,
        min_confidence: float = DEFAULT_MIN_CONFIDENCE,
        min_seconds_apart: float = DEFAULT_MIN_SECONDS_APART,
        max_difference: float = DEFAULT_MAX_DIFFERENCE,
    ) -> None:
        self._recognizer = recognizer
        self._min_confidence = min_confidence
        self._min_apart = min_seconds_apart
        self._max_difference = max_difference
        self.frames_read = 0
        self.frames_skipped = 0

    def read_scene(self, frames: list[np.ndarray], times: list[float], scene_end: float) -> list[TextSpan]:
        spans: list[TextSpan] = []
        open_lines: dict[str, _Open] = {}
        last_signature: np.ndarray | None = None
        last_read = -float("inf")

        def close(key: str, end: float) -> None:
            entry = open_lines.pop(key)
            height, width = entry.shape
            x, y, w, h = entry.line.box
            x0, y0 = min(1.0, max(0.0, x / width)), min(1.0, max(0.0, y / height))
            x1, y1 = min(1.0, max(x0, (x + w) / width)), min(1.0, max(y0, (y + h) / height))
            box = TextBox(x0, y0, x1 - x0, y1 - y0)
            spans.append(
                TextSpan(
                    "written",
                    entry.start,
                    max(end, entry.start),
                    entry.line.text,
                    language_of(entry.line.text),
                    "ocr",
                    box,
                )
            )

        for frame, at in zip(frames, times):
            signature = text_signature(frame)
            similar = last_signature is not None and difference(signature, last_signature) < self._max_difference
            if similar or at - last_read < self._min_apart:
                self.frames_skipped += 1
                for entry in open_lines.values():
                    entry.last_seen = at  # still showing, as far as we can tell
                continue
            last_signature, last_read = signature, at
            self.frames_read += 1
            seen = {}
            for line in self._recognizer.read(frame):
                words = " ".join(line.text.split())
                if line.confidence >= self._min_confidence and words:
                    seen.setdefault(_key(words), ReadLine(words, line.confidence, line.box))
            for key in [k for k in open_lines if k not in seen]:
                close(key, at)  # gone by this sample
            for key, line in seen.items():
                if key in open_lines:
                    open_lines[key].last_seen = at
                else:
                    open_lines[key] = _Open(at, at, line, frame.shape[:2])
        for key in list(open_lines):
            close(key, scene_end)
        return spans
