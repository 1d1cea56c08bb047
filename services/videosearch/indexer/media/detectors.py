"""Cut detectors for the single decode pass, chosen by a setting.

Each is one of PySceneDetect 0.7's detectors, or several merged, driven frame by frame on frames
downscaled exactly as SceneManager downscales them by default (factor max(width, height) / 256
when above 1, size rounded, bilinear), so every single detector's cuts equal
``scenedetect.detect(path, Detector())``:

* ``content``: ContentDetector (HSV difference of consecutive frames, threshold 27). Hard cuts.
* ``adaptive``: AdaptiveDetector (ContentDetector's score against the mean of its neighbours),
  which ignores sustained fast motion; cuts are reported ``window_width`` frames late.
* ``threshold``: ThresholdDetector (mean brightness below 12): fades to and from black, the cut
  at the middle of the dark stretch (``fade_bias`` 0).
* ``hash``: HashDetector (perceptual hash distance of consecutive frames).
* ``a+b``: the members' cut lists merged (a cut closer than ``min_scene_len`` to an earlier
  one is dropped).

The default, ``content``, is chosen by measurement (``python bench/detectors/run.py``): the
best overall F1 (cuts, dissolves and fades) among the settings that find every hard cut. For
footage with clean fades to black, ``content+threshold``. The figures and the reasoning are in
docs/moments-notes.md, "Which cut detector"; the bench's table in docs/performance.md, "Cut
detectors".

No detector finds pans or dissolves: the engine splits long scenes into moments by frame
embeddings afterwards, so a detector only needs the boundaries a pixel statistic sees sharply.

ContentDetector and AdaptiveDetector run with their frame score computed by ``_SameScore``: the
same float from less work (one absolute difference of the HSV frames and per-channel sums, where
PySceneDetect splits the channels and widens each to 32 bits), so their cuts are PySceneDetect's.
"""

from __future__ import annotations

import math
from fractions import Fraction

import cv2
import numpy as np
from scenedetect import (
    AdaptiveDetector,
    ContentDetector,
    FrameTimecode,
    HashDetector,
    SceneDetector,
    ThresholdDetector,
)
from scenedetect.scene_manager import compute_downscale_factor

from videosearch.indexer.media.detector_settings import DetectorSettings
from videosearch.indexer.media.video_file import VideoInfo

_DEFAULTS = DetectorSettings()  # ContentDetector's threshold and the shortest scene, written once there


class _SameScore:
    """ContentDetector's ``_calculate_frame_score``, the same value bit for bit, in fewer steps:
    each HSV channel's mean absolute difference is an integer sum over the pixels divided by
    their count; here the three sums come from one ``cv2.absdiff`` of the whole HSV frames and
    ``cv2.sumElems`` (integers, exact in a float64), where PySceneDetect splits the channels and
    widens each to int32 first. About 100 us a 256x144 frame against 350 (docs/performance.md,
    "Per-frame work beside the decoder"). With an edge weight or a stats manager (neither used
    here) it is PySceneDetect's own code. Mixed in before a ContentDetector subclass;
    tests/indexer_media/test_detectors.py compares every frame's score with the stock detector's."""

    _weights: ContentDetector.Components
    stats_manager: object
    _previous_hsv: np.ndarray | None = None

    def _calculate_frame_score(self, timecode: FrameTimecode, frame_img: np.ndarray) -> float:
        if self._weights.delta_edges != 0.0 or self.stats_manager is not None:
            return super()._calculate_frame_score(timecode, frame_img)  # type: ignore[misc]
        hsv = cv2.cvtColor(frame_img, cv2.COLOR_BGR2HSV)
        previous, self._previous_hsv = self._previous_hsv, hsv
        if previous is None:  # the first frame: nothing to compare with, as PySceneDetect
            return 0.0
        assert previous.shape == hsv.shape  # as PySceneDetect's _mean_pixel_distance
        pixels = float(hsv.shape[0] * hsv.shape[1])
        hue, sat, lum, _ = cv2.sumElems(cv2.absdiff(hsv, previous))
        components = (hue / pixels, sat / pixels, lum / pixels, 0.0)  # no edges: weight 0
        # PySceneDetect's own expression, so the float is the same.
        return sum(component * weight for (component, weight) in zip(components, self._weights, strict=True)) / sum(
            abs(weight) for weight in self._weights
        )


class _Content(_SameScore, ContentDetector):
    """ContentDetector with its frame score from _SameScore."""


class _Adaptive(_SameScore, AdaptiveDetector):
    """AdaptiveDetector (ContentDetector's score against its neighbours') with the score from _SameScore."""


class _Single:
    """One PySceneDetect detector on already downscaled BGR frames."""

    def __init__(self, detector: SceneDetector, fps: Fraction, max_lag: int | None = None) -> None:
        self._detector = detector
        self._fps = fps
        # Only ThresholdDetector needs a bound of its own: its event_buffer_length is 0 although
        # it reports cuts half a dark stretch late.
        self._clamp = max_lag is not None
        self.max_lag = detector.event_buffer_length if max_lag is None else max_lag

    def process(self, index: int, small: np.ndarray) -> list[int]:
        cuts = [cut.frame_num for cut in self._detector.process_frame(FrameTimecode(index, self._fps), small)]
        return [max(cut, index - self.max_lag) for cut in cuts] if self._clamp else cuts

    def finish(self, last_index: int) -> list[int]:
        cuts = [cut.frame_num for cut in self._detector.post_process(FrameTimecode(last_index, self._fps))]
        return [max(cut, last_index - self.max_lag) for cut in cuts] if self._clamp else cuts


