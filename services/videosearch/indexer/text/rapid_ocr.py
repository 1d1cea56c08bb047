"""rapidocr's shipped PP-OCR models (Chinese and English, ONNX, offline; run by OpenVINO or
onnxruntime: videosearch.indexer.text.ocr_runtime) as a two-stage
:class:`~videosearch.indexer.text.on_screen.TextRecognizer`: detection of text boxes and
recognition of box crops, called separately so the scene reader can detect in only the part
of a frame that changed and recognize only the boxes it has not read before, once a scene's
samples are examined (docs/performance.md, "Index-time cost of reading words").
"""

from __future__ import annotations

import logging
import math
import threading

import cv2
import numpy as np

from videosearch.indexer.text.ocr_runtime import DEFAULT_OCR_RUNTIME, check_runtime, choose_runtime, make_session

DEFAULT_DETECT_MAX_SIDE = 736
"""Long side the detector sees a frame (or the changed part of one) at, at most; larger ones are
shrunk (crops for recognition still come from the frame itself). Frames reach it at most
TEXT_FRAME_MAX_SIDE (960) wide: at 736 detection costs about half of 960's and read as many of
bench/index/ocr_steps.py's lines, down to 8 px text in dense slides; 640 lost a third of the
10 px lines (docs/performance.md). Never upscaled (rapidocr's default, 736 on the SHORT side,
costs 4x on a 640x360 frame)."""
DETECT_BORDER = 16
"""Pixels of border (the edge pixels repeated) added around an image at the detector's input
scale: without it the detector missed text touching the frame's edge (a clock in a corner) at
reduced input sizes; a black border instead cost a tenth of the small lines of
bench/index/ocr_steps.py's corpus."""
RECOGNITION_HEIGHT = 48
"""Pixels high the recognizer reads every crop at (the models' input height). Crops are read one a
call: the recognizer's time grows with its input's width (about 4 ms per 100 px at 48 px high on
one thread of OpenVINO bf16, 15 ms at 320) and a batch pads every crop to its widest, so batching
saved nothing on CPU (8 a batch, sorted by width, took 12% more CPU than one at a time for the same
lines read: bench/index/ocr_steps.py's recall corpus)."""
MIN_RECOGNITION_WIDTH = 256
"""Pixels wide every crop's input is padded to at least (with mean grey, as rapidocr pads), unless
its text fills it (FILLED_SHARE). The models' own minimum is 320, which a short word paid for in
full (a clock's counter is 85 px wide at 48 high). 256 read every line 320 read on
bench/index/ocr_steps.py's recall corpus (three seeds); 192 misread 8 px lines on signs' plates,
the text small inside its box (and 160 for every crop lost 8 px lines: 0.91 -> 0.82)."""
FILLED_MIN_WIDTH = 64
"""The minimum width for a crop its text fills (ink_share at least FILLED_SHARE): its own width,
one SHAPE_STEP at least. On the recall corpus (three seeds, 645 crops) every crop read differently
at its own width than at 320 had an ink share of 0.33 or less, but one already misread at 320
(0.47)."""
FILLED_SHARE = 0.45


def detection_input(image_bgr: np.ndarray) -> np.ndarray:
    """The detector's input for an image, (1, 3, height, width), as rapidocr makes it (its sides
    resized to the nearest multiple of 32, normalized to [-1, 1]) but in float32: rapidocr
    normalizes in float64, 12 ms on a 768x448 input, a sixth of the detector's own time."""
    height, width = image_bgr.shape[:2]
    sides = max(32, round(height / 32) * 32), max(32, round(width / 32) * 32)
    if sides != (height, width):
        image_bgr = cv2.resize(image_bgr, sides[::-1])
    return (image_bgr.transpose(2, 0, 1) * np.float32(2 / 255) - 1)[np.newaxis]


