"""Checks on what callers send the Searcher; every failure is an InvalidArgument
that names the field and says what a valid value looks like."""

from __future__ import annotations

import dataclasses
import math
import re

import numpy as np

from videosearch.common import defaults
from videosearch.common.errors import InvalidArgument
from videosearch.searcher.ranking.filters import validate_filter
from videosearch.searcher.types import (
    MATCH_KINDS,
    MomentRecord,
    SceneRecord,
    SearchParams,
    TEXT_SOURCES,
    TextSpan,
    VideoExtras,
    VideoLocation,
    VideoRecord,
    moments_of_scenes,
)

MAX_TOP_K = 1000
DEFAULT_TOP_K = 10
MAX_SCENES_PER_VIDEO = 100
DEFAULT_SCENES_PER_VIDEO = 3
MAX_VIDEO_ID_LENGTH = 256
# Embeddings whose norms are this close to 1 are renormalized (float16 round trips,
# averaging in float32); anything farther is a caller bug and rejected.
NORM_TOLERANCE = 1e-2
DEFAULT_MAX_THUMBNAIL_BYTES = 256 * 1024
MAX_THUMBNAIL_SIDE = 4096
# Results a search may page through (offset + page size): deeper pages cost a ranking of
# that many hits each; narrow the query with filters instead.
MAX_SEARCH_DEPTH = 10_000


def validate_video_id(video_id: str) -> None:
    if not video_id:
        raise InvalidArgument("video_id is empty; give the id of a video")
    if len(video_id) > MAX_VIDEO_ID_LENGTH or "\x00" in video_id:
        raise InvalidArgument(f"video_id must be 1..{MAX_VIDEO_ID_LENGTH} characters without NUL")


def validate_locations(locations: tuple[VideoLocation, ...], *, allow_empty: bool = False) -> None:
    """Each location has a path of its own and no negative size or modification time."""
    if not locations and not allow_empty:
        raise InvalidArgument("locations is empty; send at least one location (path, size_bytes, mtime_ns)")
    if len(locations) > defaults.MAX_LOCATIONS_PER_VIDEO:
        raise InvalidArgument(
            f"{len(locations):,} locations; a video keeps at most {defaults.MAX_LOCATIONS_PER_VIDEO} "
            "(send the paths where its file is now)"
        )
    seen: set[str] = set()
    for position, location in enumerate(locations):
        where = f"locations[{position}]"
        if not location.path or "\x00" in location.path:
            raise InvalidArgument(f"{where}.path is empty or has NUL; give the file's absolute path")
        if len(location.path.encode(errors="surrogateescape")) >= defaults.MAX_PATH_BYTES or any(
            len(name.encode(errors="surrogateescape")) > defaults.MAX_PATH_NAME_BYTES
            for name in location.path.split("/")
        ):
            raise InvalidArgument(
                f"{where}.path is {len(location.path):,} characters; a path is under "
                f"{defaults.MAX_PATH_BYTES} bytes, each name at most {defaults.MAX_PATH_NAME_BYTES}"
            )
        if location.path in seen:
            raise InvalidArgument(f"{where}.path {location.path!r} is repeated; send each path once")
        if location.size_bytes < 0 or location.mtime_ns < 0:
            raise InvalidArgument(f"{where} has a negative size_bytes or mtime_ns; use 0 for unknown")
        seen.add(location.path)


