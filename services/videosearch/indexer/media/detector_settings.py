"""Which cut detector a job runs and its parameters: plain settings, checked when made, that a
client can build and send without loading the detectors (videosearch.indexer.media.detectors
runs them)."""

from __future__ import annotations

from dataclasses import dataclass

from videosearch.common.errors import InvalidArgument

BASE_DETECTORS: tuple[str, ...] = ("content", "adaptive", "threshold", "hash")
DETECTORS: tuple[str, ...] = (
    *BASE_DETECTORS,
    "content+threshold",
    "adaptive+threshold",
    "hash+threshold",
    "content+hash",
)
"""The settings the detector bench measures; any '+'-joined set of BASE_DETECTORS is accepted."""

DEFAULT_DETECTOR = "content"
"""Chosen by bench/detectors/run.py; see the module doc."""


@dataclass(frozen=True)
class DetectorSettings:
    """Which detector and its parameters; every default is PySceneDetect 0.7's.

    ``max_fade_lag_seconds`` bounds how late a ThresholdDetector cut may be reported (it sits
    in the middle of the dark stretch, found only when the picture comes back; the scene
    sampler must know the bound). A dark stretch longer than twice that has its cut placed
    ``max_fade_lag_seconds`` before its end instead of in the middle: still inside the dark.
    """

    name: str = DEFAULT_DETECTOR
    threshold: float = 27.0  # ContentDetector
    min_scene_len: int = 15  # frames, all detectors
    adaptive_threshold: float = 3.0  # AdaptiveDetector
    adaptive_window: int = 2
    adaptive_min_content: float = 15.0
    fade_threshold: float = 12.0  # ThresholdDetector: mean 8-bit intensity
    fade_bias: float = 0.0
    max_fade_lag_seconds: float = 4.0
    hash_threshold: float = 0.35  # HashDetector
    hash_size: int = 8
    hash_lowpass: int = 2

    def __post_init__(self) -> None:
        self.members  # noqa: B018 - the property validates the name
        checks = [
            (
                self.threshold > 0,
                f"the content threshold must be positive (ContentDetector's default is 27), got {self.threshold}",
            ),
            (self.min_scene_len >= 0, f"min_scene_len must be 0 or more frames (default 15), got {self.min_scene_len}"),
            (
                self.adaptive_threshold > 0,
                f"adaptive_threshold must be positive (default 3.0), got {self.adaptive_threshold}",
            ),
            (
                self.adaptive_window >= 1,
                f"adaptive_window must be at least 1 frame (default 2), got {self.adaptive_window}",
            ),
            (
                self.adaptive_min_content >= 0,
                f"adaptive_min_content must be 0 or more (default 15), got {self.adaptive_min_content}",
            ),
            (
                0 < self.fade_threshold < 255,
                f"fade_threshold must be an 8-bit level in (0, 255) (default 12), got {self.fade_threshold}",
            ),
            (
                -1.0 <= self.fade_bias <= 1.0,
                f"fade_bias must be within [-1, 1] (0 puts the cut mid-fade), got {self.fade_bias}",
            ),
            (
                self.max_fade_lag_seconds > 0,
                f"max_fade_lag_seconds must be positive (default 4), got {self.max_fade_lag_seconds}",
            ),
            (
                0 < self.hash_threshold <= 1,
                f"hash_threshold must be within (0, 1] (default 0.35), got {self.hash_threshold}",
            ),
            (self.hash_size >= 2, f"hash_size must be at least 2 (default 8), got {self.hash_size}"),
            (self.hash_lowpass >= 1, f"hash_lowpass must be at least 1 (default 2), got {self.hash_lowpass}"),
        ]
        for ok, message in checks:
            if not ok:
                raise InvalidArgument(message)

    @property
    def members(self) -> tuple[str, ...]:
        """The base detectors this setting runs, in the order named."""
        members = tuple(part.strip() for part in str(self.name).split("+"))
        if not all(m in BASE_DETECTORS for m in members) or len(set(members)) != len(members):
            raise InvalidArgument(
                f"unknown cut detector {self.name!r}; use one of {', '.join(BASE_DETECTORS)} "
                f"or a '+'-joined combination of distinct ones such as content+threshold"
            )
        return members
