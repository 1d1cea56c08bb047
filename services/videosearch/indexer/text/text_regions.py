"""Geometry of on-screen text boxes for the scene reader (videosearch.indexer.text.on_screen):
where a sample changed since the last one examined, the crop of a box, and whether a box shows
what the box at its place showed in the last sample examined."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

CHANGED_CELL_LEVELS = 4.0
"""A grid cell whose mean grey level moved this much (8-bit) counts as changed: lower than the
sample gate's threshold, so faint text appearing in a cell is not missed."""
MAX_CHANGED_SHARE = 0.5
"""Where more of the frame than this changed, text is detected in the whole frame (detecting
in a large part costs nearly as much, and a cut-like change leaves nothing to keep)."""
MIN_AREA_SIDE = 64  # pixels: a changed part is grown to at least this, the detector's smallest useful input
SAME_BOX_OVERLAP = 0.6  # intersection over union of two boxes taken for the same place
MAX_CROP_DIFFERENCE = 24.0
"""8-bit levels: the largest local (4x4 pixel) mean difference between the same box of two
frames, at CROP_HEIGHT, for them to show the same words (compression noise stays under 10; one
changed digit of a clock moves its patch by 60 or more)."""
CROP_HEIGHT = 24  # pixels: crops are compared at this height
EDGE_LEVELS = 8
"""8-bit levels: a pixel whose 3x3 neighbourhood (at half the frame's size) spans this much is an
edge, where text can be (text needs contrast to be read). The detector found grey text 12 levels
from its background and none at 8; at 24 the parts missed text it read (12 to 20 levels)."""
CONTENT_MARGIN = 24
"""Pixels of the frame added around the edges that make a content area: the detector's boxes reach
past the strokes, and it needs some plain background around a line to find it."""
MAX_CONTENT_SHARE = 0.6
"""Where the content areas cover more of the frame than this, the whole frame is detected (a
picture with edges everywhere; several calls would cost more than one)."""
MAX_CONTENT_AREAS = 4
COMPARE_INSET = 0.2


@dataclass
class Box:
    """A text box of an examined sample: its quadrilateral (4, 2) in frame pixels and the index
    of the reading that gives its words (-1: not read, too small)."""

    quad: np.ndarray
    reading: int


def bounds(quad: np.ndarray) -> tuple[float, float, float, float]:
    """The axis-aligned box (x, y, width, height) around ``quad``."""
    x0, y0 = quad.min(axis=0)
    x1, y1 = quad.max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)


def height(quad: np.ndarray) -> float:
    """The text's height: the shorter side of the quadrilateral."""
    sides = np.linalg.norm(quad - np.roll(quad, -1, axis=0), axis=1)
    return float(min(max(sides[0], sides[2]), max(sides[1], sides[3])))


