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


# One decode pass over a file that yields each scene, with its sampled frames' pixels, as soon
# as the scene closes: the decode pass's own class, whose docstring lists its options (one
# signature, not a second copy of its 14 keywords here).
iter_scenes = SceneReader
