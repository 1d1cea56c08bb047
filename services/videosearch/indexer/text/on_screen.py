"""On-screen text: words read (OCR) from the frames the decode pass sampled for CLIP, merged
over consecutive frames into WRITTEN spans with a time range and a box.

Engine: ``TextRecognizer`` is the interface, in the two stages of every OCR engine (detect
text boxes; recognize box crops); ``RapidOcrRecognizer`` (videosearch.indexer.text.rapid_ocr)
runs rapidocr's shipped PP-OCR models. ``make_text_recognizer`` is the one factory.

One OCR pass costs far more than a CLIP forward pass, so each scene is read as cheaply as its
text allows (what each step saves and costs: docs/performance.md, "Index-time cost of reading
words"):
* a sample is examined only when its picture differs from the last one examined in its scene
  (grid difference of the whole frame, so a caption changing at the bottom counts) and at
  least ``min_seconds_apart`` after it; a sample not examined extends the spans open then;
* where only part of the frame changed, text is detected in that part alone (grown to cover
  the boxes it touches); boxes elsewhere are the last examined sample's, words and all;
* where the whole frame is new, text is detected only in its parts with edges, at the whole
  frame's scale (text_regions.content_areas: on a slide most of the frame is a flat colour);
* a box whose place shows the same pixels as in the last examined sample, where a box was
  read, takes that box's words without being recognized again; boxes lower than ``min_text_height`` are
  not recognized (too small to read);
* the boxes left are recognized once the scene's samples are examined, one crop a call (a batch
  pads its crops to the widest, which costs more than it saves), each padded to 256 px wide,
  or only to its own width where its text fills it (rapid_ocr.MIN_RECOGNITION_WIDTH).
Text stays one span while it is read again on the following examined samples of the scene.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from dataclasses import dataclass, field
from typing import Protocol

import cv2
import numpy as np

from videosearch.indexer.media.reuse import difference
from videosearch.indexer.text.spans import TextBox, TextSpan
from videosearch.indexer.text import text_regions as regions

log = logging.getLogger(__name__)

DEFAULT_MIN_CONFIDENCE = 0.6
"""Lines the recognizer scores below this are dropped (its scores on clean rendered text are
above 0.95; noise read from textures scores lower)."""
DEFAULT_MIN_SECONDS_APART = 2.0
DEFAULT_MAX_DIFFERENCE = 10.0
"""8-bit levels on the TEXT_GRID grid: a sample closer than this to the last one read is not read again."""
DEFAULT_MIN_TEXT_HEIGHT = 8
"""Pixels (of the frame as read, at most TEXT_FRAME_MAX_SIDE wide): lower boxes are not
recognized; the models read nothing reliable below it (docs/performance.md)."""
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
    """An OCR engine in its two stages, so that a reader can skip the second for boxes it has
    read before and batch it over many frames."""

    def detect(self, image_bgr: np.ndarray, frame_side: int | None = None) -> list[np.ndarray]:
        """The text boxes in ``image_bgr``: quadrilaterals (4, 2) in its pixels, in reading order.
        ``frame_side``: ``image_bgr`` is a part of a frame this long (its long side), to be read at
        the scale the whole frame would be (None: at its own)."""
        ...

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """The words and confidence of each crop (BGR, one line of text each), in order."""
        ...


RECOGNIZERS = ("rapidocr",)


def make_text_recognizer(name: str = "rapidocr", threads: int = 1, **options) -> TextRecognizer:
    if name == "rapidocr":
        from videosearch.indexer.text.rapid_ocr import RapidOcrRecognizer

        return RapidOcrRecognizer(threads=threads, **options)
    raise ValueError(f"unknown on-screen text recognizer {name!r}; use {', '.join(RECOGNIZERS)}")


def read_lines(recognizer: TextRecognizer, frame_bgr: np.ndarray) -> list[ReadLine]:
    """Every line in one frame, detected and recognized (no reuse)."""
    quads = recognizer.detect(frame_bgr)
    read = recognizer.recognize([regions.crop(frame_bgr, quad) for quad in quads])
    return [ReadLine(text, score, regions.bounds(quad)) for quad, (text, score) in zip(quads, read)]


def detect_in(
    recognizer: TextRecognizer,
    frame_bgr: np.ndarray,
    areas: list[tuple[int, int, int, int]] | None = None,
    counts: "ReadingCounts | None" = None,
    frame_scale: bool = False,
) -> list[np.ndarray]:
    """The text boxes of ``frame_bgr`` found in ``areas`` (x0, y0, x1, y1; None: the whole frame),
    each detected apart (at the whole frame's scale with ``frame_scale``, else at its own), in the
    frame's pixels; ``counts`` takes the calls and pixels."""
    height, width = frame_bgr.shape[:2]
    quads = []
    for x0, y0, x1, y1 in [(0, 0, width, height)] if areas is None else areas:
        if areas is None:
            found = recognizer.detect(frame_bgr)
        elif frame_scale:
            found = recognizer.detect(frame_bgr[y0:y1, x0:x1], frame_side=max(width, height))
        else:
            found = recognizer.detect(frame_bgr[y0:y1, x0:x1])
        quads += [q + np.float32([x0, y0]) for q in found]
        if counts is not None:
            counts.detections += 1
            counts.detected_pixels += (x1 - x0) * (y1 - y0)
    return quads


def text_signature(frame_bgr: np.ndarray) -> np.ndarray:
    """The whole frame as TEXT_GRID cell means of its grey levels (float32)."""
    grey = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2GRAY)
    return cv2.resize(grey, TEXT_GRID, interpolation=cv2.INTER_AREA).astype(np.float32)