def validate_upsert(
    video: VideoRecord, scenes: list[SceneRecord], embeddings: np.ndarray, moments: list[MomentRecord] | None = None
) -> np.ndarray:
    """Checks an upsert and returns the embeddings as unit-norm float32 rows (one per
    moment; one per scene when ``moments`` is None)."""
    validate_video_id(video.video_id)
    if not video.model_id:
        raise InvalidArgument("video.model_id is empty; set it to the id of the model that made the embeddings")
    if video.embedding_dim <= 0:
        raise InvalidArgument(f"video.embedding_dim is {video.embedding_dim}; set it to the embeddings' length")
    if not video.fps > 0:
        raise InvalidArgument(f"video fps is {video.fps}; give a positive frame rate (numerator/denominator)")
    validate_locations(video.locations, allow_empty=True)
    if not (math.isfinite(video.duration_seconds) and video.duration_seconds >= 0):
        raise InvalidArgument(
            f"video.duration_seconds is {video.duration_seconds}; give the length in seconds (finite, >= 0)"
        )
    if video.frame_count < 0 or video.width < 0 or video.height < 0:
        raise InvalidArgument(
            f"video frame_count {video.frame_count}, width {video.width} and height {video.height} must not be negative"
        )
    if not scenes:
        raise InvalidArgument("a video needs at least one scene; send its scenes with their embeddings")
    if video.frame_count and scenes[-1].end_frame > video.frame_count:
        raise InvalidArgument(
            f"the last scene ends at frame {scenes[-1].end_frame}, past the video's frame_count {video.frame_count}; "
            "scenes must lie inside the video (or leave frame_count 0 when it is unknown)"
        )
    previous_end = 0
    for position, scene in enumerate(scenes):
        where = f"scenes[{position}]"
        if scene.index != position:
            raise InvalidArgument(f"{where}.index is {scene.index}; scenes must be sent in order with index 0..N-1")
        if scene.start_frame < 0 or scene.end_frame <= scene.start_frame:
            raise InvalidArgument(
                f"{where} spans frames [{scene.start_frame}, {scene.end_frame}); need 0 <= start_frame < end_frame"
            )
        if scene.start_frame < previous_end:
            raise InvalidArgument(
                f"{where} starts at frame {scene.start_frame}, before the previous scene ends ({previous_end}); "
                "scenes must be ordered and must not overlap"
            )
        if not (math.isfinite(scene.start_seconds) and math.isfinite(scene.end_seconds)) or not (
            0 <= scene.start_seconds <= scene.end_seconds
        ):
            raise InvalidArgument(
                f"{where} times [{scene.start_seconds}, {scene.end_seconds}] are not a valid interval; "
                "need finite 0 <= start_seconds <= end_seconds"
            )
        if scene.sampled_frames < 0:
            raise InvalidArgument(f"{where}.sampled_frames is negative; send the number of frames embedded (0 or more)")
        previous_end = scene.end_frame
    if moments is not None:
        validate_moments(scenes, moments)
    rows, unit = (len(scenes), "scene") if moments is None else (len(moments), "moment")
    expected = (rows, video.embedding_dim)
    if embeddings.ndim != 2 or embeddings.shape != expected:
        raise InvalidArgument(
            f"embeddings have shape {list(embeddings.shape)}; need {list(expected)} (one row per {unit}, embedding_dim columns)"
        )
    return unit_rows(embeddings, "embeddings")


def validate_moments(scenes: list[SceneRecord], moments: list[MomentRecord]) -> None:
    """Moments in order, tiling the video from the first scene's start to the last one's end
    without gaps, each starting inside its scene (it may run on past a cut into later scenes)."""
    if not moments:
        raise InvalidArgument(
            "moments is empty; send at least one moment, or no moments at all (then each scene is one moment)"
        )
    expected_start = scenes[0].start_frame
    previous_scene = 0
    for position, moment in enumerate(moments):
        where = f"moments[{position}]"
        if moment.index != position:
            raise InvalidArgument(f"{where}.index is {moment.index}; moments must be sent in order with index 0..M-1")
        if not 0 <= moment.scene_index < len(scenes):
            raise InvalidArgument(
                f"{where}.scene_index is {moment.scene_index}; it must name one of the {len(scenes)} scenes"
            )
        if moment.scene_index < previous_scene:
            raise InvalidArgument(
                f"{where} is in scene {moment.scene_index}, before the previous moment's scene "
                f"{previous_scene}; moments must be in scene order"
            )
        if moment.start_frame != expected_start:
            raise InvalidArgument(
                f"{where} starts at frame {moment.start_frame} but should start at {expected_start}, "
                "where the previous moment ends; moments must tile the video without gaps"
            )
        scene = scenes[moment.scene_index]
        if not scene.start_frame <= moment.start_frame < scene.end_frame:
            raise InvalidArgument(
                f"{where} starts at frame {moment.start_frame}, outside its scene "
                f"[{scene.start_frame}, {scene.end_frame}); scene_index names the scene a moment starts in"
            )
        if moment.end_frame <= moment.start_frame or moment.end_frame > scenes[-1].end_frame:
            raise InvalidArgument(
                f"{where} spans frames [{moment.start_frame}, {moment.end_frame}); it must be non-empty "
                f"and end by the last scene's end ({scenes[-1].end_frame})"
            )
        if not (math.isfinite(moment.start_seconds) and math.isfinite(moment.end_seconds)) or not (
            0 <= moment.start_seconds <= moment.end_seconds
        ):
            raise InvalidArgument(
                f"{where} times [{moment.start_seconds}, {moment.end_seconds}] are not a valid interval; "
                "need finite 0 <= start_seconds <= end_seconds"
            )
        if moment.sampled_frames < 0:
            raise InvalidArgument(f"{where}.sampled_frames is negative; send the number of frames embedded (0 or more)")
        expected_start, previous_scene = moment.end_frame, moment.scene_index
    if expected_start != scenes[-1].end_frame:
        raise InvalidArgument(
            f"the moments end at frame {expected_start}; they must cover the video up to the last "
            f"scene's end ({scenes[-1].end_frame})"
        )


