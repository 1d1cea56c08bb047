"""The on-screen text reader's cheaper inputs read the same words (videosearch.indexer.text
rapid_ocr, text_regions, on_screen): a crop its text fills goes to the recognizer at its own width
instead of the models' 320, a sign's plate with small text keeps a wide input, the detector's
input is made in float32 with its final sigmoid outside OpenVINO, and a new picture is detected
only in its parts with edges. The OCR tests run rapidocr's shipped models on rendered frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from videosearch.indexer.text import text_regions as regions
from videosearch.indexer.text.on_screen import ReadingSteps, SceneTextReader, _key, read_lines

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"


def rendered(lines, size=(960, 540), background=(120, 40, 30)) -> np.ndarray:
    """A flat ``background`` frame with ``lines`` (text, x, y, font px, plate) drawn in white, or
    dark on a light plate."""
    from PIL import Image, ImageDraw, ImageFont

    if not Path(DEJAVU).exists():
        pytest.skip(f"font {DEJAVU} missing: apt-get install -y fonts-dejavu-core")
    image = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(image)
    for text, x, y, px, plate in lines:
        font = ImageFont.truetype(DEJAVU, px)
        if plate:
            left, top, right, bottom = draw.textbbox((x, y), text, font=font)
            draw.rectangle((left - 12, top - 12, right + 12, bottom + 12), fill=(250, 250, 245))
        draw.text((x, y), text, font=font, fill=(20, 20, 30) if plate else (255, 255, 255))
    return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])


@pytest.fixture(scope="module")
def recognizers():
    pytest.importorskip("rapidocr")
    from videosearch.indexer.text.rapid_ocr import RapidOcrRecognizer

    # the default, and the models' own minimum width for every crop (as before)
    return RapidOcrRecognizer(), RapidOcrRecognizer(min_recognition_width=320, filled_min_width=320)


def test_ink_share_tells_a_filled_line_from_small_text_on_a_plate():
    from videosearch.indexer.text.rapid_ocr import ink_share

    filled = rendered([("63", 10, 4, 20, False)], size=(40, 30))
    plate = rendered([("EXIT", 14, 14, 8, True)], size=(60, 40))
    assert ink_share(filled) >= 0.45 > ink_share(plate)
    assert ink_share(np.zeros((20, 50, 3), np.uint8)) == 0.0


@pytest.mark.slow
def test_a_short_line_is_read_from_a_narrow_input_as_from_320(recognizers):
    new, old = recognizers
    frame = rendered([("1463", 100, 100, 24, False), ("Gate 12", 300, 100, 20, False)])
    quads = new.detect(frame)
    crops = [regions.crop(frame, quad) for quad in quads]
    widths = [new.recognition_input(c).shape[3] for c in crops]
    assert all(width < 320 for width in widths)  # the models' minimum, paid before for short words
    assert (
        [text for text, _ in new.recognize(crops)] == [text for text, _ in old.recognize(crops)] == ["1463", "Gate 12"]
    )


@pytest.mark.slow
def test_small_text_on_a_plate_keeps_a_wide_input_and_is_read(recognizers):
    new, old = recognizers
    frame = rendered([("Library Hours", 60, 60, 11, True)], background=(60, 110, 60))
    lines = read_lines(new, frame)
    assert [_key(line.text) for line in lines if line.confidence >= 0.6] == [_key("Library Hours")]
    crop = regions.crop(frame, new.detect(frame)[0])
    assert new.recognition_input(crop).shape[3] >= 256  # not its own 128: the text is small in its box
    assert new.recognize([crop])[0][0] == old.recognize([crop])[0][0]


def test_the_detector_input_is_rapidocrs_in_float32():
    DetPreProcess = pytest.importorskip("rapidocr.ch_ppocr_det.utils").DetPreProcess  # installed --no-deps

    from videosearch.indexer.text.rapid_ocr import detection_input

    image = np.random.default_rng(1).integers(0, 256, (446, 768, 3), dtype=np.uint8)
    ours = detection_input(image)
    theirs = DetPreProcess(8192, "max")(image)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape == (1, 3, 448, 768)
    assert np.abs(ours - theirs).max() < 1e-5


def test_content_areas_cover_the_text_and_leave_the_flat_colour_out():
    frame = rendered([("Quarterly Budget Review", 60, 60, 40, False), ("so let us begin", 380, 470, 24, False)])
    areas = regions.content_areas(frame)
    assert areas is not None and len(areas) == 2
    assert sum((x1 - x0) * (y1 - y0) for x0, y0, x1, y1 in areas) < 0.25 * 960 * 540
    (ax0, ay0, ax1, ay1), (bx0, by0, bx1, by1) = sorted(areas, key=lambda a: a[1])
    assert ax0 <= 60 and ay0 <= 60 and ax1 >= 560 and ay1 >= 100 and by0 <= 470 and by1 >= 495
    assert regions.content_areas(np.full((540, 960, 3), 90, np.uint8)) == []  # nothing to read
    faint = rendered([("Faint Watermark", 100, 200, 28, False)], background=(120, 120, 120))
    faint[faint > 120] = 132  # grey text 12 levels from its background, the least the detector finds
    assert regions.content_areas(faint)
    noise = np.random.default_rng(0).integers(0, 256, (540, 960, 3), dtype=np.uint8)
    assert regions.content_areas(noise) is None  # edges everywhere: the whole frame


@pytest.mark.slow
def test_a_slide_read_in_its_parts_with_edges_gives_the_same_spans(recognizers):
    new, _ = recognizers
    frames = [
        rendered([("Mountain Weather Report", 60, 60, 40, False), ("Sunny skies", 80, 160, 24, False)]),
        rendered([("Station Timetable", 60, 60, 40, False), ("EXIT", 700, 400, 10, True)], background=(30, 80, 90)),
    ]
    times = [0.0, 2.0]

    def spans(steps):
        reader = SceneTextReader(new, steps=steps)
        return sorted(s.text for s in reader.read_scene(frames, times, 4.0)), reader.counts

    whole, whole_counts = spans(ReadingSteps(content_areas_only=False))
    parts, counts = spans(ReadingSteps())
    assert parts == whole == sorted(["Mountain Weather Report", "Sunny skies", "Station Timetable", "EXIT"])
    assert counts.detected_pixels < 0.3 * whole_counts.detected_pixels