def _key(text: str) -> str:
    """What two readings of the same words share: case, width and spacing folded."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def _has_word(text: str) -> bool:
    """Whether a read line holds a letter or digit of any script: shapes read as symbols (a
    ball read as "●", a bullet, an arrow) are not words, and no query finds them."""
    return any(character.isalnum() for character in text)


def language_of(text: str) -> str:
    """ "zh" for text with Chinese characters; "" (unknown) otherwise: the models read any
    Latin-script language, so English cannot be told from the script alone."""
    return "zh" if _CJK.search(text) else ""


@dataclass(frozen=True)
class ReadingSteps:
    """Which of the savings a SceneTextReader makes (all by default; the bench turns them off
    one by one to measure each)."""

    changed_area_only: bool = True
    content_areas_only: bool = True
    reuse_unchanged_boxes: bool = True
    min_text_height: float = DEFAULT_MIN_TEXT_HEIGHT


@dataclass
class ReadingCounts:
    """What reading cost so far: samples examined and skipped, detector calls (and the pixels
    they saw), boxes found, recognized, reused and too small."""

    frames_read: int = 0
    frames_skipped: int = 0
    detections: int = 0
    detected_pixels: int = 0
    boxes: int = 0
    recognized: int = 0
    reused: int = 0
    too_small: int = 0
    detect_seconds: float = 0.0
    recognize_seconds: float = 0.0

    def add(self, other: "ReadingCounts") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class _Examined:
    """One examined sample: its time, shape and boxes, each with the index of the reading
    (recognizer call) that gives its words; -1 for a box too small to read."""

    at: float
    frame: np.ndarray
    boxes: list[regions.Box] = field(default_factory=list)

    @property
    def shape(self) -> tuple[int, int]:
        return self.frame.shape[:2]


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
        steps: ReadingSteps = ReadingSteps(),
    ) -> None:
        self._recognizer = recognizer
        self._min_confidence = min_confidence
        self._min_apart = min_seconds_apart
        self._max_difference = max_difference
        self._steps = steps
        self.counts = ReadingCounts()

    @property
    def frames_read(self) -> int:
        return self.counts.frames_read

    @property
    def frames_skipped(self) -> int:
        return self.counts.frames_skipped

    def _examine(self, frames: list[np.ndarray], times: list[float]) -> tuple[list[_Examined | None], list[np.ndarray]]:
        """Boxes of the samples worth examining (None for the others) and the crops still to be
        recognized, which the boxes point into."""
        examined: list[_Examined | None] = []
        to_read: list[np.ndarray] = []
        last: _Examined | None = None
        last_signature: np.ndarray | None = None
        for frame, at in zip(frames, times):
            signature = text_signature(frame)
            similar = last_signature is not None and difference(signature, last_signature) < self._max_difference
            if similar or (last is not None and at - last.at < self._min_apart):
                self.counts.frames_skipped += 1
                examined.append(None)
                continue
            self.counts.frames_read += 1
            height, width = frame.shape[:2]
            current = _Examined(at, frame)
            area = None
            if last is not None and self._steps.changed_area_only:
                area = regions.changed_area(signature, last_signature, (width, height), [b.quad for b in last.boxes])
            started = time.perf_counter()
            if area is None:
                parts = regions.content_areas(frame) if self._steps.content_areas_only else None
                quads = detect_in(self._recognizer, frame, parts, self.counts, frame_scale=True)
            else:
                quads = detect_in(self._recognizer, frame, [area], self.counts)
                current.boxes += [b for b in last.boxes if not regions.touches(b.quad, area)]  # unchanged: kept
            self.counts.detect_seconds += time.perf_counter() - started
            for quad in quads:
                self.counts.boxes += 1
                box = regions.Box(quad, -1)
                current.boxes.append(box)
                if regions.height(quad) < self._steps.min_text_height:
                    self.counts.too_small += 1
                    continue
                same = None
                if last is not None and self._steps.reuse_unchanged_boxes:
                    same = regions.same_box(quad, frame, last.boxes, last.frame)
                if same is not None:
                    box.reading = same.reading
                    self.counts.reused += 1
                else:
                    box.reading = len(to_read)
                    to_read.append(regions.crop(frame, quad))
            current.boxes.sort(key=lambda b: (b.quad[0, 1], b.quad[0, 0]))
            examined.append(current)
            last, last_signature = current, signature
        return examined, to_read

    def read_scene(self, frames: list[np.ndarray], times: list[float], scene_end: float) -> list[TextSpan]:
        examined, to_read = self._examine(frames, times)
        started = time.perf_counter()
        readings = self._recognizer.recognize(to_read)
        self.counts.recognize_seconds += time.perf_counter() - started
        self.counts.recognized += len(to_read)
        spans: list[TextSpan] = []
        open_lines: dict[str, _Open] = {}

        def close(key: str, end: float) -> None:
            entry = open_lines.pop(key)
            height, width = entry.shape
            x, y, w, h = entry.line.box
            x0, y0 = min(1.0, max(0.0, x / width)), min(1.0, max(0.0, y / height))
            x1, y1 = min(1.0, max(x0, (x + w) / width)), min(1.0, max(y0, (y + h) / height))
            box = TextBox(x0, y0, x1 - x0, y1 - y0)
            text = entry.line.text
            spans.append(TextSpan("written", entry.start, max(end, entry.start), text, language_of(text), "ocr", box))

        for sample, at in zip(examined, times):
            if sample is None:
                for entry in open_lines.values():
                    entry.last_seen = at  # still showing, as far as we can tell
                continue
            seen = {}
            for box in sample.boxes:
                if box.reading < 0:
                    continue
                text, confidence = readings[box.reading]
                words = " ".join(text.split())
                if confidence >= self._min_confidence and _has_word(words):
                    seen.setdefault(_key(words), ReadLine(words, confidence, regions.bounds(box.quad)))
            for key in [k for k in open_lines if k not in seen]:
                close(key, at)  # gone by this sample
            for key, line in seen.items():
                if key in open_lines:
                    open_lines[key].last_seen = at
                else:
                    open_lines[key] = _Open(at, at, line, sample.shape)
        for key in list(open_lines):
            close(key, scene_end)
        return spans
