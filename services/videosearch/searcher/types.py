"""Domain types of the Searcher: stored videos, scenes and search results."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

import numpy as np

from videosearch.common.errors import InvalidArgument
from videosearch.searcher.ranking.calibration import Calibration


@dataclass(frozen=True)
class VideoLocation:
    """One path where a video's content was found, and what the file looked like then.

    ``size_bytes`` and ``mtime_ns`` are 0 when unknown (videos stored before locations
    existed); with them a rescan can skip an unchanged file without hashing it.
    """

    path: str
    size_bytes: int = 0
    mtime_ns: int = 0
    missing: bool = False  # the file was gone at the last check


def merge_locations(stored: tuple[VideoLocation, ...], updates: tuple[VideoLocation, ...]) -> tuple[VideoLocation, ...]:
    """``stored`` with each update replacing the location of the same path, new paths
    appended in the order given: a video keeps every path it was ever found at."""
    by_path = {location.path: location for location in updates}
    merged = [by_path.pop(location.path, location) for location in stored]
    return (*merged, *by_path.values())


def primary_path(locations: tuple[VideoLocation, ...], fallback: str) -> str:
    """The path a one-path client sees: the first location not missing, else the first."""
    present = [location.path for location in locations if not location.missing]
    return present[0] if present else (locations[0].path if locations else fallback)


STORED_DECODE_MODES = ("", "all", "reference", "sparse", "keyframes")
"""The Indexer's decode modes a stored video may record ("": before they existed)."""


@dataclass(frozen=True)
class VideoRecord:
    """Metadata of one indexed video.

    ``uri`` is its primary path (see :func:`primary_path`); ``locations`` are all the
    paths its content was found at. A record made with ``uri`` only gets one location
    from it, size and modification time unknown.
    """

    video_id: str
    uri: str
    duration_seconds: float
    fps: Fraction
    frame_count: int
    width: int
    height: int
    content_sha256: str
    model_id: str
    embedding_dim: int
    indexed_at: dt.datetime | None = None
    scene_count: int = 0
    moment_count: int = 0  # 0: one moment per scene (videos stored before moments existed)
    locations: tuple[VideoLocation, ...] = ()
    # Which frames the Indexer decoded to make it ("all", "reference", "sparse", "keyframes"); "" for
    # videos stored before decode modes existed, which decoded every frame.
    decode_mode: str = ""

    def __post_init__(self) -> None:
        if self.decode_mode not in STORED_DECODE_MODES:
            raise InvalidArgument(
                f"unknown decode mode {self.decode_mode!r}; use one of "
                f"{', '.join(m for m in STORED_DECODE_MODES if m)} (or leave it empty)"
            )
        if self.moment_count == 0 and self.scene_count > 0:
            object.__setattr__(self, "moment_count", self.scene_count)
        if not self.locations and self.uri:
            object.__setattr__(self, "locations", (VideoLocation(self.uri),))
        else:
            object.__setattr__(self, "locations", tuple(self.locations))


@dataclass(frozen=True)
class SceneRecord:
    """One scene of a video: frames [start_frame, end_frame) and their times."""

    index: int
    start_frame: int
    end_frame: int
    start_seconds: float
    end_seconds: float
    sampled_frames: int = 0


@dataclass(frozen=True)
class MomentRecord:
    """A stretch of one scene with its own embedding: frames [start_frame, end_frame).

    The unit of search: a hard-cut scene is usually one moment, a long take several (where
    its frames' embeddings change). ``index`` counts moments in the video from 0; a scene's
    moments are consecutive and tile it.
    """

    index: int
    scene_index: int
    start_frame: int
    end_frame: int
    start_seconds: float
    end_seconds: float
    sampled_frames: int = 0


def moments_of_scenes(scenes: list[SceneRecord]) -> list[MomentRecord]:
    """One moment per scene: how videos stored before moments existed are read."""
    return [
        MomentRecord(s.index, s.index, s.start_frame, s.end_frame, s.start_seconds, s.end_seconds, s.sampled_frames)
        for s in scenes
    ]


@dataclass(frozen=True)
class SampledFrame:
    """Where one sampled frame lies: the moment it belongs to, its number and time."""

    moment_index: int
    frame: int
    seconds: float


@dataclass(frozen=True)
class Thumbnail:
    """A JPEG of one frame of a scene (its middle sampled frame), long side at most 320 px."""

    image_jpeg: bytes
    width: int
    height: int
    frame: int
    seconds: float


TextKind = Literal["said", "written"]
TEXT_KINDS: tuple[TextKind, ...] = ("said", "written")
TextSource = Literal["", "subtitle_stream", "sidecar", "speech", "ocr"]  # "": unknown
TEXT_SOURCES: tuple[TextSource, ...] = ("", "subtitle_stream", "sidecar", "speech", "ocr")


