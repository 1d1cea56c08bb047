"""Frame positions as times: frame rates are exact Fractions, never floats."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, order=True)
class Timecode:
    """A frame number in a video of a known frame rate."""

    frame: int
    fps: Fraction

    @property
    def seconds(self) -> float:
        return float(self.frame / self.fps)

    def __str__(self) -> str:
        """HH:MM:SS.mmm, rounded to the millisecond."""
        millis = round(self.frame * 1000 / self.fps)
        hours, millis = divmod(millis, 3_600_000)
        minutes, millis = divmod(millis, 60_000)
        seconds, millis = divmod(millis, 1000)
        return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


def fps_fraction(fps: float | Fraction, max_denominator: int = 1001) -> Fraction:
    """Turns a container's float frame rate (29.97002997) into the exact Fraction (30000/1001)."""
    if isinstance(fps, Fraction):
        return fps
    if fps <= 0:
        raise ValueError(f"frame rate must be positive, got {fps}")
    return Fraction(fps).limit_denominator(max_denominator)
