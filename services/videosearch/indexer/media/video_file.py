"""Opening a video file: what it is (VideoInfo), how its pixels are shown (PixelAspect), and
the errors a file that cannot be indexed raises.

Both the facade ``videosearch.indexer.media.facade`` and the decode pass ``videosearch.indexer.media.scenes``
import this module, and it imports neither, so the indexer's modules form no import cycle.
Frame rates are exact Fractions; frame numbers count decoded frames from 0.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from fractions import Fraction

import cv2
import numpy as np

from videosearch.common.errors import InvalidArgument, NotFound, PermissionDenied, VideoSearchError
from videosearch.common.timecode import Timecode, fps_fraction
from videosearch.indexer.media.decode_modes import SKIP_FRAME, THINNED_MODES
from videosearch.indexer.media.gop_prefix import for_mode as gop_rule
from videosearch.indexer.media.keyframe_spacing import KEYFRAME_SPACING_SECONDS
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.media.pyav_capture import CannotDecode, PyAVCapture

ProgressCallback = Callable[[int, int], None]
"""Called as ``on_progress(done, total)``; ``done`` only grows."""

_CONVERT_HINT = "convert it to H.264 mp4 with ffmpeg (ffmpeg -i IN -c:v libx264 OUT.mp4) and index that"


class MediaError(VideoSearchError):
    """A video file that cannot be indexed. ``reason`` is machine-readable."""

    reason = "MEDIA_ERROR"


class UnreadableFileError(MediaError):
    """The file cannot be read at all (missing, not permitted). Raised as one of the subclasses."""

    reason = "UNREADABLE"


class FileMissingError(UnreadableFileError, NotFound):
    """The path does not exist."""


class FileNotReadableError(UnreadableFileError, PermissionDenied):
    """The file exists but this process may not read it."""


class NotAVideoError(MediaError, InvalidArgument):
    """The file is readable but OpenCV cannot decode a video from it."""

    reason = "NOT_A_VIDEO"


def _even(value: Fraction) -> int:
    """The nearest even integer, at least 2 (encoders and players want even frame sizes)."""
    return max(2, 2 * round(value / 2))


@dataclass(frozen=True)
class PixelAspect:
    """How decoded pixels are stretched to be shown as players show them.

    ``ratio`` is the stream's sample aspect ratio (a pixel's width over its height; 16/11
    for PAL widescreen stored as 704x576). It stretches the stored width, which is the
    decoded frame's height when OpenCV has rotated the frame by 90 or 270 degrees
    (``vertical``). Display sizes are rounded to even numbers; the other side is unchanged.
    """

    ratio: Fraction = Fraction(1)
    vertical: bool = False

    @property
    def square(self) -> bool:
        return self.ratio == 1

    def display_size(self, height: int, width: int) -> tuple[int, int]:
        """(display height, display width) of a decoded frame ``height`` x ``width``."""
        if self.square:
            return height, width
        if self.vertical:
            return _even(height * self.ratio), width
        return height, _even(width * self.ratio)


@dataclass(frozen=True)
class VideoInfo:
    """What the Indexer records about a video file.

    ``frame_count`` comes from the container while ``frame_count_exact`` is False (it can be
    off for some files); after a full decode pass it is the number of frames decoded.
    ``width`` and ``height`` are those of decoded frames, after OpenCV applied any rotation
    metadata (a phone video shot upright is taller than wide); ``display_width`` and
    ``display_height`` also apply the pixel aspect ratio (a 704x576 stream with 16:11 pixels
    shows as 1024x576). ``fps`` is the container's average rate: times come from the
    frames' presentation timestamps (videosearch.indexer.media.frame_times), not from it.
    """

    path: str
    fps: Fraction
    frame_count: int
    width: int
    height: int
    frame_count_exact: bool = False
    pixel_aspect: PixelAspect = field(default_factory=PixelAspect)

    @property
    def duration_seconds(self) -> float:
        """Frame count / average rate: known before decoding (for limits and progress); the
        stored duration is the decoded frames' (FrameTimes.duration_seconds)."""
        return float(self.frame_count / self.fps)

    @property
    def display_width(self) -> int:
        return self.pixel_aspect.display_size(self.height, self.width)[1]

    @property
    def display_height(self) -> int:
        return self.pixel_aspect.display_size(self.height, self.width)[0]

    def timecode(self, frame: int) -> Timecode:
        """Frame ``frame`` at the average rate (exact for constant-frame-rate video only)."""
        return Timecode(frame, self.fps)

    def with_decoded_count(self, frames_decoded: int) -> VideoInfo:
        return replace(self, frame_count=frames_decoded, frame_count_exact=True)