def validate_extras(
    scenes: list[SceneRecord],
    moments: list[MomentRecord] | None,
    extras: VideoExtras,
    embedding_dim: int,
    max_thumbnail_bytes: int = DEFAULT_MAX_THUMBNAIL_BYTES,
) -> VideoExtras:
    """Checks sampled frames (each moment has its ``sampled_frames`` of them, inside it, in
    order) and thumbnails (none, or one JPEG per scene); returns the frame embeddings as unit rows."""
    moments = moments if moments is not None else moments_of_scenes(scenes)
    embeddings = extras.frame_embeddings
    if extras.frames and embeddings is None:
        raise InvalidArgument(
            "sampled_frames are set but frame_embeddings are missing; send one embedding per sampled frame"
        )
    if embeddings is not None and not extras.frames:
        raise InvalidArgument("frame_embeddings are set without sampled_frames; send where each frame lies, or neither")
    if extras.frames and embeddings is not None:  # (each comes with the other, checked above)
        expected = (len(extras.frames), embedding_dim)
        if embeddings.ndim != 2 or embeddings.shape != expected:
            raise InvalidArgument(
                f"frame_embeddings have shape {list(embeddings.shape)}; need {list(expected)} "
                "(one row per sampled frame, embedding_dim columns)"
            )
        at = 0
        for moment in moments:
            mine = extras.frames[at : at + moment.sampled_frames]
            where = f"sampled_frames[{at}:{at + moment.sampled_frames}]"
            if len(mine) != moment.sampled_frames or any(f.moment_index != moment.index for f in mine):
                raise InvalidArgument(
                    f"{where} should be the {moment.sampled_frames} frames of moment {moment.index}; "
                    "send each moment's sampled frames in moment order, as many as its sampled_frames"
                )
            for frame in mine:
                if not moment.start_frame <= frame.frame < moment.end_frame:
                    raise InvalidArgument(
                        f"sampled frame {frame.frame} lies outside its moment {moment.index} "
                        f"[{moment.start_frame}, {moment.end_frame}); send frames inside their moment"
                    )
                if not (math.isfinite(frame.seconds) and frame.seconds >= 0):
                    raise InvalidArgument(
                        f"sampled frame {frame.frame} has time {frame.seconds}; give finite seconds >= 0"
                    )
            if any(a.frame >= b.frame for a, b in zip(mine, mine[1:])):
                raise InvalidArgument(
                    f"{where} are not in increasing frame order; send each moment's frames in time order"
                )
            at += moment.sampled_frames
        if at != len(extras.frames):
            raise InvalidArgument(
                f"{len(extras.frames)} sampled frames sent but the moments sample {at}; "
                "send exactly the moments' sampled frames"
            )
        embeddings = unit_rows(embeddings, "frame_embeddings")
    if extras.thumbnails and len(extras.thumbnails) != len(scenes):
        raise InvalidArgument(
            f"{len(extras.thumbnails)} scene thumbnails for {len(scenes)} scenes; send one per scene, or none"
        )
    for position, (thumbnail, scene) in enumerate(zip(extras.thumbnails, scenes)):
        where = f"scene_thumbnails[{position}]"
        if not thumbnail.image_jpeg.startswith(b"\xff\xd8\xff"):
            raise InvalidArgument(
                f"{where} is not a JPEG; send JPEG bytes (the Indexer makes them from the middle sampled frame)"
            )
        if len(thumbnail.image_jpeg) > max_thumbnail_bytes:
            raise InvalidArgument(
                f"{where} is {len(thumbnail.image_jpeg)} bytes, over the limit of {max_thumbnail_bytes}; "
                "send a smaller picture (320 pixels on the long side)"
            )
        if not (0 < thumbnail.width <= MAX_THUMBNAIL_SIDE and 0 < thumbnail.height <= MAX_THUMBNAIL_SIDE):
            raise InvalidArgument(
                f"{where} is {thumbnail.width} x {thumbnail.height}; give its size in pixels "
                f"(1..{MAX_THUMBNAIL_SIDE} each)"
            )
        if not scene.start_frame <= thumbnail.frame < scene.end_frame:
            raise InvalidArgument(
                f"{where} shows frame {thumbnail.frame}, outside scene {scene.index} "
                f"[{scene.start_frame}, {scene.end_frame}); take it from the scene's own frames"
            )
        if not (math.isfinite(thumbnail.seconds) and thumbnail.seconds >= 0):
            raise InvalidArgument(f"{where} has time {thumbnail.seconds}; give finite seconds >= 0")
    return VideoExtras(
        tuple(extras.frames), embeddings, tuple(extras.thumbnails), validate_text_spans(extras.text_spans)
    )


