"""Video files: what they are (probe), what their content hashes to, and the errors they raise.

This is the Indexer's facade over its media code: the pipeline calls ``sha256_file``,
``probe`` and ``iter_scenes`` from here and catches ``MediaError``. The types live in
videosearch.indexer.media.video_file, which scenes imports too (so nothing imports back here).
Frame rates are exact Fractions; frame numbers count decoded frames from 0; times are the
frames' presentation timestamps (videosearch.indexer.media.frame_times).
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable

from videosearch.embedder.types import Preprocessing
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.media.detectors import DetectorSettings
from videosearch.indexer.media.sampling import SamplingPolicy
from videosearch.indexer.media.scenes import SceneReader
from videosearch.indexer.media.video_file import (  # noqa: F401  (re-exported: the facade's names)
    FileMissingError,
    FileNotReadableError,
    MediaError,
    NotAVideoError,
    PixelAspect,
    ProgressCallback,
    UnreadableFileError,
    VideoInfo,
    check_readable,
    open_video,
)


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
    sampling: SamplingPolicy | None = None,
    detector: DetectorSettings | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    max_candidates: int | None = None,
    preprocess_workers: int | None = None,
    resize_backend: str | None = None,
    progress_every: int = 30,
    decoder: DecoderSettings | None = None,
    side_streams=None,
    keep_text_frames: bool = False,
) -> SceneReader:
    """One decode pass over ``path`` that yields each scene, with its sampled frames'
    pixels, as soon as the scene closes. See :class:`videosearch.indexer.media.scenes.SceneReader`
    (iteration, errors, progress, cancellation, ``video_info``) and
    :mod:`videosearch.indexer.media.sampling` (which frames are sampled).

    ``threshold`` and ``min_scene_len`` (frames) are ContentDetector's; ``detector`` picks
    another cut detector (see :mod:`videosearch.indexer.media.detectors`); ``sampling`` says how
    many frames per scene are sampled (default: one per second, 3 to 160, see
    :mod:`videosearch.indexer.media.sampling`); ``frames_per_scene`` is a fixed K instead; ``max_candidates`` bounds the frames buffered per open scene (default: what the sampling needs, at least 384);
    ``preprocess_workers`` threads preprocess frames (0: inline; default min(2, CPUs));
    ``resize_backend`` is "torch" (default when importable) or "pillow", see
    :mod:`videosearch.embedder.preprocessing`; ``on_progress`` is called every
    ``progress_every`` frames; ``decoder`` sets decoder threads and hardware decoding
    (:mod:`videosearch.indexer.media.decoding`); ``side_streams`` gets the subtitle and audio packets
    of the same read (PyAV decoder, see videosearch.indexer.text.side_streams);
    ``keep_text_frames`` keeps each sampled frame for on-screen text reading (SampledScene.text_frames).
    """
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
        max_candidates=max_candidates,
        preprocess_workers=preprocess_workers,
        resize_backend=resize_backend,
        progress_every=progress_every,
        decoder=decoder,
        side_streams=side_streams,
        keep_text_frames=keep_text_frames,
    )