def check_readable(path: str | os.PathLike) -> str:
    """``path`` as a str if it names a readable regular file, else the matching MediaError."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileMissingError(f"{path} does not exist; check the path (it must be visible to the indexer)")
    if os.path.isdir(path):
        raise NotAVideoError(f"{path} is a directory, not a video file; index the video files inside it")
    if not os.access(path, os.R_OK):
        raise FileNotReadableError(f"{path} is not readable by the indexer's user; fix the file's permissions")
    return path


# Still images FFmpeg opens as one-frame "videos" (its image demuxers), told by their first bytes.
# A raw Motion-JPEG stream without a container starts like a JPEG and is refused too (remux it:
# ffmpeg -i in.mjpeg -c copy out.mkv).
_IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", "JPEG"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
)


def image_kind(path: str) -> str | None:
    """The still-image format ``path`` starts with (JPEG, PNG, WebP, ...), or None."""
    with open(path, "rb") as file:
        head = file.read(16)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    return next((kind for signature, kind in _IMAGE_SIGNATURES if head.startswith(signature)), None)


# FFmpeg's "tty" demuxer opens any text file as an ANSI-art video; those codecs are never real video.
_TEXT_CODECS = {"ansi", "bint", "xbin", "idf"}


def _fourcc(capture: cv2.VideoCapture) -> str:
    code = int(capture.get(cv2.CAP_PROP_FOURCC)) & 0xFFFFFFFF
    return "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\0 ").lower()


def _capture_api() -> int:
    # FFmpeg explicitly, so a file name containing '%' is never taken for an image sequence.
    return cv2.CAP_FFMPEG if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG) else cv2.CAP_ANY


def _aspect(num: float, den: float, vertical: bool) -> PixelAspect:
    # FFmpeg reports an unknown ratio as 0/1 (square pixels); distrust absurd ones the same way.
    if not (np.isfinite(num) and np.isfinite(den)) or num <= 0 or den <= 0:
        return PixelAspect()
    ratio = Fraction(int(num), int(den))
    if not Fraction(1, 10) <= ratio <= 10:
        return PixelAspect()
    return PixelAspect(ratio, vertical)


def _pixel_aspect(capture: cv2.VideoCapture) -> PixelAspect:
    rotation = capture.get(cv2.CAP_PROP_ORIENTATION_META)
    vertical = bool(np.isfinite(rotation)) and int(rotation) % 180 == 90
    return _aspect(capture.get(cv2.CAP_PROP_SAR_NUM), capture.get(cv2.CAP_PROP_SAR_DEN), vertical)


Shrink = Callable[[int, int], int]
"""Given decoded frames' (height, width), the integer factor they may come shrunk by."""