# A BCP-47 tag's shape (language, then subtags): "en", "zh-Hans", "pt-BR"; not a registry check.
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*")


def validate_text_spans(spans: tuple[TextSpan, ...]) -> tuple[TextSpan, ...]:
    """Checks each span (kind, times, text, language, box) and the limits; returns them in the
    order they are stored and shown: by start time, said before written, then as sent."""
    if len(spans) > defaults.MAX_TEXT_SPANS:
        raise InvalidArgument(
            f"{len(spans)} text spans sent; at most {defaults.MAX_TEXT_SPANS} per video are stored. "
            "Merge short cues or index a shorter stretch of the video"
        )
    for position, span in enumerate(spans):
        where = f"text_spans[{position}]"
        if span.kind not in ("said", "written"):
            raise InvalidArgument(
                f"{where}.kind is {span.kind!r}; set said (subtitles, speech) or written (on-screen text)"
            )
        if span.source not in TEXT_SOURCES:
            raise InvalidArgument(f"{where}.source is {span.source!r}; use one of {', '.join(map(repr, TEXT_SOURCES))}")
        if not (
            math.isfinite(span.start_seconds)
            and math.isfinite(span.end_seconds)
            and 0 <= span.start_seconds <= span.end_seconds
        ):
            raise InvalidArgument(
                f"{where} times [{span.start_seconds}, {span.end_seconds}] are not a valid interval; "
                "need finite 0 <= start_seconds <= end_seconds"
            )
        if not span.text.strip():
            raise InvalidArgument(f"{where}.text is empty; send the span's words, or leave the span out")
        if len(span.text) > defaults.MAX_TEXT_SPAN_CHARS:
            raise InvalidArgument(
                f"{where}.text has {len(span.text)} characters, over the limit of "
                f"{defaults.MAX_TEXT_SPAN_CHARS}; split it into cues of their own times"
            )
        if "\x00" in span.text:
            raise InvalidArgument(f"{where}.text contains NUL; send plain UTF-8 text")
        if span.language and not _LANGUAGE_TAG.fullmatch(span.language):
            raise InvalidArgument(
                f'{where}.language {span.language!r} is not a BCP-47 tag; use e.g. "en", "zh", '
                '"zh-Hans", or leave it empty when unknown'
            )
        box = span.box
        if box is not None:
            values = (box.x, box.y, box.width, box.height)
            if not (
                all(math.isfinite(v) and 0 <= v <= 1 for v in values)
                and box.x + box.width <= 1 + 1e-6
                and box.y + box.height <= 1 + 1e-6
            ):
                raise InvalidArgument(
                    f"{where}.box {values} is not inside the picture; give x, y, width, height as "
                    "fractions 0..1 of the display size with x + width <= 1 and y + height <= 1"
                )
    order = sorted(range(len(spans)), key=lambda i: (spans[i].start_seconds, spans[i].kind != "said", i))
    return tuple(spans[i] for i in order)