def merge_cuts(cuts: list[int], min_gap: int, last: int | None = None) -> list[int]:
    """Sorted ``cuts`` without those closer than ``min_gap`` to the previous kept cut (or to
    ``last``, a cut kept before): of cuts that close together the earliest wins."""
    kept: list[int] = []
    for cut in sorted(set(cuts)):
        previous = kept[-1] if kept else last
        if previous is None or cut - previous >= max(min_gap, 1):
            kept.append(cut)
    return kept


class _Combined:
    """Several detectors' cuts merged. A cut is held until no member can still report an
    earlier one (``max_lag`` frames), so "the earliest wins" never needs to take one back."""

    def __init__(self, members: list[_Single], min_gap: int) -> None:
        self._members = members
        self._min_gap = min_gap
        self.max_lag = max(m.max_lag for m in members)
        self._pending: list[int] = []
        self._last: int | None = None

    def process(self, index: int, small: np.ndarray) -> list[int]:
        for member in self._members:
            self._pending += member.process(index, small)
        return self._release(index - self.max_lag)

    def finish(self, last_index: int) -> list[int]:
        for member in self._members:
            self._pending += member.finish(last_index)
        return self._release(None)

    def _release(self, upto: int | None) -> list[int]:
        ready = [c for c in self._pending if upto is None or c <= upto]
        self._pending = [c for c in self._pending if upto is not None and c > upto]
        out = merge_cuts(ready, self._min_gap, self._last)
        if out:
            self._last = out[-1]
        return out


def _single(name: str, s: DetectorSettings, fps: Fraction) -> _Single:
    if name == "content":
        return _Single(_Content(threshold=s.threshold, min_scene_len=s.min_scene_len), fps)
    if name == "adaptive":
        return _Single(
            _Adaptive(
                adaptive_threshold=s.adaptive_threshold,
                min_scene_len=s.min_scene_len,
                window_width=s.adaptive_window,
                min_content_val=s.adaptive_min_content,
            ),
            fps,
        )
    if name == "threshold":
        detector = ThresholdDetector(threshold=s.fade_threshold, min_scene_len=s.min_scene_len, fade_bias=s.fade_bias)
        return _Single(detector, fps, max_lag=max(1, math.ceil(Fraction(s.max_fade_lag_seconds) * fps)))
    if name == "hash":
        return _Single(
            HashDetector(
                threshold=s.hash_threshold,
                size=s.hash_size,
                lowpass=s.hash_lowpass,
                min_scene_len=s.min_scene_len,
            ),
            fps,
        )
    raise AssertionError(name)  # DetectorSettings.members validated it


class CutDetector:
    """A cut detector for one video, fed every decoded frame in order.

    ``CutDetector(info, threshold=27, min_scene_len=15)`` is ContentDetector, as before;
    ``make_cut_detector(settings, info)`` builds any setting.
    """

    def __init__(
        self, info: VideoInfo, *, threshold: float = _DEFAULTS.threshold, min_scene_len: int = _DEFAULTS.min_scene_len
    ) -> None:
        self._build(DetectorSettings("content", threshold=threshold, min_scene_len=min_scene_len), info)

    @classmethod
    def from_settings(cls, settings: DetectorSettings, info: VideoInfo) -> CutDetector:
        detector = cls.__new__(cls)
        detector._build(settings, info)
        return detector

    def _build(self, settings: DetectorSettings, info: VideoInfo) -> None:
        self.settings = settings
        members = [_single(name, settings, info.fps) for name in settings.members]
        self._inner = members[0] if len(members) == 1 else _Combined(members, settings.min_scene_len)
        # Computed once, as SceneManager does; a frame of another size (a corrupt stream) is
        # resized to it rather than fed at its own size.
        factor = compute_downscale_factor(max(info.width, info.height))
        self._size: tuple[int, int] | None = None
        if factor > 1.0:
            self._size = (max(1, round(info.width / factor)), max(1, round(info.height / factor)))

    @property
    def max_lag(self) -> int:
        """How many frames before the current one a reported cut can lie."""
        return self._inner.max_lag

    def process(self, index: int, frame_bgr: np.ndarray) -> list[int]:
        """Cuts (frame numbers starting a new scene) reported after frame ``index``."""
        if self._size is not None and (frame_bgr.shape[1], frame_bgr.shape[0]) != self._size:
            frame_bgr = cv2.resize(frame_bgr, self._size, interpolation=cv2.INTER_LINEAR)
        return self._inner.process(index, frame_bgr)

    def finish(self, last_index: int) -> list[int]:
        """Cuts still pending after the last frame, ``last_index``."""
        return self._inner.finish(last_index)


def largest_shrink(height: int, width: int) -> int:
    """The largest integer factor frames of this size may come shrunk by (a decoder that
    shrinks, see videosearch.indexer.media.decoding) without the detector's own downscale turning
    into an upscale: a shrunk frame is never smaller than the frame PySceneDetect detects on."""
    return max(1, int(compute_downscale_factor(max(height, width))))


def make_cut_detector(settings: DetectorSettings, info: VideoInfo) -> CutDetector:
    """A fresh detector for one video (detectors keep per-video state)."""
    return CutDetector.from_settings(settings, info)
