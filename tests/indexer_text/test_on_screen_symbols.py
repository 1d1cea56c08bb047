"""On-screen text keeps words, not shapes: OCR reads a plain ball as "●" (the issue 22 probe's
videos of a moving ball got a "written ●" span in every scene, listed by `videosearch videos
show` and the web page); a line with no letter or digit of any script is not a span."""

from __future__ import annotations

import numpy as np

from videosearch.indexer.text.on_screen import SceneTextReader


class _Reads:
    """A recognizer that finds one box per frame and reads it as the given lines, in turn."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def detect(self, image_bgr: np.ndarray, frame_side: int | None = None) -> list[np.ndarray]:
        return [np.float32([[10, 10], [200, 10], [200, 40], [10, 40]])]

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        return [(self.lines[i % len(self.lines)], 0.99) for i in range(len(crops))]


def test_a_line_of_symbols_is_not_a_span_and_words_of_any_script_are():
    frames = [np.full((90, 160, 3), level, np.uint8) for level in (0, 120, 240, 60)]  # each differs: each read
    for frame in frames:  # a plate where the box is: a part with edges, where text is looked for
        frame[10:40, 10:150] = 0 if frame[0, 0, 0] > 127 else 255
    reader = SceneTextReader(_Reads(["●", "GATE 7", "→ •", "出口"]), min_seconds_apart=0.0)
    spans = reader.read_scene(frames, [0.0, 1.0, 2.0, 3.0], 4.0)
    assert [(span.text, span.start_seconds) for span in spans] == [("GATE 7", 1.0), ("出口", 3.0)]
