"""Moments: a long scene split where its sampled frames' embeddings change.

A hard-cut scene shows one thing; a long take (a phone recording, a dissolve the cut
detector does not see) shows one thing after another. Each scene longer than
``min_scene_seconds`` is split into *moments*, each with its own embedding (the normalized
mean of its frames') and time range, so a search can point at the 4 seconds that match
instead of a 46-second take.

Method: optimal partitioning with a penalty (kernel change-point detection with the linear
kernel, as in Harchaoui & Cappé 2007 / ``ruptures``' ``KernelCPD(kernel="linear")`` with
``pen``): over the scene's K unit-norm frame embeddings x_0..x_{K-1}, choose segment
boundaries minimizing

    sum over segments S of  sum_{i in S} ||x_i - mean(S)||^2   +   penalty * (number of segments)

solved exactly by dynamic programming in O(K^2) from prefix sums (K <= a few hundred). A
segment's cost is |S| - ||sum(S)||^2 / |S|, so splitting two subjects of m frames each whose
mean embeddings have cosine c saves about m * (1 - c): the penalty is the smallest such
saving worth a new moment. Segments shorter than ``min_samples`` are not allowed (a single
frame caught mid-dissolve is not a moment), and neighbours whose mean embeddings are still
more similar than ``merge_cosine`` are merged afterwards, so steady footage with noise or
camera shake stays one moment.

A moment's time range runs from halfway between the previous moment's last sample and its
own first sample, to halfway between its last sample and the next moment's first; the first
starts at the scene start and the last ends at the scene end.

Last, neighbouring moments on either side of a cut are joined when their embeddings still
have cosine >= ``join_cosine`` (0.85) and the shorter of the two lasts under
``join_max_seconds`` (3 s): the cut detector also cuts where nothing changed (a camera
flash, a brief glitch), and without the join such a cut leaves a fragment of a second or
two holding the subject alone, which then outranks the rest of the subject's moment and
reports a fraction of its time. Two similar shots that both last (shot and reverse shot of
a dialogue with real CLIP can have cosine near 0.85) stay apart. A joined moment belongs to the scene it starts
in and may run on into the next; moments tile the video, scenes stay exactly as detected.
Measured on the demo corpora (docs/moments-notes.md): long-take queries whose best hit has
IoU >= 0.5 went from 0.875-0.94 to 1.00 with the join, hard-cut videos unchanged or better.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

DEFAULT_MIN_SCENE_SECONDS = 6.0
DEFAULT_PENALTY = 0.3
DEFAULT_MIN_SAMPLES = 2
DEFAULT_MERGE_COSINE = 0.9
DEFAULT_JOIN_COSINE = 0.85
DEFAULT_JOIN_MAX_SECONDS = 3.0


@dataclass(frozen=True)
class MomentSettings:
    """When and how finely scenes are split (see the module doc)."""

    min_scene_seconds: float = DEFAULT_MIN_SCENE_SECONDS
    penalty: float = DEFAULT_PENALTY
    min_samples: int = DEFAULT_MIN_SAMPLES
    merge_cosine: float = DEFAULT_MERGE_COSINE
    join_cosine: float = DEFAULT_JOIN_COSINE
    join_max_seconds: float = DEFAULT_JOIN_MAX_SECONDS

    def validate(self) -> "MomentSettings":
        """Raises ValueError saying what to change (callers map it to InvalidArgument)."""
        if not 0 <= self.min_scene_seconds <= 1e9:
            raise ValueError(
                f"moment min scene seconds must be 0..1e9 (default {DEFAULT_MIN_SCENE_SECONDS}; "
                f"a value longer than any video, such as 1e9, turns splitting off), got {self.min_scene_seconds}"
            )
        if not 0 < self.penalty <= 1000:
            raise ValueError(f"moment penalty must be in (0, 1000] (default {DEFAULT_PENALTY}), got {self.penalty}")
        if not 1 <= self.min_samples <= 1000:
            raise ValueError(
                f"moment min samples must be 1..1000 (default {DEFAULT_MIN_SAMPLES}), got {self.min_samples}"
            )
        if not -1 <= self.merge_cosine <= 1:
            raise ValueError(
                f"moment merge cosine must be in [-1, 1] (default {DEFAULT_MERGE_COSINE}), got {self.merge_cosine}"
            )
        if not -1 <= self.join_cosine <= 1.01:
            raise ValueError(
                f"moment join cosine must be in [-1, 1.01] (default {DEFAULT_JOIN_COSINE}; above 1 never "
                f"joins across a cut), got {self.join_cosine}"
            )
        if not 0 <= self.join_max_seconds <= 1e9:
            raise ValueError(
                f"moment join max seconds must be 0..1e9 (default {DEFAULT_JOIN_MAX_SECONDS}), "
                f"got {self.join_max_seconds}"
            )
        return self


@dataclass(frozen=True)
class Moment:
    """Frames [start_frame, end_frame) of a scene, made of sampled rows [first_sample, end_sample)."""

    start_frame: int
    end_frame: int
    first_sample: int
    end_sample: int
    embedding: np.ndarray

    @property
    def sample_count(self) -> int:
        return self.end_sample - self.first_sample


@dataclass(frozen=True)
class VideoMoment:
    """A moment placed in its video: it starts in scene ``scene_index`` and holds the
    embeddings of its sampled frames (its own embedding is their normalized mean)."""

    scene_index: int
    start_frame: int
    end_frame: int
    frame_embeddings: np.ndarray

    @property
    def embedding(self) -> np.ndarray:
        return unit_mean(self.frame_embeddings)


def join_across_cuts(
    moments: list[VideoMoment],
    join_cosine: float,
    max_frames: float = float("inf"),
    *,
    max_seconds: float = float("inf"),
    seconds: Callable[[int], float | Fraction] | None = None,
) -> list[VideoMoment]:
    """Joins each moment to the previous one, across a cut, while their embeddings have
    cosine >= ``join_cosine`` and the shorter of the two is under ``max_frames`` long, or,
    given ``seconds`` (a frame's presentation time), lasts under ``max_seconds`` (see the module
    doc). Within a scene moments are already apart on purpose."""

    def short(moment: VideoMoment) -> bool:
        if seconds is not None:
            return seconds(moment.end_frame) - seconds(moment.start_frame) < max_seconds
        return moment.end_frame - moment.start_frame < max_frames

    joined: list[VideoMoment] = []
    for moment in moments:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and previous.scene_index != moment.scene_index
            and (short(previous) or short(moment))
            and float(previous.embedding @ moment.embedding) >= join_cosine
        ):
            joined[-1] = VideoMoment(
                previous.scene_index,
                previous.start_frame,
                moment.end_frame,
                np.concatenate([previous.frame_embeddings, moment.frame_embeddings]),
            )
        else:
            joined.append(moment)
    return joined


def unit_mean(vectors: np.ndarray) -> np.ndarray:
    """The normalized mean of unit vectors (a scene's or a moment's embedding)."""
    mean = vectors.astype(np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    if norm == 0.0 or not np.isfinite(norm):
        raise ValueError("frame embeddings cancel out or are not finite; the Embedder returned bad vectors")
    return mean / norm


def change_points(x: np.ndarray, penalty: float, min_samples: int) -> list[int]:
    """Segment ends (exclusive, the last is len(x)) of the optimal penalized partition of
    the rows of ``x`` (unit vectors) into segments of at least ``min_samples`` rows."""
    n = x.shape[0]
    if n < 2 * min_samples:
        return [n]
    prefix = np.zeros((n + 1, x.shape[1]), np.float64)
    np.cumsum(x.astype(np.float64), axis=0, out=prefix[1:])
    best = np.full(n + 1, np.inf)
    best[0] = -penalty  # the first segment pays no penalty: only splits do
    previous = np.zeros(n + 1, np.int64)
    for end in range(min_samples, n + 1):
        starts = np.arange(0, end - min_samples + 1)
        starts = starts[np.isfinite(best[starts])]
        lengths = end - starts
        sums = prefix[end] - prefix[starts]
        cost = best[starts] + lengths - np.einsum("ij,ij->i", sums, sums) / lengths + penalty
        pick = int(np.argmin(cost))
        best[end], previous[end] = cost[pick], starts[pick]
    ends, end = [], n
    while end > 0:
        ends.append(end)
        end = int(previous[end])
    return ends[::-1]


def split_scene(
    frame_embeddings: np.ndarray,
    sample_frames: list[int],
    start_frame: int,
    end_frame: int,
    fps: float,
    settings: MomentSettings = MomentSettings(),
    *,
    seconds: float | None = None,
) -> list[Moment]:
    """The moments of one scene [start_frame, end_frame), given its sampled frames (ascending)
    and their unit embeddings (one row each). A scene shorter than ``min_scene_seconds`` is one
    moment, as are scenes with too few samples to split. ``seconds`` is the scene's length
    from its frames' presentation times (on variable-frame-rate video frames / ``fps`` is
    only an estimate, used when it is not given)."""
    x = np.asarray(frame_embeddings, dtype=np.float32)
    if x.shape[0] != len(sample_frames) or x.shape[0] == 0:
        raise ValueError(
            f"{x.shape[0]} embeddings for {len(sample_frames)} sampled frames; need one per frame, at least one"
        )
    if (seconds if seconds is not None else (end_frame - start_frame) / fps) < settings.min_scene_seconds:
        ends = [x.shape[0]]
    else:
        ends = _merge_similar(x, change_points(x, settings.penalty, settings.min_samples), settings.merge_cosine)
    moments, first = [], 0
    for i, end in enumerate(ends):
        lo = start_frame if i == 0 else (sample_frames[first - 1] + sample_frames[first] + 1) // 2
        hi = end_frame if end == x.shape[0] else (sample_frames[end - 1] + sample_frames[end] + 1) // 2
        moments.append(Moment(lo, hi, first, end, unit_mean(x[first:end])))
        first = end
    return moments


def _merge_similar(x: np.ndarray, ends: list[int], merge_cosine: float) -> list[int]:
    """Merges the most similar neighbouring segments while their means' cosine exceeds
    ``merge_cosine``: the penalty alone would split steady footage with enough samples."""
    ends = list(ends)
    while len(ends) > 1:
        starts = [0, *ends[:-1]]
        means = np.stack([unit_mean(x[a:b]) for a, b in zip(starts, ends)])
        similarity = np.einsum("ij,ij->i", means[:-1], means[1:])
        i = int(np.argmax(similarity))
        if similarity[i] < merge_cosine:
            break
        del ends[i]
    return ends