def crop(frame: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The box straightened out of ``frame`` (as PP-OCR crops its boxes: perspective warp,
    standing crops turned to read left to right)."""
    quad = quad.astype(np.float32)
    width = int(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[2] - quad[3])))
    tall = int(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    width, tall = max(width, 1), max(tall, 1)
    target = np.array([[0, 0], [width, 0], [width, tall], [0, tall]], dtype=np.float32)
    out = cv2.warpPerspective(
        frame,
        cv2.getPerspectiveTransform(quad, target),
        (width, tall),
        borderMode=cv2.BORDER_REPLICATE,
        flags=cv2.INTER_CUBIC,
    )
    return np.rot90(out) if tall >= 1.5 * width else out


def changed_area(
    now: np.ndarray, before: np.ndarray, size: tuple[int, int], boxes: list[np.ndarray]
) -> tuple[int, int, int, int] | None:
    """The part of the frame (x0, y0, x1, y1 in pixels) to detect text in, given two grid
    signatures of it: the changed cells, one cell around them, grown to cover every box it
    touches (a line that changed in part is detected whole); None when it is most of the frame."""
    width, height = size
    rows, cols = np.nonzero(np.abs(now - before) >= CHANGED_CELL_LEVELS)
    if len(rows) == 0:
        return None
    cell_w, cell_h = width / now.shape[1], height / now.shape[0]
    area = [(cols.min() - 1) * cell_w, (rows.min() - 1) * cell_h, (cols.max() + 2) * cell_w, (rows.max() + 2) * cell_h]
    grown = True
    while grown:
        grown = False
        for quad in boxes:
            x, y, w, h = bounds(quad)
            if _overlaps(area, (x, y, x + w, y + h)) and not _inside((x, y, x + w, y + h), area):
                area = [min(area[0], x - 2), min(area[1], y - 2), max(area[2], x + w + 2), max(area[3], y + h + 2)]
                grown = True
    for low, high, limit in ((0, 2, width), (1, 3, height)):  # at least MIN_AREA_SIDE, inside the frame
        short = MIN_AREA_SIDE - (area[high] - area[low])
        if short > 0:
            area[low], area[high] = area[low] - short / 2, area[high] + short / 2
        area[low], area[high] = max(0.0, area[low]), min(float(limit), area[high])
    x0, y0, x1, y1 = int(area[0]), int(area[1]), int(np.ceil(area[2])), int(np.ceil(area[3]))
    if (x1 - x0) * (y1 - y0) > MAX_CHANGED_SHARE * width * height:
        return None
    return x0, y0, x1, y1


def content_areas(frame: np.ndarray) -> list[tuple[int, int, int, int]] | None:
    """The parts of ``frame`` (x0, y0, x1, y1 in pixels) that hold edges, where text can be: on a
    slide or a title card most of the frame is a flat colour the detector need not see. None when
    they cover most of the frame (MAX_CONTENT_SHARE)."""
    height, width = frame.shape[:2]
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    small = cv2.resize(grey, (max(1, width // 2), max(1, height // 2)), interpolation=cv2.INTER_AREA)
    edges = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)) >= EDGE_LEVELS
    if not edges.any():
        return []
    reach = CONTENT_MARGIN // 2  # in the half-size map: lines and the words of a line join up
    joined = cv2.dilate(edges.astype(np.uint8), np.ones((2 * reach + 1, 2 * reach + 1), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    areas = [
        [max(0, 2 * x), max(0, 2 * y), min(width, 2 * (x + w)), min(height, 2 * (y + h))]
        for x, y, w, h, _ in stats[1:count]
    ]
    merged = True
    while merged:  # areas that overlap become one (a detector call each)
        merged = False
        for i in range(len(areas)):
            for j in range(i + 1, len(areas)):
                if _overlaps(areas[i], areas[j]):
                    a, b = areas[i], areas.pop(j)
                    areas[i] = [min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3])]
                    merged = True
                    break
            if merged:
                break
    if len(areas) > MAX_CONTENT_AREAS:
        areas = [
            [min(a[0] for a in areas), min(a[1] for a in areas), max(a[2] for a in areas), max(a[3] for a in areas)]
        ]
    if sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in areas) > MAX_CONTENT_SHARE * width * height:
        return None
    return [(int(x0), int(y0), int(x1), int(y1)) for x0, y0, x1, y1 in areas]


def touches(quad: np.ndarray, area: tuple[int, int, int, int]) -> bool:
    x, y, w, h = bounds(quad)
    return _overlaps(area, (x, y, x + w, y + h))


def same_box(quad: np.ndarray, frame: np.ndarray, before: list[Box], before_frame: np.ndarray) -> Box | None:
    """The box of ``before`` (boxes of ``before_frame``) at ``quad``'s place, when that place of
    the two frames shows the same pixels: its words are this box's. The same place of both
    frames is compared, not the two boxes' crops, which a pixel of detector jitter moves."""
    x, y, w, h = bounds(quad)
    best, best_overlap = None, SAME_BOX_OVERLAP
    for other in before:
        if other.reading < 0:
            continue
        ox, oy, ow, oh = bounds(other.quad)
        inter = max(0.0, min(x + w, ox + ow) - max(x, ox)) * max(0.0, min(y + h, oy + oh) - max(y, oy))
        overlap = inter / max(w * h + ow * oh - inter, 1e-6)
        if overlap >= best_overlap:
            best, best_overlap = other, overlap
    if best is None or frame.shape != before_frame.shape:
        return None
    inner = _inset(quad)
    return best if _same_pixels(crop(frame, inner), crop(before_frame, inner)) else None


def _inset(quad: np.ndarray) -> np.ndarray:
    """``quad`` shrunk by COMPARE_INSET of its height on every side: the detector's boxes reach a
    few pixels past the words (and a sign's plate) onto the picture around them, which may move."""
    centre = quad.mean(axis=0)
    margin = COMPARE_INSET * height(quad)
    shrunk = []
    for corner in quad:
        away = corner - centre
        shrunk.append(corner - np.sign(away) * np.minimum(np.abs(away), margin))
    return np.array(shrunk, dtype=np.float32)


def _same_pixels(a: np.ndarray, b: np.ndarray) -> bool:
    def grey(image: np.ndarray) -> np.ndarray:
        image = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        width = max(4, round(image.shape[1] * CROP_HEIGHT / max(image.shape[0], 1)))
        return cv2.resize(image, (width, CROP_HEIGHT), interpolation=cv2.INTER_AREA).astype(np.float32)

    change = cv2.blur(np.abs(grey(a) - grey(b)), (4, 4))
    return float(change.max()) < MAX_CROP_DIFFERENCE


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(inner, outer) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]
