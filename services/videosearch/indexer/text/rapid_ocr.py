"""rapidocr's shipped PP-OCR models (Chinese and English, ONNX, offline; run by OpenVINO or
onnxruntime: videosearch.indexer.text.ocr_runtime) as a two-stage
:class:`~videosearch.indexer.text.on_screen.TextRecognizer`: detection of text boxes and
recognition of box crops, called separately so the scene reader can detect in only the part
of a frame that changed and recognize only the boxes it has not read before, once a scene's
samples are examined (docs/performance.md, "Index-time cost of reading words").
"""

from __future__ import annotations

import logging
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
RECOGNITION_BATCH = 1
"""Box crops per recognizer call. The recognizer's time grows with its input's width (about 8 ms
per 100 px at 48 px high on one thread of onnxruntime) and a batch pads every crop to its widest, so batching
saved nothing on CPU and padding cost more: 8 a batch, sorted by width, took 12% more CPU than one
at a time for the same lines read (bench/index/ocr_steps.py's recall corpus)."""
RECOGNITION_HEIGHT = 48
"""Pixels high the recognizer reads every crop at (the models' input height)."""
MIN_RECOGNITION_WIDTH = 320
"""Pixels wide every crop is padded to at least (the models' own): narrower crops of short words
cost less to read (160 px about half) but lost 8 px lines of the recall corpus (0.91 -> 0.82)."""


class RapidOcrRecognizer:
    """Models loaded on first use (about 1 s). Calls are serialized: one engine per Indexer, and
    OCR runs on one thread beside decoding and embedding. ``runtime``: one of
    ocr_runtime.OCR_RUNTIMES (``auto``: OpenVINO in bf16 where the CPU computes it natively)."""

    def __init__(
        self,
        threads: int = 1,
        detect_max_side: int = DEFAULT_DETECT_MAX_SIDE,
        batch: int = RECOGNITION_BATCH,
        min_recognition_width: int = MIN_RECOGNITION_WIDTH,
        runtime: str = DEFAULT_OCR_RUNTIME,
    ) -> None:
        self._runtime = check_runtime(runtime)  # resolved at load: ``auto`` loads OpenVINO to ask the CPU
        self.runtime: str | None = None
        """The runtime that runs the models (``auto`` resolved), once they are loaded."""
        self._threads = threads
        self._detect_max_side = detect_max_side
        self._batch = batch
        self._min_width = min_recognition_width
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
                "Rec.rec_batch_num": self._batch,
                "Rec.rec_img_shape": [3, RECOGNITION_HEIGHT, self._min_width],
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

    def detect(self, image_bgr: np.ndarray) -> list[np.ndarray]:
        # Shrunk here (not by rapidocr) so that the border is added at the detector's scale and
        # does not change it.
        height, width = image_bgr.shape[:2]
        scale = min(1.0, self._detect_max_side / max(height, width))
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
            found = detector(framed)
        if found.boxes is None:
            return []
        quads = [(np.asarray(q, dtype=np.float32).reshape(4, 2) - DETECT_BORDER) / scale for q in found.boxes]
        return [np.clip(q, 0, [width, height]).astype(np.float32) for q in quads]

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        if not crops:
            return []
        from rapidocr.ch_ppocr_rec import TextRecInput

        with self._lock:
            _, recognizer = self._loaded()
            result = recognizer(TextRecInput(img=[np.ascontiguousarray(c) for c in crops]))
        return [(str(text), float(score)) for text, score in zip(result.txts, result.scores)]
