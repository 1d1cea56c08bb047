"""On-screen text read cheaply without losing text: detection in the changed part of a sample
only, unchanged boxes not recognized again, and the detector's border for text at the edge
(videosearch.indexer.text.on_screen, text_regions, rapid_ocr). The OCR tests run rapidocr's
shipped models on rendered frames."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from videosearch.indexer.text import text_regions as regions
from videosearch.indexer.text.on_screen import ReadingSteps, SceneTextReader, text_signature

WIDTH, HEIGHT = 640, 360
EVERY_SAVING_OFF = ReadingSteps(
    changed_area_only=False, reuse_unchanged_boxes=False, min_text_height=0, content_areas_only=False
)


def frame(lines: list[tuple[str, int, int]], corner: int = 0, background=None) -> np.ndarray:
    """A grey frame with black-on-white ``lines`` (text, x, y) and a small block moved by ``corner``
    pixels in the bottom right corner (a change that holds no text)."""
    image = np.full((HEIGHT, WIDTH, 3), 90, np.uint8) if background is None else background.copy()
    for text, x, y in lines:
        (w, h), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 1.0, 2)
        cv2.rectangle(image, (x - 16, y - h - 16), (x + w + 16, y + 18), (255, 255, 255), -1)  # a plate
        cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (0, 0, 0), 2, cv2.LINE_AA)
    cv2.rectangle(image, (520 + corner, 300), (560 + corner, 340), (0, 200, 255), -1)
    return image


def test_a_change_in_a_corner_is_detected_there_alone():
    before, after = frame([("GATE 12", 40, 60)]), frame([("GATE 12", 40, 60)], corner=30)
    area = regions.changed_area(text_signature(after), text_signature(before), (WIDTH, HEIGHT), [])
    assert area is not None
    x0, y0, x1, y1 = area
    assert 480 <= x0 and x1 <= WIDTH and 260 <= y0 and y1 <= HEIGHT  # the corner, not the sign


def test_the_changed_part_grows_to_cover_a_line_it_touches():
    sign = np.float32([[30, 30], [330, 30], [330, 75], [30, 75]])
    before, after = frame([("GATE 12", 40, 60)]), frame([("GATE 12", 40, 60)])
    cv2.rectangle(after, (300, 40), (320, 60), (0, 0, 255), -1)  # a change at the sign's right end
    x0, y0, x1, y1 = regions.changed_area(text_signature(after), text_signature(before), (WIDTH, HEIGHT), [sign])
    assert x0 <= 30 and y0 <= 30 and x1 >= 330 and y1 >= 75


def test_a_change_over_most_of_the_frame_is_detected_whole():
    before = frame([])
    after = 255 - before
    assert regions.changed_area(text_signature(after), text_signature(before), (WIDTH, HEIGHT), []) is None


@pytest.fixture(scope="module")
def recognizer():
    pytest.importorskip("rapidocr")
    from videosearch.indexer.text.on_screen import make_text_recognizer

    return make_text_recognizer()


def read(recognizer, frames, steps=ReadingSteps()):
    reader = SceneTextReader(recognizer, steps=steps)
    spans = reader.read_scene(frames, [2.0 * i for i in range(len(frames))], 2.0 * len(frames))
    return sorted((s.text, s.start_seconds, s.end_seconds) for s in spans), reader.counts


@pytest.mark.slow
def test_savings_read_the_same_spans_with_fewer_detected_pixels(recognizer):
    """A sign that stays, a caption that changes at the bottom and a corner that moves at every
    sample: the same spans as with every saving off, detected in a fraction of the pixels."""
    captions = ["HELLO THERE", "HELLO THERE", "SEE YOU SOON", "SEE YOU SOON"]
    frames = [frame([("GATE 12", 40, 60), (caption, 150, 320)], corner=10 * i) for i, caption in enumerate(captions)]
    full, full_counts = read(recognizer, frames, EVERY_SAVING_OFF)
    cheap, counts = read(recognizer, frames)
    assert cheap == full
    assert [text for text, *_ in cheap] == ["GATE 12", "HELLO THERE", "SEE YOU SOON"]
    assert dict((t, (a, b)) for t, a, b in cheap)["SEE YOU SOON"] == (4.0, 8.0)
    assert counts.detected_pixels < 0.5 * full_counts.detected_pixels
    assert counts.recognized < full_counts.recognized


@pytest.mark.slow
def test_words_under_a_moving_picture_are_not_recognized_again_until_they_change(recognizer):
    rng = np.random.default_rng(0)
    backgrounds = [cv2.resize(rng.integers(0, 255, (18, 32, 3), dtype=np.uint8), (WIDTH, HEIGHT)) for _ in range(4)]
    signs = ["PLATFORM 7", "PLATFORM 7", "PLATFORM 7", "PLATFORM 8"]  # one digit changes last
    frames = [frame([(sign, 60, 80)], background=bg) for sign, bg in zip(signs, backgrounds)]
    spans, counts = read(recognizer, frames)
    assert [s for s in spans if "PLATFORM" in s[0]] == [("PLATFORM 7", 0.0, 6.0), ("PLATFORM 8", 6.0, 8.0)]
    assert counts.reused >= 2  # the 2nd and 3rd samples' sign at least; the 4th changed and was read


@pytest.mark.slow
def test_text_touching_the_frame_edge_is_found(recognizer):
    image = np.full((540, 960, 3), 20, np.uint8)
    cv2.putText(image, "00:12:34", (0, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1, cv2.LINE_AA)
    cv2.putText(image, "EVENING NEWS", (300, 300), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (255, 255, 255), 2, cv2.LINE_AA)
    spans, _ = read(recognizer, [image])
    assert [text for text, *_ in spans] == ["00:12:34", "EVENING NEWS"]