def unit_rows(vectors: np.ndarray, name: str) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    if not np.isfinite(vectors).all():
        raise InvalidArgument(f"{name} contain NaN or infinite values; send finite, L2-normalized rows")
    norms = np.linalg.norm(vectors.astype(np.float64), axis=1)
    bad = np.flatnonzero(np.abs(norms - 1.0) > NORM_TOLERANCE)
    if bad.size:
        raise InvalidArgument(
            f"{name} must be L2-normalized; row {int(bad[0])} has norm {norms[bad[0]]:.4g} "
            f"({bad.size} rows off by more than {NORM_TOLERANCE})"
        )
    return np.ascontiguousarray((vectors / norms[:, None]).astype(np.float32))


def query_vector(vector: np.ndarray, dim: int | None) -> np.ndarray:
    """A caller's query as a unit float32 vector of the collection's dimension."""
    v = np.asarray(vector, dtype=np.float32)
    if v.ndim == 2 and v.shape[0] == 1:
        v = v[0]
    if v.ndim != 1 or v.shape[0] == 0:
        raise InvalidArgument(f"the query vector has shape {list(np.shape(vector))}; send (dim,) or (1, dim)")
    if dim is not None and v.shape[0] != dim:
        raise InvalidArgument(
            f"the query vector has {v.shape[0]} dimensions but the stored embeddings have {dim}; "
            "embed the query with the collection's model (GetStats names it)"
        )
    if not np.isfinite(v).all():
        raise InvalidArgument("the query vector contains NaN or infinite values; send a finite embedding")
    wide = v.astype(np.float64)  # a norm past float32's range (3e38 values) stays exact here
    norm = float(np.linalg.norm(wide))
    if norm == 0.0:
        raise InvalidArgument("the query vector is all zeros; it has no direction to search in")
    return np.ascontiguousarray(wide / norm, dtype=np.float32)


def search_params(params: SearchParams) -> SearchParams:
    """Applies defaults (0 means default) and checks ranges."""
    top_k = params.top_k or DEFAULT_TOP_K
    if not 1 <= top_k <= MAX_TOP_K:
        raise InvalidArgument(f"top_k must be between 1 and {MAX_TOP_K} (0 means {DEFAULT_TOP_K}); got {params.top_k}")
    per_video = params.scenes_per_video or DEFAULT_SCENES_PER_VIDEO
    if not 1 <= per_video <= MAX_SCENES_PER_VIDEO:
        raise InvalidArgument(
            f"scenes_per_video must be between 1 and {MAX_SCENES_PER_VIDEO} (0 means {DEFAULT_SCENES_PER_VIDEO}); "
            f"got {params.scenes_per_video}"
        )
    if params.video_scoring not in ("max", "mean"):
        raise InvalidArgument(f"video_scoring must be max or mean, got {params.video_scoring!r}")
    if params.mode not in ("videos", "scenes"):
        raise InvalidArgument(f"mode must be videos or scenes, got {params.mode!r}")
    unknown = [kind for kind in params.kinds if kind not in MATCH_KINDS]
    if unknown:
        raise InvalidArgument(f"kinds {unknown} are unknown; search any of {', '.join(MATCH_KINDS)} (none means all)")
    kinds = tuple(kind for kind in MATCH_KINDS if kind in params.kinds)
    return dataclasses.replace(
        params, top_k=top_k, scenes_per_video=per_video, filter=validate_filter(params.filter), kinds=kinds
    )


def page_size(requested: int, default: int = 50, maximum: int = 1000) -> int:
    if requested < 0:
        raise InvalidArgument(f"page_size must not be negative (0 means {default}, at most {maximum}); got {requested}")
    return min(requested or default, maximum)