class RapidOcrRecognizer:
    """Models loaded on first use (about 1 s). Calls are serialized: one engine per Indexer, and
    OCR runs on one thread beside decoding and embedding. ``runtime``: one of
    ocr_runtime.OCR_RUNTIMES (``auto``: OpenVINO in bf16 where the CPU computes it natively)."""

    def __init__(
        self,
        threads: int = 1,
        detect_max_side: int = DEFAULT_DETECT_MAX_SIDE,
        min_recognition_width: int = MIN_RECOGNITION_WIDTH,
        filled_min_width: int = FILLED_MIN_WIDTH,
        filled_share: float = FILLED_SHARE,
        runtime: str = DEFAULT_OCR_RUNTIME,
    ) -> None:
        self._runtime = check_runtime(runtime)  # resolved at load: ``auto`` loads OpenVINO to ask the CPU
        self.runtime: str | None = None
        """The runtime that runs the models (``auto`` resolved), once they are loaded."""
        self._threads = threads
        self._detect_max_side = detect_max_side
        self._min_width = min_recognition_width
        self._filled_min_width = filled_min_width
        self._filled_share = filled_share
        self._models = None
        self._lock = threading.Lock()

    def _load(self):
        # imported here: an Indexer with OCR off never loads onnxruntime (nor OpenVINO)
        from pathlib import Path

        from rapidocr import RapidOCR
        from rapidocr.ch_ppocr_det import TextDetector
        from rapidocr.ch_ppocr_rec import TextRecognizer
        from rapidocr.inference_engine.base import FileInfo, InferSession

        cfg = RapidOCR(
            params={
                "Global.use_cls": False,
                "Global.log_level": "error",
                "Det.limit_type": "max",  # detect() shrinks images to detect_max_side itself
                "Det.limit_side_len": 8192,
                # One thread: the Indexer's decoder and the Embedder share the cores; more threads
                # measured slower on the shared 2-core machine (they wait on each other).
                "EngineConfig.onnxruntime.intra_op_num_threads": self._threads,
                "EngineConfig.onnxruntime.inter_op_num_threads": 1,
                # The arena keeps the buffers of one frame's shapes for the next (rapidocr turns it off).
                "EngineConfig.onnxruntime.enable_cpu_mem_arena": True,
            }
        ).cfg
        logging.getLogger("RapidOCR").setLevel(logging.ERROR)
        for stage in (cfg.Det, cfg.Rec):  # as RapidOCR's own loaders set them up
            stage.engine_cfg = cfg.EngineConfig[stage.engine_type.value]
            stage.model_root_dir = cfg.Global.model_root_dir
            # the shipped ONNX file, named here so that OpenVINO reads the file onnxruntime does
            info = FileInfo(
                **{key: stage[key] for key in ("engine_type", "ocr_version", "task_type", "lang_type", "model_type")}
            )
            shipped = Path(InferSession.get_model_url(info)["model_dir"]).name
            stage.model_path = str(Path(stage.model_root_dir) / shipped)
        cfg.Rec.font_path = cfg.Global.font_path
        # rapidocr's stages make onnxruntime sessions (the recognizer takes its alphabet from the
        # model's metadata through it); another runtime's session replaces them
        detector, recognizer = TextDetector(cfg.Det), TextRecognizer(cfg.Rec)
        self.runtime = choose_runtime(self._runtime)
        for model, stage, image_output in ((detector, cfg.Det, True), (recognizer, cfg.Rec, False)):
            session = make_session(self.runtime, Path(stage.model_path), self._threads, image_output)
            if session is not None:
                model.session = session
        return detector, recognizer

    def _loaded(self):
        if self._models is None:
            self._models = self._load()
        return self._models

    def detect(self, image_bgr: np.ndarray, frame_side: int | None = None) -> list[np.ndarray]:
        # Shrunk here (not by rapidocr) so that the border is added at the detector's scale and
        # does not change it. A part of a frame (``frame_side``: the frame's long side) is shrunk
        # as the whole frame would be, so that its text is detected as in the whole frame.
        height, width = image_bgr.shape[:2]
        scale = min(1.0, self._detect_max_side / (frame_side or max(height, width)))
        image = (
            image_bgr
            if scale == 1.0
            else cv2.resize(
                image_bgr, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA
            )
        )
        framed = cv2.copyMakeBorder(image, *(DETECT_BORDER,) * 4, cv2.BORDER_REPLICATE)
        with self._lock:
            detector, _ = self._loaded()
            found = detector.postprocess_op(detector.session(detection_input(framed)), framed.shape[:2])[0]
            if len(found) == 0:
                return []
            found = detector.sorted_boxes(found)
        quads = [(np.asarray(q, dtype=np.float32).reshape(4, 2) - DETECT_BORDER) / scale for q in found]
        return [np.clip(q, 0, [width, height]).astype(np.float32) for q in quads]

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        if not crops:
            return []
        with self._lock:
            _, recognizer = self._loaded()
            read = []
            for crop in crops:
                preds = recognizer.session(self.recognition_input(crop))
                (text, score), *_ = recognizer.postprocess_op(preds)[0]
                read.append((str(text), float(score)))
        return read

    def recognition_input(self, crop: np.ndarray) -> np.ndarray:
        """The recognizer's input for one crop, (1, 3, RECOGNITION_HEIGHT, width) normalized to
        [-1, 1] as rapidocr makes it: the crop scaled to RECOGNITION_HEIGHT high, padded on the
        right with zeros (mean grey) to the minimum width (MIN_RECOGNITION_WIDTH, or
        FILLED_MIN_WIDTH for a crop its text fills)."""
        height, width = crop.shape[:2]
        resized_width = max(1, math.ceil(width * RECOGNITION_HEIGHT / height))
        resized = cv2.resize(crop, (resized_width, RECOGNITION_HEIGHT))
        minimum = self._filled_min_width if ink_share(crop) >= self._filled_share else self._min_width
        tensor = np.zeros((1, 3, RECOGNITION_HEIGHT, max(minimum, resized_width)), np.float32)
        tensor[0, :, :, :resized_width] = resized.transpose(2, 0, 1) * np.float32(2 / 255) - 1
        return tensor


def ink_share(crop: np.ndarray) -> float:
    """The share of the crop's rows that cross the text's strokes: rows that change between dark
    and light (Otsu's threshold) at least four times, two strokes. A sign's plate and the picture
    around a line change twice at most (the plate's edges)."""
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    _, light = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    changes = np.count_nonzero(light[:, 1:] != light[:, :-1], axis=1)
    return float(np.mean(changes >= 4))