@dataclass(frozen=True)
class TextBox:
    """Where written text appears on screen, as fractions (0..1) of the picture's display
    width and height, the origin at the top left."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class TextSpan:
    """Words tied to a time range of a video: a subtitle or transcript cue ("said") or text
    on screen over the frames that show it ("written"). ``language`` is a BCP-47 tag or ""."""

    kind: TextKind
    start_seconds: float
    end_seconds: float
    text: str
    language: str = ""
    source: TextSource = ""
    box: TextBox | None = None  # written spans: where on screen; None when unknown


@dataclass(frozen=True)
class VideoExtras:
    """What a video may carry beside its ranking rows, kept on disk only: each sampled
    frame's place and embedding (for explained hits), one thumbnail per scene, and what is
    said and written in it (searched by the lexical index)."""

    frames: tuple[SampledFrame, ...] = ()
    frame_embeddings: np.ndarray | None = None  # (len(frames), dim), unit rows
    thumbnails: tuple[Thumbnail, ...] = ()
    text_spans: tuple[TextSpan, ...] = ()


VideoScoring = Literal["max", "mean"]
SearchMode = Literal["videos", "scenes"]
MatchKind = Literal["seen", "said", "written"]
MATCH_KINDS: tuple[MatchKind, ...] = ("seen", "said", "written")


@dataclass(frozen=True)
class SceneRef:
    """A stored scene, named by its video and index."""

    video_id: str
    scene_index: int


@dataclass(frozen=True)
class QueryTerm:
    """One term of a composite query: exactly one of text, image (JPEG or PNG bytes), a stored
    scene, a stored video or a vector; ``weight`` < 0 makes it a negative term."""

    text: str | None = None
    image: bytes | None = None
    scene: SceneRef | None = None
    video_id: str | None = None
    vector: np.ndarray | None = None
    model_id: str = ""  # of ``vector``, when known
    weight: float = 1.0

    @property
    def kind(self) -> str:
        given = [name for name in ("text", "image", "scene", "video_id", "vector") if getattr(self, name) is not None]
        return given[0] if len(given) == 1 else ""


@dataclass(frozen=True)
class SearchFilter:
    """Conditions on videos (and a minimum score on hits); None or empty means no condition."""

    path_prefix: str = ""
    folder: str = ""
    min_duration_seconds: float | None = None
    max_duration_seconds: float | None = None
    indexed_after: dt.datetime | None = None
    indexed_before: dt.datetime | None = None
    min_score: float | None = None
    min_relevance: float | None = None  # on the calibrated scale, 0..1 (see searcher.calibration)

    @property
    def filters_videos(self) -> bool:
        return bool(self.path_prefix or self.folder) or any(
            value is not None
            for value in (self.min_duration_seconds, self.max_duration_seconds, self.indexed_after, self.indexed_before)
        )


@dataclass(frozen=True)
class SearchParams:
    top_k: int = 10
    scenes_per_video: int = 3
    video_scoring: VideoScoring = "max"
    mode: SearchMode = "videos"
    approximate: bool = False
    filter: SearchFilter = SearchFilter()
    page_token: str = ""
    explain: bool = False
    include_examples: bool = False
    kinds: tuple[MatchKind, ...] = ()  # what a text query is matched against; () means all of MATCH_KINDS


@dataclass(frozen=True)
class FrameScore:
    """A sampled frame of a hit's moment and its cosine to the query."""

    frame: int
    seconds: float
    score: float


@dataclass(frozen=True)
class HitExplanation:
    """Every sampled frame's score; ``best_frame_index`` is the position of the best (-1: none stored)."""

    best_frame_index: int
    frames: tuple[FrameScore, ...] = ()

    @property
    def best(self) -> FrameScore | None:
        return self.frames[self.best_frame_index] if self.best_frame_index >= 0 else None


@dataclass(frozen=True)
class TextMatch:
    """A span of a hit's moment that matched the query: the span, the [start, end) code-point
    ranges of its text that hold query words, and its BM25 score."""

    span: TextSpan
    highlights: tuple[tuple[int, int], ...]
    score: float

    def marked(self, before: str = "[", after: str = "]") -> str:
        """The span's text with each highlight wrapped in ``before`` and ``after``."""
        out, at = [], 0
        for start, end in self.highlights:
            out += [self.span.text[at:start], before, self.span.text[start:end], after]
            at = end
        return "".join(out) + self.span.text[at:]


@dataclass(frozen=True)
class MomentHit:
    """A matching moment and the scene it lies in; ``score`` is the moment's cosine to the
    query's embedding (0 when only said or written text was searched). With text kinds
    searched, ``fused_score`` is the reciprocal-rank fusion score that ordered the hits."""

    video_id: str
    scene: SceneRecord
    score: float
    moment: MomentRecord | None = None
    open_uri: str = ""  # opens the file at the moment's start (file:///...#t=START)
    explanation: HitExplanation | None = None
    matched_kinds: tuple[MatchKind, ...] = ()
    text_matches: tuple[TextMatch, ...] = ()
    fused_score: float = 0.0
    relevance: float = 0.0  # ``score`` on the model's calibrated scale, 0..1


# Deprecated: the name before issue 23 (a hit is a moment; the wire's message is SceneMatch).
# videosearch.client exported it, so callers' imports keep working; new code says MomentHit.
SceneHit = MomentHit


@dataclass(frozen=True)
class VideoHit:
    video: VideoRecord
    score: float
    scenes: list[MomentHit] = field(default_factory=list)
    relevance: float = 0.0  # ``score`` on the model's calibrated scale, 0..1


@dataclass(frozen=True)
class SearchResult:
    videos: list[VideoHit]
    scenes: list[MomentHit]
    model_id: str
    embed_ms: float = 0.0
    rank_ms: float = 0.0
    next_page_token: str = ""
    approximate_used: bool = False
    strong_relevance: float = 0.5  # hits at or above it are strong matches
    calibration: Calibration | None = None  # how scores became relevance; None when nothing was ranked
    model_notice: str = ""  # the answering model's caveat about itself, if it has one
    # Parts this search did the lesser way because a dependency failed ("residual_query": looks
    # ranked by the whole query, the rests of it could not be embedded); logged and counted.
    fallbacks: tuple[str, ...] = ()


@dataclass(frozen=True)
class SearcherStats:
    video_count: int
    scene_count: int
    model_id: str
    embedding_dim: int
    approximate_index: bool
    moment_count: int = 0
    staged_model_id: str = ""  # the model a reindex is building a collection for ("" when none)
    staged_video_count: int = 0
