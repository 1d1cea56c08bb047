"""Frame positions and presentation times: frame rates and time bases are exact Fractions.

Two kinds of time, as in PySceneDetect: a ``Timecode`` is a frame number at a frame rate
(``frame / fps``, exact only for constant-frame-rate video); a ``PresentationTime`` is a
frame's presentation timestamp (``pts * time_base``), what the video's container says the
frame is shown at, right for variable frame rates too. Stored times are presentation times.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

NANOSECOND = Fraction(1, 1_000_000_000)
"""The time base of PresentationTimes made from OpenCV's float milliseconds: fine enough that
rounding to it never moves a time by more than half a nanosecond."""


def _hhmmss(millis: int) -> str:
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    seconds, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}"


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
        return _hhmmss(round(self.frame * 1000 / self.fps))


@dataclass(frozen=True, order=True)
class PresentationTime:
    """A presentation timestamp: ``pts`` units of ``time_base`` seconds (PySceneDetect's
    ``Timecode(pts, time_base)``). Compare times only in one time base."""

    pts: int
    time_base: Fraction = NANOSECOND

    @classmethod
    def from_seconds(cls, seconds: float | Fraction, time_base: Fraction = NANOSECOND) -> PresentationTime:
        return cls(round(Fraction(seconds) / time_base), time_base)

    @property
    def exact_seconds(self) -> Fraction:
        return self.pts * self.time_base

    @property
    def seconds(self) -> float:
        return float(self.exact_seconds)

    def __str__(self) -> str:
        """HH:MM:SS.mmm, rounded to the millisecond (half to even, as ``Timecode``)."""
        return _hhmmss(round(self.exact_seconds * 1000))


def _round_half_even(numerator: int, denominator: int) -> int:
    """``round(Fraction(numerator, denominator))`` (ties to even) in integers, for a positive
    denominator."""
    quotient, remainder = divmod(numerator, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


def format_seconds(seconds: float) -> str:
    """A stored time in seconds as HH:MM:SS.mmm; equal to ``str(Timecode(frame, fps))`` when
    ``seconds`` is ``frame / fps`` (constant frame rate). The same rounding as
    ``str(PresentationTime.from_seconds(seconds))`` (to the nanosecond, then to the millisecond,
    ties to even), in integer arithmetic: the Fraction route was the largest share of encoding a
    search's hits (four times a hit)."""
    numerator, denominator = seconds.as_integer_ratio()  # exact; a float's denominator is a power of 2
    nanoseconds = _round_half_even(numerator * 1_000_000_000, denominator)
    return _hhmmss(_round_half_even(nanoseconds, 1_000_000))


def fps_fraction(fps: float | Fraction, max_denominator: int = 1001) -> Fraction:
    """Turns a container's float frame rate (29.97002997) into the exact Fraction (30000/1001)."""
    if isinstance(fps, Fraction):
        return fps
    if fps <= 0:
        raise ValueError(f"frame rate must be positive, got {fps}")
    return Fraction(fps).limit_denominator(max_denominator)
