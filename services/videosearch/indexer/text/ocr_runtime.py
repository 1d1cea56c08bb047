"""What runs the PP-OCR ONNX models of :mod:`videosearch.indexer.text.rapid_ocr`: onnxruntime
(rapidocr's own sessions) or OpenVINO on the same ONNX files. ``ModelSession`` is the interface
(one tensor in, the model's first output out: what rapidocr's detector and recognizer call),
``make_session`` the one factory, ``choose_runtime`` resolves ``auto``.

Why OpenVINO in bf16: on a CPU with native bf16 (AVX512_BF16 or AMX) it ran the detector and the
recognizer in about two thirds of onnxruntime's CPU time on one thread, reading the same lines of
bench/index/ocr_steps.py's recall corpus; in f32 it was no faster than onnxruntime, so ``auto``
takes onnxruntime on other CPUs. Static int8 models (onnxruntime QDQ, calibrated) were no faster
than bf16 once the layers that lost 8 px lines were kept in float (docs/performance.md, "Index-time
cost of reading words").
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Protocol

import numpy as np

OCR_RUNTIMES = ("auto", "openvino", "onnxruntime")
DEFAULT_OCR_RUNTIME = "auto"
"""openvino where the CPU computes bf16 natively, else onnxruntime (see the module doc)."""
SHAPE_STEP = 64
"""OpenVINO input heights and widths are padded up to a multiple of this. OpenVINO prepares its
kernels again for every input shape it has not seen (about 20 ms, as much as a call), and the
detector's input (the changed part of a frame) and the recognizer's (a line's width) take
arbitrary sizes; padded, they fall on a few shapes that stay prepared. The padding is zero after
normalization (a mean grey to the detector, whose output is cut back to the input's size; the
blank rapidocr itself pads every crop to its width with, to the recognizer). Same lines read on
bench/index/ocr_steps.py's corpus and videos as without it."""


class ModelSession(Protocol):
    """One model, called the way rapidocr calls its inference sessions."""

    def __call__(self, tensor: np.ndarray) -> np.ndarray:
        """The model's first output for ``tensor`` (N, C, H, W float32)."""
        ...


@functools.cache
def has_native_bf16() -> bool:
    """Whether OpenVINO's CPU plugin computes bf16 natively here (False when OpenVINO is missing)."""
    try:
        import openvino
    except ImportError:
        return False
    return "BF16" in openvino.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def check_runtime(name: str) -> str:
    """``name`` if it is one of OCR_RUNTIMES (nothing is loaded)."""
    if name not in OCR_RUNTIMES:
        raise ValueError(f"unknown OCR runtime {name!r}; use {', '.join(OCR_RUNTIMES)}")
    return name


def choose_runtime(name: str) -> str:
    """``name`` with ``auto`` resolved to the runtime that runs the models here (``auto`` loads
    OpenVINO to ask the CPU)."""
    if check_runtime(name) == "auto":
        return "openvino" if has_native_bf16() else "onnxruntime"
    return name


class OpenVinoSession:
    """An ONNX model compiled by OpenVINO for the CPU: ``threads`` inference threads (1: on the
    calling thread), latency hint, no core pinning (the cores are shared with decoding and
    embedding), bf16 where the CPU computes it natively, inputs padded to SHAPE_STEP."""

    def __init__(self, model: Path, threads: int = 1, image_output: bool = False) -> None:
        import openvino  # imported here: an Indexer with OCR off (or on onnxruntime) never loads it

        self.precision = "bf16" if has_native_bf16() else "f32"
        core = openvino.Core()
        graph = core.read_model(str(model))
        self._sigmoid_here = image_output and _cut_final_sigmoid(graph)
        compiled = core.compile_model(
            graph,
            "CPU",
            {
                "INFERENCE_NUM_THREADS": threads,
                "PERFORMANCE_HINT": "LATENCY",
                "NUM_STREAMS": 1,
                "ENABLE_CPU_PINNING": False,
                "INFERENCE_PRECISION_HINT": self.precision,
            },
        )
        self._request = compiled.create_infer_request()
        self._image_output = image_output

    def __call__(self, tensor: np.ndarray) -> np.ndarray:
        height, width = tensor.shape[2:]
        pad_height = -height % SHAPE_STEP if self._image_output else 0
        padded = np.pad(tensor, ((0, 0), (0, 0), (0, pad_height), (0, -width % SHAPE_STEP)))
        self._request.infer([padded])
        out = self._request.get_output_tensor(0).data  # the request's own buffer: copied below
        if not self._image_output:
            return out.copy()
        out = out[:, :, :height, :width]
        return 1 / (1 + np.exp(-out)) if self._sigmoid_here else out.copy()


def _cut_final_sigmoid(graph) -> bool:
    """Whether the model's output was a Sigmoid, now cut off (its input is the output; the caller
    applies it). OpenVINO ran the detector's final Sigmoid in f32 over the padded map, 6 of its
    60 ms on a 768x448 input; numpy takes 0.3 ms over the map cut back to the input's size."""
    result = graph.get_results()[0]
    last = result.input_value(0).get_node()
    if last.get_type_name() != "Sigmoid":
        return False
    result.input(0).replace_source_output(last.input_value(0))
    graph.validate_nodes_and_infer_types()
    return True


def make_session(runtime: str, model: Path, threads: int, image_output: bool) -> ModelSession | None:
    """A session of ``runtime`` (resolved, not ``auto``) for ``model``; None for onnxruntime, whose
    sessions rapidocr makes itself. ``image_output``: the model maps an image of any size to one of
    the same size (the detector's probability map): its height and width are padded and the output
    cut back to them; else only the width is padded (the recognizer reads 48 px high lines, and
    padding adds CTC steps past the line's end over blank columns, as rapidocr's own padding does)."""
    if runtime == "openvino":
        return OpenVinoSession(model, threads, image_output)
    if runtime == "onnxruntime":
        return None
    raise ValueError(f"unknown OCR runtime {runtime!r}; use {', '.join(OCR_RUNTIMES)}")
