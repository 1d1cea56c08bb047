"""Video files: what they are (probe), what their content hashes to, and the errors they raise.

This is the Indexer's facade over its media code: the pipeline calls ``sha256_file``,
``probe`` and ``iter_scenes`` from here and catches ``MediaError``. Frame rates are exact
Fractions; frame numbers count decoded frames from 0.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import TYPE_CHECKING

import cv2
import numpy as np

from videosearch.common.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    VideoSearchError,
)
from videosearch.common.timecode import Timecode, fps_fraction

if TYPE_CHECKING:  # scenes imports this module; import it lazily at run time
    from videosearch.embedder.types import Preprocessing
    from videosearch.indexer.detectors import DetectorSettings
    from videosearch.indexer.sampling import SamplingPolicy
    from videosearch.indexer.scenes import SceneReader

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


@dataclass(frozen=True)
class VideoInfo:
    """What the Indexer records about a video file.

    ``frame_count`` comes from the container while ``frame_count_exact`` is False (it can be
    off for some files); after a full decode pass it is the number of frames decoded.
    ``width`` and ``height`` are those of decoded frames, after OpenCV applied any rotation
    metadata (a phone video shot upright is taller than wide).
    """

    path: str
    fps: Fraction
    frame_count: int
    width: int
    height: int
    frame_count_exact: bool = False

    @property
    def duration_seconds(self) -> float:
        return float(self.frame_count / self.fps)

    def timecode(self, frame: int) -> Timecode:
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


# FFmpeg's "tty" demuxer opens any text file as an ANSI-art video; those codecs are never real video.
_TEXT_CODECS = {"ansi", "bint", "xbin", "idf"}


def _fourcc(capture: cv2.VideoCapture) -> str:
    code = int(capture.get(cv2.CAP_PROP_FOURCC)) & 0xFFFFFFFF
    return "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4)).strip("\0 ").lower()


def _capture_api() -> int:
    # FFmpeg explicitly, so a file name containing '%' is never taken for an image sequence.
    return cv2.CAP_FFMPEG if cv2.videoio_registry.hasBackend(cv2.CAP_FFMPEG) else cv2.CAP_ANY


def open_video(path: str | os.PathLike) -> tuple[cv2.VideoCapture, VideoInfo, np.ndarray]:
    """Opens ``path`` and decodes its first frame: (capture positioned after frame 0, info, frame 0).

    The caller owns the capture and must release it.
    """
    path = check_readable(path)
    capture = cv2.VideoCapture(path, _capture_api())
    try:
        if not capture.isOpened():
            raise NotAVideoError(f"{path} is not a video OpenCV can decode (no demuxer accepts it); {_CONVERT_HINT}")
        if _fourcc(capture) in _TEXT_CODECS:
            raise NotAVideoError(f"{path} is not a video OpenCV can decode (it looks like a text file); {_CONVERT_HINT}")
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
        )
        return capture, info, first
    except BaseException:
        capture.release()
        raise


def probe(path: str | os.PathLike) -> VideoInfo:
    """Frame rate, size and the container's frame count, checked by decoding the first frame."""
    capture, info, _ = open_video(path)
    capture.release()
    return info


def sha256_file(
    path: str | os.PathLike, *, chunk_size: int = 4 << 20, on_progress: ProgressCallback | None = None
) -> str:
    """Hex SHA-256 of the file's bytes (a video's id is its first 16 hex digits).

    ``on_progress(bytes_read, file_size)`` is called after each chunk.
    """
    path = check_readable(path)
    digest = hashlib.sha256()
    total = os.path.getsize(path)
    done = 0
    try:
        with open(path, "rb", buffering=0) as file:
            buffer = bytearray(chunk_size)
            view = memoryview(buffer)
            while read := file.readinto(buffer):
                digest.update(view[:read])
                done += read
                if on_progress is not None:
                    on_progress(done, max(total, done))
    except PermissionError as exc:
        raise FileNotReadableError(f"{path} is not readable by the indexer's user; fix the file's permissions") from exc
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise FileMissingError(f"{path} disappeared while it was being read; check the path") from exc
        raise FileNotReadableError(f"{path} could not be read ({exc.strerror}); check the disk and the file") from exc
    return digest.hexdigest()


def iter_scenes(
    path: str | os.PathLike,
    *,
    preprocessing: Preprocessing,
    threshold: float = 27.0,
    min_scene_len: int = 15,
    frames_per_scene: int | None = None,
    sampling: "SamplingPolicy | None" = None,
    detector: "DetectorSettings | None" = None,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    max_candidates: int | None = None,
    preprocess_workers: int | None = None,
    resize_backend: str | None = None,
    progress_every: int = 30,
) -> SceneReader:
    """One decode pass over ``path`` that yields each scene, with its sampled frames'
    pixels, as soon as the scene closes. See :class:`videosearch.indexer.scenes.SceneReader`
    (iteration, errors, progress, cancellation, ``video_info``) and
    :mod:`videosearch.indexer.sampling` (which frames are sampled).

    ``threshold`` and ``min_scene_len`` (frames) are ContentDetector's; ``detector`` picks
    another cut detector (see :mod:`videosearch.indexer.detectors`); ``sampling`` says how
    many frames per scene are sampled (default: one per second, 3 to 160, see
    :mod:`videosearch.indexer.sampling`); ``frames_per_scene`` is a fixed K instead; ``max_candidates`` bounds the frames buffered per open scene;
    ``preprocess_workers`` threads preprocess frames (0: inline; default min(2, CPUs));
    ``resize_backend`` is "torch" (default when importable) or "pillow", see
    :mod:`videosearch.indexer.preprocess`; ``on_progress`` is called every
    ``progress_every`` frames.
    """
    from videosearch.indexer.scenes import DEFAULT_MAX_CANDIDATES, SceneReader

    return SceneReader(
        path,
        preprocessing=preprocessing,
        threshold=threshold,
        min_scene_len=min_scene_len,
        frames_per_scene=frames_per_scene,
        sampling=sampling,
        detector=detector,
        on_progress=on_progress,
        should_stop=should_stop,
        max_candidates=DEFAULT_MAX_CANDIDATES if max_candidates is None else max_candidates,
        preprocess_workers=preprocess_workers,
        resize_backend=resize_backend,
        progress_every=progress_every,
    )
