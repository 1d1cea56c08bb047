"""Which frames of a scene are embedded, chosen during the single decode pass.

How many: a :class:`SamplingPolicy` samples through time, one frame per ``seconds_per_sample``
(default 1 s) of the scene, at least ``min_samples`` (3) and at most ``max_samples`` (160) per
scene: K = clamp(round(L / step), min, max) for a scene of L frames and a step of
``seconds_per_sample * fps`` frames. A fixed K (the article's 3 per scene) is the policy with
min = max = K. A long take is thus sampled about every second, so every subject it shows is
embedded, not only the three at the quarter points.

Where: a scene's K sample positions are the midpoints of K equal segments:
``start + floor((2i + 1) * L / (2K))`` for ``L = end - start`` and i = 0..K-1. A scene shorter
than K frames gives each of its L frames once (no duplicates); at L = K the formula gives the
same thing.

The decode pass learns where a scene ends only when the next cut is detected, so it keeps
*candidates* of the open scene (uint8 crops; for large frames, the frame shrunk by a small
integer factor, resized and cropped only if it is sampled: at 720p a candidate is then
640x360, 0.7 MB, so a scene over ~460 frames holds at most about 265 MB) in a ``CandidateBuffer`` and picks
from them at the cut. Two facts keep the buffer small:

* positions only move forward as the scene grows, so a frame below the first position of the
  shortest scene still possible (``floor(L_min / 2K)``) can never be chosen and is dropped;
* when more than ``capacity`` candidates remain, the buffer doubles its stride and keeps only
  every other candidate (frames whose offset from the scene start is a multiple of the stride),
  and from then on only frames on that grid are preprocessed at all.

While the stride is 1 (scenes up to about ``capacity * 2K / (2K - 1)`` frames; 460 frames for
the default capacity of 384 and K = 3) every chosen frame is exactly the formula's. Beyond
that, each chosen frame is the grid candidate nearest its ideal position, at most
``stride // 2`` frames away; the stride stays below ``2 * L / capacity``, so the error is
under ``L / capacity`` frames (under 0.3% of the scene's length at the default capacity).
One rarer case is looser: when a detector reports a cut up to ``max_lag`` frames in the past
(ContentDetector's flash filter does after merging flashes) right after a long, strided scene,
the new scene's first ``max_lag`` frames carry the old grid, so a sample there can be up to
one old stride away.
"""

from __future__ import annotations

import bisect
import functools
import math
from fractions import Fraction
from dataclasses import dataclass
from typing import Any

DEFAULT_SECONDS_PER_SAMPLE = 1.0
DEFAULT_MIN_SAMPLES = 3
DEFAULT_MAX_SAMPLES = 160
MAX_SAMPLES_LIMIT = 1024


def candidates_needed(min_samples: int, max_samples: int) -> int:
    """The fewest candidate frames an open scene must keep for these samples per scene:
    4K keep K distinct picks for a fixed K; with K growing with the scene, 2 * max keeps
    the stride below the spacing of the positions."""
    return 4 * min_samples if min_samples == max_samples else max(4 * min_samples, 2 * max_samples)


