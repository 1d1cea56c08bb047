"""How the Indexer's decoder is opened: decoder threads and hardware decoding.

The decoder is OpenCV's FFmpeg backend, the one PySceneDetect reads frames with, so the frames
(and with them the cuts) are PySceneDetect's. That backend hands FFmpeg only two decoder
options: the thread count and hardware acceleration. Codec options such as skipping the
in-loop deblocking filter (``skip_loop_filter``) or decoding at reduced resolution (``lowres``)
never reach the codec through it (``OPENCV_FFMPEG_CAPTURE_OPTIONS`` goes to the demuxer only);
``python bench/index/run.py --decoders`` measures what they would buy through the ffmpeg binary
(docs/performance.md, "Decoding").

Neither setting changes a decoded pixel: FFmpeg's threaded decoding is bit-exact, and a
hardware decoder is only used where the machine has one (``any`` falls back to software).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2

from videosearch.common.errors import InvalidArgument

HW_ACCELERATION = {"none": cv2.VIDEO_ACCELERATION_NONE, "any": cv2.VIDEO_ACCELERATION_ANY}
DEFAULT_DECODER_THREADS = 0
"""0: OpenCV's own choice, one decoder thread per core (at most 16)."""
DEFAULT_HW_ACCELERATION = "none"


@dataclass(frozen=True)
class DecoderSettings:
    """``threads``: FFmpeg decoder threads (0: one per core); ``hw_acceleration``: ``none`` or
    ``any`` (a hardware decoder where FFmpeg finds one, else software)."""

    threads: int = DEFAULT_DECODER_THREADS
    hw_acceleration: str = DEFAULT_HW_ACCELERATION

    def __post_init__(self) -> None:
        if not 0 <= self.threads <= 16:
            raise InvalidArgument(f"decoder threads must be 0 (one per core) to 16, got {self.threads}")
        if self.hw_acceleration not in HW_ACCELERATION:
            raise InvalidArgument(
                f"unknown hardware acceleration {self.hw_acceleration!r}; use {' or '.join(HW_ACCELERATION)}")

    def capture_params(self) -> list[int]:
        """The open parameters of ``cv2.VideoCapture(path, cv2.CAP_FFMPEG, params)``."""
        params = []  # the defaults open the capture exactly as PySceneDetect does
        if self.hw_acceleration != "none":
            params += [cv2.CAP_PROP_HW_ACCELERATION, HW_ACCELERATION[self.hw_acceleration]]
        if self.threads:
            params += [cv2.CAP_PROP_N_THREADS, self.threads]
        return params


def hardware_decoding(capture: cv2.VideoCapture) -> bool:
    """Whether an open capture decodes in hardware."""
    return int(capture.get(cv2.CAP_PROP_HW_ACCELERATION)) not in (0, cv2.VIDEO_ACCELERATION_NONE)
