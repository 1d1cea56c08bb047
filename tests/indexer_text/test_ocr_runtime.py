"""What runs the on-screen text models (videosearch.indexer.text.ocr_runtime): OpenVINO, the
default where the CPU computes bf16, and onnxruntime both read rendered English and Chinese lines
with the real PP-OCR models; the setting picks the runtime, ``auto`` picks by the CPU, a bad name
is refused at start, and an Indexer that reads no on-screen text loads neither runtime."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from videosearch.common.errors import InvalidArgument
from videosearch.indexer.settings import load, ocr_runtime_name
from videosearch.indexer.text import ocr_runtime
from videosearch.indexer.text.on_screen import _key, make_text_recognizer, read_lines

FONTS = {
    False: "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    True: "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
}
LINES = [("QUARTERLY BUDGET", False), ("Platform 7 North", False), ("季度预算会议", True), ("北门停车场", True)]


def _frame() -> np.ndarray:
    """A 640x360 frame with LINES drawn dark on light, 22 px, at places that give the detector
    inputs of sizes that are not multiples of OpenVINO's SHAPE_STEP."""
    from PIL import Image, ImageDraw, ImageFont

    for path in FONTS.values():
        if not Path(path).exists():
            pytest.skip(f"font {path} missing: apt-get install -y fonts-dejavu-core fonts-wqy-microhei")
    image = Image.new("RGB", (640, 360), (235, 235, 225))
    draw = ImageDraw.Draw(image)
    for row, (text, chinese) in enumerate(LINES):
        draw.text((30 + 40 * row, 30 + 80 * row), text, font=ImageFont.truetype(FONTS[chinese], 22), fill=(20, 20, 30))
    return np.ascontiguousarray(np.asarray(image)[:, :, ::-1])


@pytest.mark.parametrize("runtime", ["openvino", "onnxruntime"])
def test_each_runtime_reads_english_and_chinese_lines(runtime):
    recognizer = make_text_recognizer(runtime=runtime)
    frame = _frame()
    read = {_key(line.text) for line in read_lines(recognizer, frame) if line.confidence >= 0.6}
    assert recognizer.runtime == runtime
    assert read >= {_key(text) for text, _ in LINES}
    # the changed part of a frame: an odd-sized detector input (padded by OpenVINO, cut back after)
    part = frame[25:137, 20:433]
    boxes = recognizer.detect(part)
    assert len(boxes) == 2 and all((box >= 0).all() and (box <= [433 - 20, 137 - 25]).all() for box in boxes)


def test_openvino_pads_inputs_to_few_shapes_and_cuts_the_map_back():
    from videosearch.indexer.text.rapid_ocr import RapidOcrRecognizer

    recognizer = RapidOcrRecognizer(runtime="openvino")
    detector, lines = recognizer._loaded()
    assert detector.session.precision == ("bf16" if ocr_runtime.has_native_bf16() else "f32")
    probabilities = detector.session(np.zeros((1, 3, 96, 160), np.float32))
    assert probabilities.shape == (1, 1, 96, 160)
    steps = lines.session(np.zeros((1, 3, 48, 330), np.float32))  # padded to 384 wide: 48 CTC steps
    assert steps.shape[:2] == (1, 384 // 8)


def test_auto_picks_openvino_where_the_cpu_computes_bf16():
    recognizer = make_text_recognizer(runtime="auto")
    recognizer.detect(np.zeros((64, 64, 3), np.uint8))
    assert recognizer.runtime == ("openvino" if ocr_runtime.has_native_bf16() else "onnxruntime")
    assert ocr_runtime.choose_runtime("auto") == recognizer.runtime


def test_the_setting_picks_the_runtime_and_a_bad_one_is_refused():
    assert load([]).ocr_runtime == ocr_runtime.DEFAULT_OCR_RUNTIME == "auto"
    assert ocr_runtime_name(load(["--ocr-runtime", "onnxruntime"])) == "onnxruntime"
    with pytest.raises(InvalidArgument, match="--ocr-runtime: unknown OCR runtime 'tensorflow'; use auto"):
        ocr_runtime_name(load(["--ocr-runtime", "tensorflow"]))
    with pytest.raises(ValueError, match="unknown OCR runtime"):
        make_text_recognizer(runtime="tensorflow")


def test_an_indexer_loads_no_runtime_until_it_reads_on_screen_text_and_then_the_one_set():
    script = (
        "import sys\n"
        "import numpy as np\n"
        "from videosearch.indexer.server import IndexerApp\n"
        "from videosearch.indexer.settings import load\n"
        "app = IndexerApp(load(['--port', '0', '--ocr-runtime', 'onnxruntime']))\n"
        "print(sorted(m for m in ('openvino', 'onnxruntime', 'rapidocr') if m in sys.modules))\n"
        "recognizer = app.pipeline._text_recognizer\n"
        "recognizer.detect(np.zeros((64, 64, 3), np.uint8))\n"
        "print(recognizer.runtime, 'openvino' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.split("\n")[:2] == ["[]", "onnxruntime False"]
