"""Domain types of the Indexer that its clients share: a job's options, state, stage and failure
reason, and the job snapshot. Plain data, importable without the media engine (a client sends
options and reads jobs; videosearch.indexer.jobs.manager runs them)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum

from videosearch.common.errors import InvalidArgument
from videosearch.indexer.media.decode_modes import DEFAULT_DECODE_MODE, check_decode_mode
from videosearch.indexer.media.detector_settings import DetectorSettings
from videosearch.indexer.media.sampling import SamplingPolicy

# The defaults of a job's options are those of the detector and the sampling policy,
# written once there; the Indexer's settings start from IndexOptions() in turn.
_DETECTOR_DEFAULTS = DetectorSettings()
_SAMPLING_DEFAULTS = SamplingPolicy()
MAX_FIXED_FRAMES_PER_SCENE = 64
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000  # jobs per ListIndexJobs page: when 0 is asked, and at most
MAX_JOB_ID_CHARS = 64  # ids are made here ("000123-1a2b3c4d"); a longer one names no job


# What the proto's IndexOptions, the CLI's flags, SubmitOptions and the Indexer's settings call
# the IndexOptions fields named otherwise here (released names, kept): mapped at those edges only.
PUBLIC_NAMES = {
    "min_scene_len": "min_scene_frames",
    "min_samples": "min_frames_per_scene",
    "max_samples": "max_frames_per_scene",
}


class JobState(enum.Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def finished(self) -> bool:
        return self in (JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)


class JobStage(enum.Enum):
    NONE = "none"
    HASHING = "hashing"
    DETECTING_SCENES = "detecting_scenes"
    EMBEDDING = "embedding"
    STORING = "storing"
    TRANSCRIBING = "transcribing"
    READING_TEXT = "reading_text"


class ErrorReason(enum.Enum):
    NONE = "none"
    UNREADABLE = "unreadable"
    NOT_A_VIDEO = "not_a_video"
    EMBEDDER_UNAVAILABLE = "embedder_unavailable"
    SEARCHER_UNAVAILABLE = "searcher_unavailable"
    INTERNAL = "internal"
    EMBEDDER_REFUSED = "embedder_refused"
    SEARCHER_REFUSED = "searcher_refused"
    MODEL_MISMATCH = "model_mismatch"
    LIMIT_EXCEEDED = "limit_exceeded"


@dataclasses.dataclass(frozen=True)
class IndexOptions:
    """One job's detection and sampling settings, defaults already filled in.

    Frames are sampled through time (one per ``seconds_per_sample``, at least ``min_samples``,
    at most ``max_samples``) unless ``frames_per_scene`` asks for a fixed number per scene (the
    article's 3); see videosearch.indexer.media.sampling.

    Three fields are named as in the detector and the sampling policy they fill; the proto, the
    CLI's flags and the Indexer's settings (public names, kept) call them as PUBLIC_NAMES says.
    """

    detector_threshold: float = _DETECTOR_DEFAULTS.threshold
    min_scene_len: int = _DETECTOR_DEFAULTS.min_scene_len
    frames_per_scene: int = 0
    force: bool = False
    seconds_per_sample: float = _SAMPLING_DEFAULTS.seconds_per_sample
    min_samples: int = _SAMPLING_DEFAULTS.min_samples
    max_samples: int = _SAMPLING_DEFAULTS.max_samples
    detector: str = _DETECTOR_DEFAULTS.name
    # Which words are read beside the picture (videosearch.indexer.text): subtitles are
    # cheap and exact, so on; speech and on-screen text cost model time, so off unless asked.
    subtitles: bool = True
    speech: bool = False
    on_screen_text: bool = False
    # Which frames are decoded (videosearch.indexer.media.decode_modes): every frame unless a
    # faster first pass is asked for.
    decode_mode: str = DEFAULT_DECODE_MODE

    # The names before issue 23, read-only: videosearch.client exports IndexOptions (a Job's
    # ``options``), so code that reads them keeps working. Deprecated: use the fields.
    @property
    def min_scene_frames(self) -> int:
        return self.min_scene_len

    @property
    def min_frames_per_scene(self) -> int:
        return self.min_samples

    @property
    def max_frames_per_scene(self) -> int:
        return self.max_samples

    @property
    def detector_settings(self) -> DetectorSettings:
        return DetectorSettings(name=self.detector, threshold=self.detector_threshold, min_scene_len=self.min_scene_len)

    @property
    def sampling(self) -> SamplingPolicy:
        if self.frames_per_scene:
            return SamplingPolicy.fixed(self.frames_per_scene)
        return SamplingPolicy(self.seconds_per_sample, self.min_samples, self.max_samples)

    def validate(self) -> "IndexOptions":
        if not 0 < self.detector_threshold <= 255:
            raise InvalidArgument(
                f"detector_threshold {self.detector_threshold} is out of range; use 1..255 "
                f"(default {_DETECTOR_DEFAULTS.threshold:g})"
            )
        if not 1 <= self.min_scene_len <= 100_000:
            raise InvalidArgument(
                f"min_scene_frames {self.min_scene_len} is out of range; use 1..100000 "
                f"(default {_DETECTOR_DEFAULTS.min_scene_len})"
            )
        if not 0 <= self.frames_per_scene <= MAX_FIXED_FRAMES_PER_SCENE:
            raise InvalidArgument(
                f"frames_per_scene {self.frames_per_scene} is out of range; use 1..{MAX_FIXED_FRAMES_PER_SCENE} for a "
                "fixed number per scene, "
                "or 0 to sample through time (seconds_per_sample)"
            )
        try:
            self.detector_settings  # noqa: B018 - the property validates
        except InvalidArgument as exc:
            raise InvalidArgument(f"detector: {exc}") from None
        check_decode_mode(self.decode_mode)
        try:
            SamplingPolicy(self.seconds_per_sample, self.min_samples, self.max_samples).validate()
        except ValueError as exc:
            raise InvalidArgument(
                f"{exc} (options seconds_per_sample, min_frames_per_scene, max_frames_per_scene)"
            ) from None
        return self


@dataclasses.dataclass(frozen=True)
class Job:
    """An immutable snapshot of a job; every change makes a new one."""

    job_id: str
    path: str
    options: IndexOptions
    state: JobState = JobState.QUEUED
    stage: JobStage = JobStage.NONE
    percent: float = 0.0
    frames_decoded: int = 0
    frames_total: int = 0
    scenes_found: int = 0
    frames_embedded: int = 0
    frames_to_embed: int = 0
    moments_found: int = 0
    video_id: str = ""
    skipped: bool = False
    unchanged: bool = False  # skipped without hashing: stored at this path with the same size and time
    error: str = ""
    error_reason: ErrorReason = ErrorReason.NONE
    warnings: tuple[str, ...] = ()  # what of the video's words could not be read (the video was indexed)
    text_spans_found: int = 0
    # A reindex job (videosearch.indexer.jobs.reindex) names the new model's Embedder; "" for one file.
    reindex_embedder_address: str = ""
    reindex_model_id: str = ""  # what the caller expects there, then what the Embedder said it serves
    videos_done: int = 0
    videos_total: int = 0
    stage_seconds: dict[str, float] = dataclasses.field(default_factory=dict)
    create_time: dt.datetime = dataclasses.field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    update_time: dt.datetime = dataclasses.field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    version: int = 0


def job_number(job_id: str) -> int:
    """The submission number a job id starts with (ids are "NNNNNN-xxxxxxxx")."""
    return int(job_id.split("-", 1)[0])
