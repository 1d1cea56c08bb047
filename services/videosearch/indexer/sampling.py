"""Which frames of a scene are embedded, chosen during the single decode pass.

A scene's K sample positions are the midpoints of K equal segments:
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
from typing import Any


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


class CandidateBuffer:
    """Candidate frames of one open scene (see the module doc). Items are opaque to the buffer:
    preprocessed pixels, or futures that will produce them."""

    def __init__(self, start: int, k: int, *, capacity: int, max_lag: int = 0) -> None:
        if capacity < 4 * k:
            raise ValueError(f"capacity must be at least 4 * frames per scene ({4 * k}), got {capacity}")
        self.start = start
        self.k = k
        self.capacity = capacity
        self.max_lag = max_lag
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
        lowest_position = self.start + shortest // (2 * self.k)
        # Keep the grid candidate just below the lowest position, so every position has a
        # candidate on each side within one stride.
        keep_from = bisect.bisect_left(self._frames, lowest_position - self.stride + 1)
        if keep_from:
            del self._frames[:keep_from]
            del self._items[:keep_from]

    def _coarsen(self) -> None:
        self.stride *= 2
        kept = [i for i, f in enumerate(self._frames) if (f - self.start) % self.stride == 0]
        self._frames = [self._frames[i] for i in kept]
        self._items = [self._items[i] for i in kept]

    def split(self, cut: int) -> CandidateBuffer:
        """Ends this scene at ``cut``: returns the next scene's buffer, holding the candidates
        at or after ``cut`` (present when the detector reported the cut late)."""
        at = bisect.bisect_left(self._frames, cut)
        following = CandidateBuffer(cut, self.k, capacity=self.capacity, max_lag=self.max_lag)
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
        for target in sample_positions(self.start, end, self.k):
            i = bisect.bisect_left(frames, target)
            if i == len(frames) or (i > 0 and target - frames[i - 1] <= frames[i] - target):
                i -= 1
            if not chosen or chosen[-1] != i:
                chosen.append(i)
        return [frames[i] for i in chosen], [self._items[i] for i in chosen]
