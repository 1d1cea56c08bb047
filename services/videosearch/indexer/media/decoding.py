"""How the Indexer's decoder is opened: which library, decoder threads, hardware decoding, and
(PyAV only) codec options and frames shrunk in the colour conversion.

``library`` ``opencv`` is OpenCV's FFmpeg backend, the one PySceneDetect reads frames with, so the frames
(and with them the cuts) are PySceneDetect's. That backend hands FFmpeg only two decoder
options: the thread count and hardware acceleration. Codec options such as skipping the
in-loop deblocking filter (``skip_loop_filter``) or decoding at reduced resolution (``lowres``)
never reach the codec through it (``OPENCV_FFMPEG_CAPTURE_OPTIONS`` goes to the demuxer only);
``python bench/index/run.py --decoders`` measures what they would buy through the ffmpeg binary
(docs/performance.md, "Decoding").

Neither setting changes a decoded pixel: FFmpeg's threaded decoding is bit-exact, and a
hardware decoder is only used where the machine has one (``any`` falls back to software).

``hw_acceleration`` with PyAV is NVDEC (videosearch.indexer.media.nvdec): ``cuda`` requires a CUDA
device (the Indexer refuses to start without one), ``any`` uses it where one opens; a file NVDEC
cannot decode (its codec, profile, chroma format or size) is decoded in software either way.
``skip_loop_filter`` and ``lowres`` act inside FFmpeg's software decoders only (NVDEC decodes every
frame whole, deblocked), so with hardware decoding they would change the pixels, and with them the
cuts, of only the files that fall back: the two are refused together.

``library`` ``pyav`` is FFmpeg through PyAV (videosearch.indexer.media.pyav_capture): the same frames
(pixel-identical BGR on the shared videos), plus what OpenCV cannot pass: the thread type,
``skip_loop_filter`` (H.264's deblocking skipped: changes pixels, and cuts, see
docs/performance.md "Decoding"), ``lowres`` (decoding at 1/2..1/8 size, for the codecs that have
it) and ``shrink`` (each frame's 4:2:0 planes box-shrunk to the size the decode pass keeps
frames at, an integer fraction of the stored size, and only then converted to BGR, instead of
converting at full size and shrinking the BGR frame after).
``lowres`` and ``shrink`` act only where the caller allows a shrink factor (the decode pass:
frames that stay at least 1.5x CLIP's input, see FramePreprocessor.reduction_factor). With
OpenCV, the decode pass shrinks the full frames itself (the same integer box shrink, done on
BGR), so ``shrink`` changes nothing there.

The default is PyAV with ``shrink`` (see DEFAULT_LIBRARY); ``opencv`` stays an option, the
decoder PySceneDetect itself reads with.

``decode_mode`` (PyAV only) is the fast mode: every frame, reference frames only or keyframes
only (videosearch.indexer.media.decode_modes).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2

from videosearch.common.errors import InvalidArgument
from videosearch.indexer.media.decode_modes import DEFAULT_DECODE_MODE, check_decode_mode

OPENCV_HW_ACCELERATION = {"none": cv2.VIDEO_ACCELERATION_NONE, "any": cv2.VIDEO_ACCELERATION_ANY}
"""OpenCV's values: ``any`` is whatever hardware decoder its FFmpeg finds (VA-API, ...)."""
HW_ACCELERATIONS = ("none", "any", "cuda")
"""Every value; ``cuda`` is PyAV's only (NVDEC required), where ``any`` is NVDEC if a CUDA device opens."""
DEFAULT_DECODER_THREADS = 0
"""0: OpenCV's own choice, one decoder thread per core (at most 16)."""
DEFAULT_HW_ACCELERATION = "none"
LIBRARIES = ("opencv", "pyav")
DEFAULT_LIBRARY = "pyav"
"""Chosen by ``python bench/index/run.py --decoders`` (docs/performance.md, "Decoding"): with
``shrink``, PyAV's decode pass was faster than OpenCV's on testvideo.mp4 and the synthetic 720p
video, with PySceneDetect's cuts on every shared video and embeddings at cosine 0.9997."""
DEFAULT_SHRINK = True
THREAD_TYPES = ("auto", "frame", "slice")
DEFAULT_THREAD_TYPE = "auto"


