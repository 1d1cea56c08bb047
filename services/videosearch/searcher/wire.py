"""Protobuf <-> domain conversions of the Searcher, shared by its servicer and client."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import numpy as np

from videosearch.common.errors import InvalidArgument
from videosearch.common.tensors import FLOATS, from_tensor, to_tensor
from videosearch.common.timecode import format_seconds
from videosearch.searcher.ranking.calibration import STRONG_RELEVANCE, Calibration
from videosearch.searcher.types import (
    MatchKind,
    SearchMode,
    TextKind,
    TextSource,
    VideoScoring,
    FrameScore,
    HitExplanation,
    MomentRecord,
    QueryTerm,
    SampledFrame,
    MomentHit,
    SceneRecord,
    SceneRef,
    SearchFilter,
    SearchParams,
    SearchResult,
    TextBox,
    TextMatch,
    TextSpan,
    Thumbnail,
    VideoExtras,
    VideoHit,
    VideoLocation,
    VideoRecord,
)
from videosearch.v1 import searcher_pb2, video_pb2

_SCORING_TO_PROTO = {"max": searcher_pb2.VIDEO_SCORING_MAX, "mean": searcher_pb2.VIDEO_SCORING_MEAN}
_SCORING_FROM_PROTO: dict[int, VideoScoring] = {
    searcher_pb2.VIDEO_SCORING_UNSPECIFIED: "max",
    searcher_pb2.VIDEO_SCORING_MAX: "max",
    searcher_pb2.VIDEO_SCORING_MEAN: "mean",
}
_KIND_TO_PROTO: dict[MatchKind, searcher_pb2.MatchKind] = {
    "seen": searcher_pb2.MATCH_KIND_SEEN,
    "said": searcher_pb2.MATCH_KIND_SAID,
    "written": searcher_pb2.MATCH_KIND_WRITTEN,
}
_KIND_FROM_PROTO: dict[int, MatchKind] = {value: name for name, value in _KIND_TO_PROTO.items()}
_MODE_TO_PROTO = {"videos": searcher_pb2.SEARCH_MODE_VIDEOS, "scenes": searcher_pb2.SEARCH_MODE_SCENES}
_MODE_FROM_PROTO: dict[int, SearchMode] = {
    searcher_pb2.SEARCH_MODE_UNSPECIFIED: "videos",
    searcher_pb2.SEARCH_MODE_VIDEOS: "videos",
    searcher_pb2.SEARCH_MODE_SCENES: "scenes",
}


def video_to_proto(video: VideoRecord) -> video_pb2.Video:
    message = video_pb2.Video(
        video_id=video.video_id,
        uri=video.uri,
        duration_seconds=video.duration_seconds,
        fps_numerator=video.fps.numerator,
        fps_denominator=video.fps.denominator,
        frame_count=video.frame_count,
        width=video.width,
        height=video.height,
        content_sha256=video.content_sha256,
        model_id=video.model_id,
        embedding_dim=video.embedding_dim,
        scene_count=video.scene_count,
        moment_count=video.moment_count,
        locations=[location_to_proto(location) for location in video.locations],
        decode_mode=video.decode_mode,
    )
    if video.indexed_at is not None:
        message.indexed_at.FromDatetime(video.indexed_at)
    return message


def video_from_proto(message: video_pb2.Video) -> VideoRecord:
    if message.fps_denominator <= 0 or message.fps_numerator <= 0:
        raise InvalidArgument(
            f"video fps is {message.fps_numerator}/{message.fps_denominator}; "
            "set fps_numerator and fps_denominator to positive integers (e.g. 30000/1001)"
        )
    return VideoRecord(
        video_id=message.video_id,
        uri=message.uri,
        duration_seconds=message.duration_seconds,
        fps=Fraction(message.fps_numerator, message.fps_denominator),
        frame_count=message.frame_count,
        width=message.width,
        height=message.height,
        content_sha256=message.content_sha256,
        model_id=message.model_id,
        embedding_dim=message.embedding_dim,
        indexed_at=_indexed_at(message),
        scene_count=message.scene_count,
        moment_count=message.moment_count,
        locations=tuple(location_from_proto(location) for location in message.locations),
        decode_mode=message.decode_mode,
    )


def location_to_proto(location: VideoLocation) -> video_pb2.VideoLocation:
    return video_pb2.VideoLocation(
        path=location.path, size_bytes=location.size_bytes, mtime_ns=location.mtime_ns, missing=location.missing
    )


def location_from_proto(message: video_pb2.VideoLocation) -> VideoLocation:
    return VideoLocation(message.path, message.size_bytes, message.mtime_ns, message.missing)


def _indexed_at(message: video_pb2.Video) -> dt.datetime | None:
    if not message.HasField("indexed_at"):
        return None
    try:
        return message.indexed_at.ToDatetime(tzinfo=dt.timezone.utc)
    except (ValueError, OverflowError):
        raise InvalidArgument(
            f"video.indexed_at ({message.indexed_at.seconds} s, {message.indexed_at.nanos} ns) is not a valid "
            "timestamp; give a time between years 1 and 9999, or leave it unset"
        ) from None


def scene_to_proto(scene: SceneRecord, fps: Fraction) -> video_pb2.Scene:
    return video_pb2.Scene(
        index=scene.index,
        start_frame=scene.start_frame,
        end_frame=scene.end_frame,
        start_seconds=scene.start_seconds,
        end_seconds=scene.end_seconds,
        start_timecode=format_seconds(scene.start_seconds),
        end_timecode=format_seconds(scene.end_seconds),
        sampled_frames=scene.sampled_frames,
    )


def scene_from_proto(message: video_pb2.Scene) -> SceneRecord:
    return SceneRecord(
        index=message.index,
        start_frame=message.start_frame,
        end_frame=message.end_frame,
        start_seconds=message.start_seconds,
        end_seconds=message.end_seconds,
        sampled_frames=message.sampled_frames,
    )


def moment_to_proto(moment: MomentRecord, fps: Fraction) -> video_pb2.Moment:
    return video_pb2.Moment(
        index=moment.index,
        scene_index=moment.scene_index,
        start_frame=moment.start_frame,
        end_frame=moment.end_frame,
        start_seconds=moment.start_seconds,
        end_seconds=moment.end_seconds,
        start_timecode=format_seconds(moment.start_seconds),
        end_timecode=format_seconds(moment.end_seconds),
        sampled_frames=moment.sampled_frames,
    )


def moment_from_proto(message: video_pb2.Moment) -> MomentRecord:
    return MomentRecord(
        index=message.index,
        scene_index=message.scene_index,
        start_frame=message.start_frame,
        end_frame=message.end_frame,
        start_seconds=message.start_seconds,
        end_seconds=message.end_seconds,
        sampled_frames=message.sampled_frames,
    )


def params_to_proto_fields(params: SearchParams) -> dict:
    return {
        "top_k": params.top_k,
        "scenes_per_video": params.scenes_per_video,
        "video_scoring": _SCORING_TO_PROTO[params.video_scoring],
        "mode": _MODE_TO_PROTO[params.mode],
        "approximate": params.approximate,
        "filter": filter_to_proto(params.filter),
        "page_token": params.page_token,
        "explain": params.explain,
        "include_examples": params.include_examples,
        "kinds": [_KIND_TO_PROTO[kind] for kind in params.kinds],
    }


def filter_to_proto(f: SearchFilter) -> searcher_pb2.SearchFilter:
    message = searcher_pb2.SearchFilter(path_prefix=f.path_prefix, folder=f.folder)
    for name in ("min_duration_seconds", "max_duration_seconds", "min_score", "min_relevance"):
        if getattr(f, name) is not None:
            setattr(message, name, getattr(f, name))
    if f.indexed_after is not None:
        message.indexed_after.FromDatetime(f.indexed_after)
    if f.indexed_before is not None:
        message.indexed_before.FromDatetime(f.indexed_before)
    return message


def filter_from_proto(message: searcher_pb2.SearchFilter) -> SearchFilter:
    def optional(name: str) -> float | None:
        return getattr(message, name) if message.HasField(name) else None

    def moment(name: str) -> dt.datetime | None:
        if not message.HasField(name):
            return None
        stamp = getattr(message, name)
        try:
            return stamp.ToDatetime(tzinfo=dt.timezone.utc)
        except (ValueError, OverflowError):
            raise InvalidArgument(
                f"filter.{name} ({stamp.seconds} s) is not a valid timestamp; give a time between "
                "years 1 and 9999, or leave it unset"
            ) from None

    return SearchFilter(
        path_prefix=message.path_prefix,
        folder=message.folder,
        min_duration_seconds=optional("min_duration_seconds"),
        max_duration_seconds=optional("max_duration_seconds"),
        indexed_after=moment("indexed_after"),
        indexed_before=moment("indexed_before"),
        min_score=optional("min_score"),
        min_relevance=optional("min_relevance"),
    )


def term_to_proto(term: QueryTerm) -> searcher_pb2.QueryTerm:
    message = searcher_pb2.QueryTerm(weight=term.weight)
    if term.text is not None:
        message.text = term.text
    elif term.image is not None:
        message.image = term.image
    elif term.scene is not None:
        message.scene.CopyFrom(
            searcher_pb2.SceneReference(video_id=term.scene.video_id, scene_index=term.scene.scene_index)
        )
    elif term.video_id is not None:
        message.video_id = term.video_id
    elif term.vector is not None:
        message.embedding.vector.CopyFrom(to_tensor(np.asarray(term.vector, dtype=np.float32)))
        message.embedding.model_id = term.model_id
    return message


def term_from_proto(message: searcher_pb2.QueryTerm, position: int) -> QueryTerm:
    kind = message.WhichOneof("term")
    weight = message.weight
    if kind == "text":
        return QueryTerm(text=message.text, weight=weight)
    if kind == "image":
        return QueryTerm(image=message.image, weight=weight)
    if kind == "scene":
        return QueryTerm(scene=SceneRef(message.scene.video_id, message.scene.scene_index), weight=weight)
    if kind == "video_id":
        return QueryTerm(video_id=message.video_id, weight=weight)
    if kind == "embedding":
        if not message.embedding.HasField("vector"):
            raise InvalidArgument(f"terms[{position}].embedding.vector is missing; send the query vector as a Tensor")
        vector = from_tensor(message.embedding.vector, name=f"terms[{position}].embedding.vector", allowed=FLOATS)
        return QueryTerm(vector=vector, model_id=message.embedding.model_id, weight=weight)
    raise InvalidArgument(f"terms[{position}] is empty; set one of text, image, scene, video_id or embedding")


def extras_to_proto_fields(extras: VideoExtras) -> dict:
    fields: dict = {
        "sampled_frames": [
            searcher_pb2.SampledFrame(moment_index=f.moment_index, frame=f.frame, seconds=f.seconds)
            for f in extras.frames
        ],
        "scene_thumbnails": [thumbnail_to_proto(t) for t in extras.thumbnails],
        "text_spans": [text_span_to_proto(span) for span in extras.text_spans],
    }
    if extras.frame_embeddings is not None:
        fields["frame_embeddings"] = to_tensor(np.asarray(extras.frame_embeddings, dtype=np.float32))
    return fields


def extras_from_proto(request: searcher_pb2.UpsertVideoRequest) -> VideoExtras:
    embeddings = (
        from_tensor(request.frame_embeddings, name="frame_embeddings", allowed=FLOATS)
        if request.HasField("frame_embeddings")
        else None
    )
    return VideoExtras(
        frames=tuple(SampledFrame(f.moment_index, f.frame, f.seconds) for f in request.sampled_frames),
        frame_embeddings=embeddings,
        thumbnails=tuple(thumbnail_from_proto(t) for t in request.scene_thumbnails),
        text_spans=tuple(text_span_from_proto(span, i) for i, span in enumerate(request.text_spans)),
    )


_TEXT_KIND_TO_PROTO: dict[TextKind, video_pb2.TextKind] = {
    "said": video_pb2.TEXT_KIND_SAID,
    "written": video_pb2.TEXT_KIND_WRITTEN,
}
_TEXT_KIND_FROM_PROTO: dict[int, TextKind] = {value: name for name, value in _TEXT_KIND_TO_PROTO.items()}
_TEXT_SOURCE_TO_PROTO: dict[TextSource, video_pb2.TextSource] = {
    "": video_pb2.TEXT_SOURCE_UNSPECIFIED,
    "subtitle_stream": video_pb2.TEXT_SOURCE_SUBTITLE_STREAM,
    "sidecar": video_pb2.TEXT_SOURCE_SIDECAR,
    "speech": video_pb2.TEXT_SOURCE_SPEECH,
    "ocr": video_pb2.TEXT_SOURCE_OCR,
}
_TEXT_SOURCE_FROM_PROTO: dict[int, TextSource] = {value: name for name, value in _TEXT_SOURCE_TO_PROTO.items()}


def text_span_to_proto(span: TextSpan) -> video_pb2.TextSpan:
    message = video_pb2.TextSpan(
        kind=_TEXT_KIND_TO_PROTO[span.kind],
        start_seconds=span.start_seconds,
        end_seconds=span.end_seconds,
        text=span.text,
        language=span.language,
        source=_TEXT_SOURCE_TO_PROTO[span.source],
    )
    if span.box is not None:
        message.box.CopyFrom(
            video_pb2.TextBox(x=span.box.x, y=span.box.y, width=span.box.width, height=span.box.height)
        )
    return message


def text_span_from_proto(message: video_pb2.TextSpan, position: int = 0) -> TextSpan:
    kind = _TEXT_KIND_FROM_PROTO.get(message.kind)
    if kind is None:
        raise InvalidArgument(
            f"text_spans[{position}].kind is {message.kind}; set TEXT_KIND_SAID (subtitles, speech) "
            "or TEXT_KIND_WRITTEN (on-screen text)"
        )
    source = _TEXT_SOURCE_FROM_PROTO.get(message.source)
    if source is None:
        raise InvalidArgument(f"text_spans[{position}].source {message.source} is unknown; use a TEXT_SOURCE_* value")
    box = message.box
    return TextSpan(
        kind=kind,
        start_seconds=message.start_seconds,
        end_seconds=message.end_seconds,
        text=message.text,
        language=message.language,
        source=source,
        box=TextBox(box.x, box.y, box.width, box.height) if message.HasField("box") else None,
    )


def thumbnail_to_proto(thumbnail: Thumbnail) -> searcher_pb2.Thumbnail:
    return searcher_pb2.Thumbnail(
        image_jpeg=thumbnail.image_jpeg,
        width=thumbnail.width,
        height=thumbnail.height,
        frame=thumbnail.frame,
        seconds=thumbnail.seconds,
    )


def thumbnail_from_proto(message: searcher_pb2.Thumbnail) -> Thumbnail:
    return Thumbnail(message.image_jpeg, message.width, message.height, message.frame, message.seconds)


def params_from_proto(request: searcher_pb2.SearchRequest) -> SearchParams:
    scoring = _SCORING_FROM_PROTO.get(request.video_scoring)
    if scoring is None:
        raise InvalidArgument(
            f"video_scoring {request.video_scoring} is unknown; use VIDEO_SCORING_MAX or VIDEO_SCORING_MEAN"
        )
    mode = _MODE_FROM_PROTO.get(request.mode)
    if mode is None:
        raise InvalidArgument(f"mode {request.mode} is unknown; use SEARCH_MODE_VIDEOS or SEARCH_MODE_SCENES")
    return SearchParams(
        top_k=request.top_k,
        scenes_per_video=request.scenes_per_video,
        video_scoring=scoring,
        mode=mode,
        approximate=request.approximate,
        filter=filter_from_proto(request.filter),
        page_token=request.page_token,
        explain=request.explain,
        include_examples=request.include_examples,
        kinds=tuple(_kind_from_proto(kind) for kind in request.kinds),
    )


def _kind_from_proto(kind: int) -> MatchKind:
    if kind not in _KIND_FROM_PROTO:
        raise InvalidArgument(
            f"kinds holds {kind}; use MATCH_KIND_SEEN, MATCH_KIND_SAID or MATCH_KIND_WRITTEN "
            "(or leave kinds empty for all three)"
        )
    return _KIND_FROM_PROTO[kind]


def text_match_to_proto(match: TextMatch) -> searcher_pb2.TextMatch:
    return searcher_pb2.TextMatch(
        span=text_span_to_proto(match.span),
        score=match.score,
        highlights=[searcher_pb2.TextRange(start=a, end=b) for a, b in match.highlights],
    )


def text_match_from_proto(message: searcher_pb2.TextMatch) -> TextMatch:
    return TextMatch(
        text_span_from_proto(message.span), tuple((r.start, r.end) for r in message.highlights), message.score
    )


def moment_hit_to_proto(hit: MomentHit, fps: Fraction) -> searcher_pb2.SceneMatch:
    message = searcher_pb2.SceneMatch(
        video_id=hit.video_id,
        scene=scene_to_proto(hit.scene, fps),
        score=hit.score,
        open_uri=hit.open_uri,
        fused_score=hit.fused_score,
        matched_kinds=[_KIND_TO_PROTO[kind] for kind in hit.matched_kinds],
        text_matches=[text_match_to_proto(m) for m in hit.text_matches],
        relevance=hit.relevance,
    )
    if hit.moment is not None:
        message.moment.CopyFrom(moment_to_proto(hit.moment, fps))
    if hit.explanation is not None:
        best = hit.explanation.best
        message.explanation.CopyFrom(
            searcher_pb2.HitExplanation(
                best_frame_index=hit.explanation.best_frame_index,
                best_frame=best.frame if best else 0,
                best_seconds=best.seconds if best else 0.0,
                frames=[
                    searcher_pb2.FrameScore(frame=f.frame, seconds=f.seconds, score=f.score)
                    for f in hit.explanation.frames
                ],
            )
        )
    return message


def explanation_from_proto(message: searcher_pb2.HitExplanation) -> HitExplanation:
    return HitExplanation(
        message.best_frame_index, tuple(FrameScore(f.frame, f.seconds, f.score) for f in message.frames)
    )


def result_to_proto(result: SearchResult, fps_of) -> searcher_pb2.SearchResponse:
    """``fps_of(video_id)`` gives a scene hit's frame rate (scene mode has no VideoRecord)."""
    return searcher_pb2.SearchResponse(
        videos=[
            searcher_pb2.VideoMatch(
                video=video_to_proto(hit.video),
                score=hit.score,
                scenes=[moment_hit_to_proto(s, hit.video.fps) for s in hit.scenes],
                relevance=hit.relevance,
            )
            for hit in result.videos
        ],
        scenes=[moment_hit_to_proto(s, fps_of(s.video_id)) for s in result.scenes],
        model_id=result.model_id,
        embed_ms=result.embed_ms,
        rank_ms=result.rank_ms,
        next_page_token=result.next_page_token,
        approximate_used=result.approximate_used,
        strong_relevance=result.strong_relevance,
        calibration=calibration_to_proto(result.calibration) if result.calibration is not None else None,
        model_notice=result.model_notice,
    )