def open_video(
    path: str | os.PathLike,
    decoder: DecoderSettings | None = None,
    shrink: Shrink | None = None,
    side_streams=None,
) -> tuple[cv2.VideoCapture | PyAVCapture, VideoInfo, np.ndarray]:
    """Opens ``path`` and decodes its first frame: (capture positioned after frame 0, info, frame 0).

    ``decoder`` sets the library, decoder threads and hardware decoding (videosearch.indexer.media.decoding);
    the defaults open it as PySceneDetect does. ``shrink`` lets a PyAV decoder with ``shrink`` or
    ``lowres`` on deliver frames smaller than ``info``'s size by that factor (OpenCV ignores it).
    ``side_streams`` (videosearch.indexer.text.side_streams.SideStreams, PyAV only) gets the
    subtitle and audio packets demuxed in the same read; OpenCV's callers read them apart.

    The caller owns the capture and must release it. The capture's CAP_PROP_POS_MSEC still
    gives frame 0's presentation time until the next frame is grabbed.
    """
    path = check_readable(path)
    kind = image_kind(path)
    if kind is not None:
        raise NotAVideoError(
            f"{path} is a {kind} image, not a video; index video files (search by an image "
            "with the image query instead)"
        )
    decoder = decoder or DecoderSettings()
    if decoder.library == "pyav":
        return _open_pyav(path, decoder, shrink if decoder.shrink or decoder.lowres else None, side_streams)
    api = _capture_api()
    params = decoder.capture_params() if api == cv2.CAP_FFMPEG else []
    capture = cv2.VideoCapture(path, api, params)
    try:
        if not capture.isOpened():
            raise NotAVideoError(f"{path} is not a video OpenCV can decode (no demuxer accepts it); {_CONVERT_HINT}")
        if _fourcc(capture) in _TEXT_CODECS:
            raise NotAVideoError(
                f"{path} is not a video OpenCV can decode (it looks like a text file); {_CONVERT_HINT}"
            )
        # Decode frames the way players show them (PySceneDetect does the same); OpenCV 5's default.
        capture.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1.0)
        ok, first = capture.read()
        if not ok or first is None or first.size == 0:
            raise NotAVideoError(f"{path} is not a video OpenCV can decode (0 frames decoded); {_CONVERT_HINT}")
        raw_fps = capture.get(cv2.CAP_PROP_FPS)
        if not np.isfinite(raw_fps) or raw_fps <= 0:
            raise NotAVideoError(
                f"{path} is not a video OpenCV can decode (no frame rate in the container); {_CONVERT_HINT}"
            )
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        info = VideoInfo(
            path=path,
            fps=fps_fraction(raw_fps),
            frame_count=int(count) if np.isfinite(count) and count > 0 else 0,
            width=int(first.shape[1]),
            height=int(first.shape[0]),
            pixel_aspect=_pixel_aspect(capture),
        )
        return capture, info, first
    except BaseException:
        capture.release()
        raise


def _open_pyav(
    path: str, decoder: DecoderSettings, shrink: Shrink | None, side_streams=None
) -> tuple[PyAVCapture, VideoInfo, np.ndarray]:
    """open_video with PyAV: the same checks and the same VideoInfo as OpenCV's path."""
    try:
        capture = PyAVCapture(
            path,
            threads=decoder.threads,
            thread_type=decoder.thread_type,
            skip_loop_filter=decoder.skip_loop_filter,
            lowres=decoder.lowres,
            shrink=shrink,
            side_streams=side_streams,
            skip_frame=SKIP_FRAME[decoder.decode_mode],
            gop_prefix=gop_rule(decoder.decode_mode),
            keyframe_spacing=KEYFRAME_SPACING_SECONDS.get(decoder.decode_mode),
            frame_spacing=KEYFRAME_SPACING_SECONDS[decoder.decode_mode]
            if decoder.decode_mode in THINNED_MODES
            else None,
            nvdec=decoder.hw_acceleration != "none",
        )
    except CannotDecode as exc:
        raise NotAVideoError(f"{path} is not a video PyAV can decode ({exc}); {_CONVERT_HINT}") from None
    try:
        if capture.facts.codec in _TEXT_CODECS:
            raise NotAVideoError(f"{path} is not a video PyAV can decode (it looks like a text file); {_CONVERT_HINT}")
        try:
            first = capture.read_first()
        except CannotDecode as exc:
            raise NotAVideoError(f"{path} is not a video PyAV can decode ({exc}); {_CONVERT_HINT}") from None
        facts = capture.facts
        if not facts.fps or facts.fps <= 0:
            raise NotAVideoError(
                f"{path} is not a video PyAV can decode (no frame rate in the container); {_CONVERT_HINT}"
            )
        vertical = facts.rotation % 180 == 90
        sar = facts.sample_aspect or Fraction(0)
        info = VideoInfo(
            path=path,
            fps=fps_fraction(float(facts.fps)),
            frame_count=facts.frame_count,
            width=facts.height if vertical else facts.width,
            height=facts.width if vertical else facts.height,
            pixel_aspect=_aspect(sar.numerator, sar.denominator, vertical),
        )
        return capture, info, first
    except BaseException:
        capture.release()
        raise
