"""Clip export and players: cut a scene or moment out of the original file, frame-accurately,
and the command line that opens a file at a hit in a common player.

Export runs the ffmpeg binary that the ``imageio-ffmpeg`` PyPI package ships (a pinned
dependency already: no system ffmpeg, no compiler, the same build on every machine; PyAV
would need FFmpeg's shared libraries or a large wheel for the same job). The clip is
**re-encoded** (H.264, CRF 18): a stream copy can only start at a keyframe, so it would begin
up to a whole GOP (often several seconds) before the scene or show broken frames until the next
keyframe. With the seek point given before the input, ffmpeg decodes from the keyframe before
it and drops every frame before the seek point, so re-encoding gives exactly the scene's frames.
The seek point sits half a frame before the first frame's presentation time, so rounding never
takes in the previous frame or drops the first; the clip then ends after exactly the scene's
number of frames (``-frames:v``: ffmpeg's ``-t`` alone measured one frame short, since it cuts a
last frame whose display would run past the duration), with audio cut one frame after the
scene's end time.
"""

from __future__ import annotations

import shlex
import subprocess
from fractions import Fraction
from pathlib import Path

from videosearch_cli.indexing import CliError

PLAYERS = {
    "mpv": lambda path, start: ["mpv", f"--start={start:.3f}", path],
    "vlc": lambda path, start: ["vlc", f"--start-time={start:.3f}", path],
    "ffplay": lambda path, start: ["ffplay", "-ss", f"{start:.3f}", path],
}


def player_command(player: str, path: str, start_seconds: float) -> str:
    """The shell command that opens ``path`` at ``start_seconds`` in ``player``."""
    return shlex.join(PLAYERS[player](path, max(start_seconds, 0.0)))


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def export_command(
    source: str, start_seconds: float, end_seconds: float, frames: int, fps: Fraction, out: Path
) -> list[str]:
    frame = 1.0 / float(fps) if fps else 0.0
    return [
        ffmpeg_exe(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-y",
        "-ss",
        f"{max(start_seconds - frame / 2, 0.0):.6f}",
        "-i",
        source,
        "-frames:v",
        str(frames),
        "-t",
        f"{max(end_seconds - start_seconds, 0.0) + frame:.6f}",
        "-map",
        "0:v:0",
        "-map",
        "0:a?",
        "-fps_mode",
        "passthrough",  # each source frame once: no frames duplicated or dropped to a nominal rate
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "18",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-movflags",
        "+faststart",
        str(out),
    ]


def export_clip(
    source: str, start_seconds: float, end_seconds: float, frames: int, fps: Fraction, out: str | Path
) -> Path:
    """Writes the ``frames`` frames from ``start_seconds`` (up to ``end_seconds``) of ``source`` to
    ``out`` (MP4); raises CliError saying what went wrong."""
    out = Path(out)
    if not Path(source).is_file():
        raise CliError(
            f"the original file {source} is not on this machine (or was moved); "
            "export runs where the videos are, or re-index the file at its new path"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    command = export_command(source, start_seconds, end_seconds, frames, fps, out)
    finished = subprocess.run(command, capture_output=True, text=True)
    if finished.returncode != 0:
        raise CliError(f"ffmpeg could not cut {source}: {finished.stderr.strip()[-500:]}")
    return out