def calibration_to_proto(calibration: Calibration) -> searcher_pb2.ScoreCalibration:
    return searcher_pb2.ScoreCalibration(
        query_kind=calibration.query_kind,
        null_median=calibration.null_median,
        null_p99=calibration.null_p99,
        null_pairs=calibration.null_pairs,
    )


def calibration_from_proto(message: searcher_pb2.ScoreCalibration) -> Calibration:
    return Calibration(message.query_kind, message.null_median, message.null_p99, message.null_pairs)


def result_from_proto(response: searcher_pb2.SearchResponse) -> SearchResult:
    def moment_hit(m: searcher_pb2.SceneMatch) -> MomentHit:
        return MomentHit(
            m.video_id,
            scene_from_proto(m.scene),
            m.score,
            moment_from_proto(m.moment) if m.HasField("moment") else None,
            m.open_uri,
            explanation_from_proto(m.explanation) if m.HasField("explanation") else None,
            tuple(_KIND_FROM_PROTO[k] for k in m.matched_kinds if k in _KIND_FROM_PROTO),
            tuple(text_match_from_proto(t) for t in m.text_matches),
            m.fused_score,
            relevance=m.relevance,
        )

    return SearchResult(
        videos=[
            VideoHit(video_from_proto(v.video), v.score, [moment_hit(s) for s in v.scenes], v.relevance)
            for v in response.videos
        ],
        scenes=[moment_hit(s) for s in response.scenes],
        model_id=response.model_id,
        embed_ms=response.embed_ms,
        rank_ms=response.rank_ms,
        next_page_token=response.next_page_token,
        approximate_used=response.approximate_used,
        # An older Searcher sends no calibration: 0 there means "unknown", read as the default.
        strong_relevance=response.strong_relevance or STRONG_RELEVANCE,
        calibration=calibration_from_proto(response.calibration) if response.HasField("calibration") else None,
        model_notice=response.model_notice,
    )
