"""Writes demo videos through the ffmpeg binary that imageio-ffmpeg ships (a dependency
already, for clip export), so every demo video plays in a browser.

H.264 (x264; VP9 for a .webm name), 4:2:0 (``yuv420p``: what browsers decode; x264 would pick 4:4:4 for RGB
input), ``+faststart`` (the index at the front: a browser starts playing before the whole
file has arrived). ``codec="mpeg4"`` writes MPEG-4 Part 2, which browsers cannot play: the
web page's fallback test needs one. ffmpeg's own messages go to a buffer, shown only in the
error when it fails, never on the user's terminal (OpenCV's VideoWriter printed a warning
per file).
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import numpy as np

CODECS = {
    # x264: quality high enough that the per-frame noise and the cuts survive (the tests and
    # the quality bench measure detection on these files); veryfast keeps writing cheap.
    "h264": ["-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p", "-movflags", "+faststart"],
    "mpeg4": ["-c:v", "mpeg4", "-q:v", "3", "-pix_fmt", "yuv420p"],
    # For .webm files (WebM holds VP8/VP9/AV1 only); realtime settings keep it near x264's cost.
    "vp9": [
        "-c:v",
        "libvpx-vp9",
        "-deadline",
        "realtime",
        "-cpu-used",
        "8",
        "-crf",
        "20",
        "-b:v",
        "0",
        "-pix_fmt",
        "yuv420p",
    ],
}


def codec_for(path: Path) -> str:
    """The default codec of a file name: VP9 in .webm, H.264 otherwise."""
    return "vp9" if path.suffix.lower() == ".webm" else "h264"


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


class VideoEncoder:
    """RGB frames in, a video file out: ``with VideoEncoder(path, fps, (w, h)) as out: out.write(frame)``.
    Frames stream to ffmpeg's stdin, so memory stays at one frame whatever the length."""

    def __init__(
        self,
        path: str | Path,
        fps: Fraction,
        size: tuple[int, int],
        codec: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """``progress(frames_written)`` is called after every frame (a long video's progress line)."""
        codec = codec or codec_for(Path(path))
        if codec not in CODECS:
            raise ValueError(f"codec {codec!r}: give one of {', '.join(CODECS)}")
        width, height = size
        if width % 2 or height % 2:
            raise ValueError(f"size {width}x{height}: 4:2:0 video needs an even width and height")
        self.path = Path(path)
        self.size = size
        self.frames = 0
        self._progress = progress
        self._log = tempfile.TemporaryFile()
        fps = Fraction(fps)
        command = [
            ffmpeg_exe(),
            "-y",
            "-loglevel",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{width}x{height}",
            "-r",
            f"{fps.numerator}/{fps.denominator}",
            "-i",
            "-",
            *CODECS[codec],
            "-an",
            str(self.path),
        ]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=self._log)
        assert self._process.stdin is not None  # stdin=PIPE
        self._stdin = self._process.stdin

    def write(self, rgb: np.ndarray) -> None:
        if rgb.shape[:2] != (self.size[1], self.size[0]):
            raise ValueError(f"frame of {rgb.shape[1]}x{rgb.shape[0]} written to a {self.size[0]}x{self.size[1]} video")
        try:
            self._stdin.write(np.ascontiguousarray(rgb, dtype=np.uint8).tobytes())
        except BrokenPipeError:
            self.close()  # raises with ffmpeg's reason
        self.frames += 1
        if self._progress is not None:
            self._progress(self.frames)

    def close(self) -> None:
        if self._process.stdin and not self._process.stdin.closed:
            try:
                self._process.stdin.close()
            except BrokenPipeError:
                pass
        code = self._process.wait()
        self._log.seek(0)
        message = self._log.read().decode(errors="replace").strip()
        self._log.close()
        if code != 0:
            raise RuntimeError(f"ffmpeg could not write {self.path} (exit {code}): {message[-2000:]}")

    def __enter__(self) -> VideoEncoder:
        return self

    def __exit__(self, kind, *_) -> None:
        if kind is not None:  # the frames stopped coming: end ffmpeg, do not report its error over ours
            self._process.kill()
            self._process.wait()
            self._log.close()
            return
        self.close()
