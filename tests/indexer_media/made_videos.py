"""Videos the tests make themselves, with properties OpenCV's VideoWriter cannot write:
variable frame rate (dropped frames keeping their timestamps) and non-square pixels.

They are encoded by the ffmpeg binary that the PyPI package imageio-ffmpeg ships, fed raw
BGR frames on stdin, so every frame's content and presentation time is known exactly. H.264
with x264's medium preset, so with B-frames (decode order differs from presentation order),
as cameras and phones write it.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

# Flat BGR colors far apart in hue and brightness (ContentDetector's score between neighbours
# is 40 or more, threshold 27), so it cuts exactly between shots.
SHOT_COLORS = [(20, 20, 120), (60, 230, 60), (200, 60, 30), (30, 200, 230)]


def ffmpeg_exe() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


def encode(path: Path, frames: list[np.ndarray], *, rate: Fraction, filters: str | None = None, vfr: bool = False) -> Path:
    """Encodes BGR frames given at ``rate`` frames per second to H.264 mp4, through
    ``filters`` (an ffmpeg -vf graph); ``vfr`` keeps each frame's own timestamp."""
    height, width = frames[0].shape[:2]
    command = [ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24",
               "-s", f"{width}x{height}", "-r", f"{rate.numerator}/{rate.denominator}", "-i", "-"]
    if filters:
        command += ["-vf", filters]
    if vfr:
        command += ["-fps_mode", "vfr"]
    command += ["-c:v", "libx264", "-preset", "medium", "-crf", "18", "-pix_fmt", "yuv420p", str(path)]
    subprocess.run(command, input=b"".join(np.ascontiguousarray(f).tobytes() for f in frames), check=True, timeout=120)
    return path


def shot_frame(shot: int, i: int, width: int, height: int, fade: float = 0.0) -> np.ndarray:
    """Frame ``i`` of shot ``shot``: the shot's flat color (``fade`` of the way to the last
    color) with a small square moving across it."""
    frame = np.empty((height, width, 3), np.uint8)
    color = np.asarray(SHOT_COLORS[shot % len(SHOT_COLORS)], np.float64)
    frame[:] = np.round((1 - fade) * color + fade * np.asarray(SHOT_COLORS[-1], np.float64)).astype(np.uint8)
    x = (3 * i) % max(1, width - 12)
    frame[height // 2 - 6 : height // 2 + 6, x : x + 12] = 128
    return frame


@dataclass(frozen=True)
class VfrVideo:
    """A variable-frame-rate video: ``kept`` are the source frame numbers that were encoded,
    so decoded frame ``n`` is shown at ``kept[n] / rate`` seconds."""

    path: Path
    rate: Fraction
    kept: list[int]
    source_cuts: list[int]  # source frame numbers where a new shot starts

    def pts_seconds(self, decoded_frame: int) -> float:
        return float(self.kept[decoded_frame] / self.rate)

    @property
    def decoded_cuts(self) -> list[int]:
        return [self.kept.index(cut) for cut in self.source_cuts]

    @property
    def duration_seconds(self) -> float:
        return float((self.kept[-1] + 1) / self.rate)


def make_vfr_video(path: Path, *, shot_lengths=(60, 60, 60), rate: Fraction = Fraction(30),
                   size: tuple[int, int] = (160, 120), fading_shot: int | None = None) -> VfrVideo:
    """Hard cuts between shots of ``shot_lengths`` source frames; in the first shot every
    other frame of its middle half is dropped (as a phone drops frames under load) with the
    rest keeping their timestamps, so frame number / average frame rate is wrong from there on.
    Shot ``fading_shot`` fades slowly to another color (no cut: a change within one scene)."""
    width, height = size
    frames, source_cuts = [], []
    for shot, length in enumerate(shot_lengths):
        if shot:
            source_cuts.append(len(frames))
        fades = np.linspace(0, 1, length) if shot == fading_shot else np.zeros(length)
        frames += [shot_frame(shot, i, width, height, fade) for i, fade in enumerate(fades)]
    first = shot_lengths[0]
    dropped = {n for n in range(first // 4, 3 * first // 4) if n % 2 == 0}
    kept = [n for n in range(len(frames)) if n not in dropped]
    select = "select='not(" + "+".join(f"eq(n\\,{n})" for n in sorted(dropped)) + ")'"
    encode(path, frames, rate=rate, filters=select, vfr=True)
    return VfrVideo(path, rate, kept, source_cuts)


def make_anamorphic_video(path: Path, *, size: tuple[int, int] = (704, 576), sar: Fraction = Fraction(16, 11),
                          frames: int = 20, radius: int = 200, rotation: int = 0) -> Path:
    """``size`` stored pixels shown with pixel aspect ratio ``sar`` (704x576 at 16:11 shows as
    1024x576), holding a white disc on gray that is a circle of ``radius`` as displayed, so
    an ellipse of horizontal radius ``radius / sar`` in the stored pixels. ``rotation``
    (degrees) is written as display-matrix metadata, as phones record upright video."""
    width, height = size
    image = np.full((height, width, 3), 60, np.uint8)
    cv2.ellipse(image, (width // 2, height // 2), (round(radius / sar), radius), 0, 0, 360, (255, 255, 255), -1)
    stored = path.with_suffix(".stored.mp4") if rotation else path
    encode(stored, [image] * frames, rate=Fraction(25), filters=f"setsar={sar.numerator}/{sar.denominator}")
    if rotation:
        subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-display_rotation", str(rotation), "-i", str(stored),
                        "-c", "copy", str(path)], check=True, timeout=120)
    return path


def bright_extent(crop_rgb: np.ndarray, level: int = 160) -> tuple[int, int]:
    """(height, width) of the bright region's bounding box in a (3, H, W) uint8 crop."""
    mask = crop_rgb.mean(axis=0) > level
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)
