"""Scene thumbnails: one small JPEG per scene, of its middle sampled frame.

For frames large enough that the decode pass keeps its candidates as shrunk copies (see
FramePreprocessor.candidate: 720p and up for a 224-px CLIP), the thumbnail is made from that
copy as the scene closes (``SampledScene.preview``), at no decoding cost, when the copy is still
at least MAX_SIDE on its long side (a model with tiny inputs shrinks candidates further). Smaller frames are kept only as CLIP
crops (a full copy of every candidate would cost up to 350 MB per open scene at 640x480), so
their thumbnails are made after the pass by reading just those frames again, in increasing
order: forward with grab() when the next one is near, by seeking otherwise (about one keyframe
interval of decoding per distant scene of a small video). Measured on the shared test videos
(bench/quality/thumbnail_cost.py, docs/performance.md): reading 1080p frames back cost up to a
quarter of the job; the previews made that nearly nothing.

A thumbnail shows the frame as players show it (non-square pixels stretched, rotation applied
as in the decode pass), with its long side at most ``MAX_SIDE`` pixels.
"""

from __future__ import annotations

import logging
import os

import cv2
import numpy as np

from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.media.pyav_capture import PyAVCapture
from videosearch.indexer.media.frame_times import FrameTimes
from videosearch.indexer.media.video_file import PixelAspect, open_video
from videosearch.searcher.types import Thumbnail

log = logging.getLogger(__name__)

MAX_SIDE = 320
JPEG_QUALITY = 80
# Read forward instead of seeking while the next frame is at most this far: a seek decodes from
# the previous keyframe anyway (x264's default interval is up to 250 frames).
READ_FORWARD_FRAMES = 120


def middle_sample(sample_frames: list[int]) -> int:
    """The frame a scene's thumbnail shows: its middle sampled frame."""
    return sample_frames[len(sample_frames) // 2]


def thumbnail_image(frame_bgr: np.ndarray, pixel_aspect: PixelAspect = PixelAspect()) -> np.ndarray:
    """The frame at its display aspect, shrunk so that the long side is at most MAX_SIDE."""
    display_h, display_w = pixel_aspect.display_size(*frame_bgr.shape[:2])
    scale = min(1.0, MAX_SIDE / max(display_h, display_w))
    size = (max(1, round(display_w * scale)), max(1, round(display_h * scale)))
    if size == (frame_bgr.shape[1], frame_bgr.shape[0]):
        return frame_bgr
    return cv2.resize(frame_bgr, size, interpolation=cv2.INTER_AREA)


def encode_jpeg(image_bgr: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".jpg", image_bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("OpenCV could not encode the thumbnail as JPEG")
    return encoded.tobytes()


def thumbnail_of(
    frame_bgr: np.ndarray, frame: int, seconds: float, pixel_aspect: PixelAspect = PixelAspect()
) -> Thumbnail:
    """The thumbnail of one decoded (or decoded and shrunk) frame."""
    image = thumbnail_image(frame_bgr, pixel_aspect)
    return Thumbnail(encode_jpeg(image), int(image.shape[1]), int(image.shape[0]), frame, seconds)


def read_back_thumbnails(path: str | os.PathLike, frames: list[int], times: FrameTimes) -> list[Thumbnail]:
    """One thumbnail per entry of ``frames`` (increasing frame numbers), read from the file again.
    Returns [] when a frame cannot be read back (the video is then indexed without thumbnails)."""
    # OpenCV, whatever the decode pass used: it seeks by frame number (CAP_PROP_POS_FRAMES), and
    # its frames are the PyAV decoder's pixel for pixel (tests/indexer_media/test_pyav_decoder.py).
    capture, info, first = open_video(path, DecoderSettings(library="opencv"))
    assert not isinstance(capture, PyAVCapture)  # asked for OpenCV's, which seeks by frame number
    try:
        position, current = 0, first  # ``current`` is frame ``position``
        out = []
        for target in frames:
            if target != position:
                if 0 < target - position <= READ_FORWARD_FRAMES:
                    for _ in range(target - position - 1):
                        capture.grab()
                else:
                    capture.set(cv2.CAP_PROP_POS_FRAMES, target)
                ok, read = capture.read()
                if not ok or read is None:
                    log.warning(
                        "cannot read frame %d of %s back for its thumbnail; storing no thumbnails", target, path
                    )
                    return []
                position, current = target, read
            out.append(thumbnail_of(current, target, times.seconds(target), info.pixel_aspect))
        return out
    finally:
        capture.release()
