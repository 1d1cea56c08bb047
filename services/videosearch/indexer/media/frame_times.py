"""When each decoded frame is shown: presentation timestamps, not frame number / frame rate.

OpenCV's FFmpeg backend gives the frame just grabbed's presentation timestamp (relative to
the stream's start) as ``CAP_PROP_POS_MSEC``. On constant-frame-rate video it equals
``frame / fps``; on variable-frame-rate video (phones, screen recordings, streams with
dropped frames) the two drift apart, and only the timestamp says when a frame is shown.

A frame's time is its timestamp. A span of frames [start, end) runs from frame ``start``'s
time to frame ``end``'s, so a scene ends where the next one starts; the video ends at the
last frame's time plus its duration, taken as the interval before it (there is no later
frame to measure against; OpenCV does not report the container's last duration).
"""

from __future__ import annotations

import math
from array import array
from fractions import Fraction

from videosearch.common.timecode import NANOSECOND, PresentationTime


class FrameTimes:
    """Presentation times of a video's decoded frames, appended in decode order.

    A timestamp that is missing (not finite, or 0 after the first frame: how OpenCV reports
    a stream without timestamps) or that does not move forward (a broken stream) is replaced
    by the previous frame's time plus one nominal frame (``1 / fps``), as PySceneDetect falls
    back to frame numbers, so times always increase. Times are relative to the stream's start,
    as OpenCV reports them; should the first frame's be negative (an edit list starting
    before it), every time is shifted so that the first frame is at 0.
    """

    def __init__(self, fps: Fraction) -> None:
        if not fps > 0:
            raise ValueError(f"frame rate must be positive, got {fps}")
        self._nominal = round(1 / (Fraction(fps) * NANOSECOND))  # one frame, in nanoseconds
        self._ns = array("q")
        self._shift = 0  # added to every timestamp: minus a negative first timestamp
        self.estimated = 0  # how many timestamps were missing or went backwards

    def __len__(self) -> int:
        return len(self._ns)

    def append(self, msec: float) -> None:
        """Adds the next decoded frame's CAP_PROP_POS_MSEC."""
        ns = round(msec * 1_000_000) + self._shift if math.isfinite(msec) else None
        if not self._ns:
            if ns is None:
                ns, self.estimated = 0, self.estimated + 1
            elif ns < 0:
                self._shift, ns = -ns, 0
        elif ns is None or ns <= self._ns[-1]:
            ns, self.estimated = self._ns[-1] + self._nominal, self.estimated + 1
        self._ns.append(ns)

    def append_at(self, frame: int, msec: float) -> None:
        """Adds decoded frame number ``frame`` (after the last one added) and its
        CAP_PROP_POS_MSEC, the frames skipped between (the fast decode modes decode only some)
        placed evenly between their decoded neighbours: only decoded frames' times are
        timestamps, and only decoded frames become cuts and samples."""
        self.append(msec)
        added = self._ns.pop()
        missing = frame - len(self._ns)
        if missing > 0 and self._ns:
            before = self._ns[-1]
            step = (added - before) / (missing + 1)
            self._ns.extend(before + max(1, round(step * (i + 1))) for i in range(missing))
            added = max(added, self._ns[-1] + 1)
        elif missing > 0:  # frames before the first decoded one: one nominal frame each
            self._ns.extend(i * self._nominal for i in range(missing))
            added = max(added, self._ns[-1] + 1)
        self._ns.append(added)

    def extend_to(self, frames: int) -> None:
        """Places frames up to ``frames`` after the last one, one nominal frame apart: the
        frames a fast decode mode skipped after its last decoded one, so the video still ends
        where the container says (nothing happens when ``frames`` were decoded already)."""
        while len(self._ns) < frames:
            self._ns.append(self._ns[-1] + self._nominal if self._ns else 0)

    def nominal_frame(self, msec: float, first_msec: float) -> int:
        """The frame number a frame shown at ``msec`` has at the nominal rate, counted from the
        first frame (at ``first_msec``): how the fast decode modes number decoded frames."""
        if not (math.isfinite(msec) and math.isfinite(first_msec)):
            return len(self._ns)
        return max(len(self._ns), round((msec - first_msec) * 1_000_000 / self._nominal))

    def _last_duration(self) -> int:
        return self._ns[-1] - self._ns[-2] if len(self._ns) >= 2 else self._nominal

    def time(self, frame: int) -> PresentationTime:
        """When frame ``frame`` is shown; ``len(self)`` is the end of the last frame."""
        if 0 <= frame < len(self._ns):
            return PresentationTime(self._ns[frame])
        if frame == len(self._ns) and self._ns:
            return PresentationTime(self._ns[-1] + self._last_duration())
        raise IndexError(f"frame {frame} is outside the {len(self._ns)} frames decoded so far")

    def seconds(self, frame: int) -> float:
        return self.time(frame).seconds

    def exact_seconds(self, frame: int) -> Fraction:
        """``seconds`` as a Fraction: differences of these are exact lengths (a moment of 90
        frames at 30 fps lasts 3 s, not 2.9999999999999996 s)."""
        return self.time(frame).exact_seconds

    @property
    def duration_seconds(self) -> float:
        """From the stream's start to the end of the last frame decoded."""
        return self.seconds(len(self._ns)) if self._ns else 0.0