def sample_offsets(length: int, k: int) -> list[int]:
    """Offsets from the scene start of the K sample frames of a scene ``length`` frames long."""
    if k < 1:
        raise ValueError(f"frames per scene must be at least 1, got {k}")
    if length <= k:
        return list(range(max(length, 0)))
    return [(2 * i + 1) * length // (2 * k) for i in range(k)]


def sample_positions(start: int, end: int, k: int) -> list[int]:
    """Frame numbers of the K sample frames of the scene [start, end)."""
    return [start + offset for offset in sample_offsets(end - start, k)]


@dataclass(frozen=True)
class SamplingPolicy:
    """How many frames of a scene are sampled: one per ``seconds_per_sample``, clamped to
    [min_samples, max_samples]. ``fixed(k)`` is the article's K frames per scene."""

    seconds_per_sample: float = DEFAULT_SECONDS_PER_SAMPLE
    min_samples: int = DEFAULT_MIN_SAMPLES
    max_samples: int = DEFAULT_MAX_SAMPLES

    @classmethod
    def fixed(cls, k: int) -> "SamplingPolicy":
        return cls(seconds_per_sample=0.0, min_samples=k, max_samples=k)

    def validate(self) -> "SamplingPolicy":
        """Raises ValueError with what to change (callers turn it into InvalidArgument)."""
        if not 1 <= self.min_samples <= self.max_samples <= MAX_SAMPLES_LIMIT:
            raise ValueError(
                f"samples per scene must satisfy 1 <= min ({self.min_samples}) <= max ({self.max_samples}) "
                f"<= {MAX_SAMPLES_LIMIT}; defaults are {DEFAULT_MIN_SAMPLES} and {DEFAULT_MAX_SAMPLES}"
            )
        if not (math.isfinite(self.seconds_per_sample) and 0 <= self.seconds_per_sample <= 3600):
            raise ValueError(
                f"seconds per sample must be between 0 and 3600 (0: always min samples), got {self.seconds_per_sample}; "
                f"default {DEFAULT_SECONDS_PER_SAMPLE}"
            )
        return self

    def in_frames(self, fps: float | Fraction) -> "FrameSampling":
        return FrameSampling(self.seconds_per_sample * float(fps), self.min_samples, self.max_samples)


@dataclass(frozen=True)
class FrameSampling:
    """A SamplingPolicy at one frame rate: ``step`` frames per sample (0: always ``min_samples``)."""

    step: float
    min_samples: int
    max_samples: int

    def count(self, length: int) -> int:
        """K for a scene ``length`` frames long."""
        wanted = math.floor(length / self.step + 0.5) if self.step > 0 else self.min_samples
        return min(max(wanted, self.min_samples), self.max_samples)

    def offsets(self, length: int) -> list[int]:
        return sample_offsets(length, self.count(length))

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - policies are few, frozen and live as long as the process
    def first_offset_floor(self, shortest: int) -> int:
        """The smallest first offset any scene of at least ``shortest`` frames can have.

        The first offset is L // (2K): it grows with L while K stays, and drops a little where
        K steps up (every ``step`` frames, until K reaches max_samples; later jumps drop it less
        and it only grows once K is at its maximum), so the minimum over all L >= shortest lies
        within one step of ``shortest``. Integer rounding of where K steps up can make a later
        step-up one frame lower still, so the answer looks two steps ahead and keeps one frame
        of margin (a candidate kept too many costs nothing; one dropped too early would).
        """
        horizon = shortest + 2 * (math.ceil(self.step) if self.step > 0 else 0) + 2
        lowest = min(self.offsets(length)[0] if length > 0 else 0 for length in range(shortest, horizon))
        return max(0, lowest - (1 if self.step > 0 else 0))


class CandidateBuffer:
    """Candidate frames of one open scene (see the module doc). Items are opaque to the buffer:
    preprocessed pixels, or futures that will produce them."""

    def __init__(
        self, start: int, k: "int | FrameSampling", *, capacity: int, max_lag: int = 0, sparse: bool = False
    ) -> None:
        sampling = k if isinstance(k, FrameSampling) else FrameSampling(0.0, k, k)
        needed = candidates_needed(sampling.min_samples, sampling.max_samples)
        if capacity < needed:
            raise ValueError(f"capacity must be at least {needed} for {sampling}, got {capacity}")
        self.start = start
        self.sampling = sampling
        self.capacity = capacity
        self.max_lag = max_lag
        # Frames come with gaps (a fast decode mode): the grid is then "at least ``stride``
        # frames after the last kept one", since decoded frames need not fall on multiples.
        self.sparse = sparse
        self.stride = 1
        self._frames: list[int] = []  # ascending
        self._items: list[Any] = []

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def frames(self) -> list[int]:
        return list(self._frames)

    def wants(self, frame: int) -> bool:
        """Whether ``frame`` (the next frame of this scene) should be preprocessed and added."""
        if self.sparse:
            return not self._frames or frame - self._frames[-1] >= self.stride
        return (frame - self.start) % self.stride == 0

    def add(self, frame: int, item: Any) -> None:
        """Adds the candidate for ``frame``; frames come in increasing order."""
        self._frames.append(frame)
        self._items.append(item)
        self._drop_unreachable(frame)
        if len(self._frames) > self.capacity:
            self._coarsen()

    def _drop_unreachable(self, newest: int) -> None:
        # The shortest this scene can still turn out: it ends at the earliest cut the detector
        # may report from the next frame on, that is (newest + 1 - max_lag).
        shortest = newest + 1 - self.max_lag - self.start
        if shortest <= 0:
            return
        lowest_position = self.start + self.sampling.first_offset_floor(shortest)
        # Keep the grid candidate just below the lowest position, so every position has a
        # candidate on each side within one stride. Frames with gaps (a fast decode mode): the
        # last candidate below it, however far below, so a scene that ends before the next
        # decoded frame still has one.
        if self.sparse:
            keep_from = max(0, bisect.bisect_left(self._frames, lowest_position) - 1)
        else:
            keep_from = bisect.bisect_left(self._frames, lowest_position - self.stride + 1)
        if keep_from:
            del self._frames[:keep_from]
            del self._items[:keep_from]

    def _coarsen(self) -> None:
        self.stride *= 2
        if self.sparse:
            kept = list(range(0, len(self._frames), 2))
        else:
            kept = [i for i, f in enumerate(self._frames) if (f - self.start) % self.stride == 0]
        self._frames = [self._frames[i] for i in kept]
        self._items = [self._items[i] for i in kept]

    def split(self, cut: int) -> CandidateBuffer:
        """Ends this scene at ``cut``: returns the next scene's buffer, holding the candidates
        at or after ``cut`` (present when the detector reported the cut late)."""
        at = bisect.bisect_left(self._frames, cut)
        following = CandidateBuffer(
            cut, self.sampling, capacity=self.capacity, max_lag=self.max_lag, sparse=self.sparse
        )
        following._frames, following._items = self._frames[at:], self._items[at:]
        del self._frames[at:], self._items[at:]
        return following

    def pick(self, end: int) -> tuple[list[int], list[Any]]:
        """(sample frames, their items) for the scene [start, end): for each ideal position the
        nearest candidate before ``end`` (the earlier one on a tie), without repeats."""
        last = bisect.bisect_left(self._frames, end)
        frames = self._frames[:last]
        if not frames:
            return [], []
        chosen: list[int] = []
        for target in (self.start + offset for offset in self.sampling.offsets(end - self.start)):
            i = bisect.bisect_left(frames, target)
            if i == len(frames) or (i > 0 and target - frames[i - 1] <= frames[i] - target):
                i -= 1
            if not chosen or chosen[-1] != i:
                chosen.append(i)
        return [frames[i] for i in chosen], [self._items[i] for i in chosen]