@dataclass(frozen=True)
class DecoderSettings:
    """``library``: ``opencv`` or ``pyav``; ``threads``: FFmpeg decoder threads (0: one per core);
    ``hw_acceleration``: ``none``, ``any`` (OpenCV: a hardware decoder where FFmpeg finds one;
    PyAV: NVDEC where a CUDA device opens; else software) or ``cuda`` (PyAV: NVDEC required);
    the rest are PyAV's (see the module doc)."""

    threads: int = DEFAULT_DECODER_THREADS
    hw_acceleration: str = DEFAULT_HW_ACCELERATION
    library: str = DEFAULT_LIBRARY
    thread_type: str = DEFAULT_THREAD_TYPE
    skip_loop_filter: bool = False
    lowres: bool = False
    shrink: bool = DEFAULT_SHRINK
    decode_mode: str = DEFAULT_DECODE_MODE

    def __post_init__(self) -> None:
        check_decode_mode(self.decode_mode)
        if self.library not in LIBRARIES:
            raise InvalidArgument(f"unknown decoder library {self.library!r}; use {' or '.join(LIBRARIES)}")
        if self.thread_type not in THREAD_TYPES:
            raise InvalidArgument(f"unknown decoder thread type {self.thread_type!r}; use {', '.join(THREAD_TYPES)}")
        # ``shrink`` is not among them: OpenCV delivers full frames, which the decode pass shrinks
        # itself, so the setting changes nothing there.
        pyav_only = [name for name in ("skip_loop_filter", "lowres") if getattr(self, name)]
        if self.thread_type != DEFAULT_THREAD_TYPE:
            pyav_only.append("thread_type")
        if self.decode_mode != DEFAULT_DECODE_MODE:
            pyav_only.append("decode_mode")
        if self.library != "pyav" and pyav_only:
            raise InvalidArgument(
                f"decoder options {', '.join(pyav_only)} need the pyav decoder library "
                "(OpenCV cannot pass them to the codec); set the decoder library to pyav"
            )
        if not 0 <= self.threads <= 16:
            raise InvalidArgument(f"decoder threads must be 0 (one per core) to 16, got {self.threads}")
        if self.library == "opencv" and self.hw_acceleration == "cuda":
            raise InvalidArgument(
                "hardware acceleration cuda (NVDEC) needs the pyav decoder library; set the decoder library to "
                "pyav, or use any with opencv (whatever hardware decoder OpenCV's FFmpeg finds)"
            )
        if self.hw_acceleration not in HW_ACCELERATIONS:
            raise InvalidArgument(
                f"unknown hardware acceleration {self.hw_acceleration!r}; use none, any or cuda (pyav only)"
            )
        software_only = [name for name in ("skip_loop_filter", "lowres") if getattr(self, name)]
        if self.library == "pyav" and self.hw_acceleration != "none" and software_only:
            raise InvalidArgument(
                f"decoder options {', '.join(software_only)} act in FFmpeg's software decoder only: NVDEC "
                "decodes every frame whole, so they would change only the files that fall back to software "
                "(and move their cuts); turn them off, or set hardware acceleration none"
            )

    def capture_params(self) -> list[int]:
        """The open parameters of ``cv2.VideoCapture(path, cv2.CAP_FFMPEG, params)``."""
        params = []  # the defaults open the capture exactly as PySceneDetect does
        if self.hw_acceleration != "none":
            params += [cv2.CAP_PROP_HW_ACCELERATION, OPENCV_HW_ACCELERATION[self.hw_acceleration]]
        if self.threads:
            params += [cv2.CAP_PROP_N_THREADS, self.threads]
        return params

    def for_mode(self, mode: str) -> "DecoderSettings":
        """These settings in decode mode ``mode``; a mode other than ``all`` needs PyAV, so it
        switches an OpenCV setting to PyAV (software decoding: OpenCV's ``any`` was never checked
        for a CUDA device). PyAV's NVDEC stays: the codec skips frames before the hardware sees them."""
        if check_decode_mode(mode) == DEFAULT_DECODE_MODE or self.library == "pyav":
            return replace(self, decode_mode=mode)
        return replace(self, library="pyav", hw_acceleration="none", decode_mode=mode)


def hardware_decoding(capture) -> bool:
    """Whether an open capture (cv2.VideoCapture, or PyAVCapture once its first frame is read)
    decodes in hardware."""
    if not isinstance(capture, cv2.VideoCapture):
        return bool(capture.hardware)
    return int(capture.get(cv2.CAP_PROP_HW_ACCELERATION)) not in (0, cv2.VIDEO_ACCELERATION_NONE)
