import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from videosearch.v1 import tensor_pb2 as _tensor_pb2
from videosearch.v1 import video_pb2 as _video_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VideoScoring(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VIDEO_SCORING_UNSPECIFIED: _ClassVar[VideoScoring]
    VIDEO_SCORING_MAX: _ClassVar[VideoScoring]
    VIDEO_SCORING_MEAN: _ClassVar[VideoScoring]

class SearchMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEARCH_MODE_UNSPECIFIED: _ClassVar[SearchMode]
    SEARCH_MODE_VIDEOS: _ClassVar[SearchMode]
    SEARCH_MODE_SCENES: _ClassVar[SearchMode]

class MatchKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MATCH_KIND_UNSPECIFIED: _ClassVar[MatchKind]
    MATCH_KIND_SEEN: _ClassVar[MatchKind]
    MATCH_KIND_SAID: _ClassVar[MatchKind]
    MATCH_KIND_WRITTEN: _ClassVar[MatchKind]
VIDEO_SCORING_UNSPECIFIED: VideoScoring
VIDEO_SCORING_MAX: VideoScoring
VIDEO_SCORING_MEAN: VideoScoring
SEARCH_MODE_UNSPECIFIED: SearchMode
SEARCH_MODE_VIDEOS: SearchMode
SEARCH_MODE_SCENES: SearchMode
MATCH_KIND_UNSPECIFIED: MatchKind
MATCH_KIND_SEEN: MatchKind
MATCH_KIND_SAID: MatchKind
MATCH_KIND_WRITTEN: MatchKind

class SampledFrame(_message.Message):
    __slots__ = ("moment_index", "frame", "seconds")
    MOMENT_INDEX_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    moment_index: int
    frame: int
    seconds: float
    def __init__(self, moment_index: _Optional[int] = ..., frame: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...

class Thumbnail(_message.Message):
    __slots__ = ("image_jpeg", "width", "height", "frame", "seconds")
    IMAGE_JPEG_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    image_jpeg: bytes
    width: int
    height: int
    frame: int
    seconds: float
    def __init__(self, image_jpeg: _Optional[bytes] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., frame: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...

class UpsertVideoRequest(_message.Message):
    __slots__ = ("video", "scenes", "embeddings", "moments", "sampled_frames", "frame_embeddings", "scene_thumbnails", "text_spans", "staged")
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    SCENES_FIELD_NUMBER: _ClassVar[int]
    EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    MOMENTS_FIELD_NUMBER: _ClassVar[int]
    SAMPLED_FRAMES_FIELD_NUMBER: _ClassVar[int]
    FRAME_EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    SCENE_THUMBNAILS_FIELD_NUMBER: _ClassVar[int]
    TEXT_SPANS_FIELD_NUMBER: _ClassVar[int]
    STAGED_FIELD_NUMBER: _ClassVar[int]
    video: _video_pb2.Video
    scenes: _containers.RepeatedCompositeFieldContainer[_video_pb2.Scene]
    embeddings: _tensor_pb2.Tensor
    moments: _containers.RepeatedCompositeFieldContainer[_video_pb2.Moment]
    sampled_frames: _containers.RepeatedCompositeFieldContainer[SampledFrame]
    frame_embeddings: _tensor_pb2.Tensor
    scene_thumbnails: _containers.RepeatedCompositeFieldContainer[Thumbnail]
    text_spans: _containers.RepeatedCompositeFieldContainer[_video_pb2.TextSpan]
    staged: bool
    def __init__(self, video: _Optional[_Union[_video_pb2.Video, _Mapping]] = ..., scenes: _Optional[_Iterable[_Union[_video_pb2.Scene, _Mapping]]] = ..., embeddings: _Optional[_Union[_tensor_pb2.Tensor, _Mapping]] = ..., moments: _Optional[_Iterable[_Union[_video_pb2.Moment, _Mapping]]] = ..., sampled_frames: _Optional[_Iterable[_Union[SampledFrame, _Mapping]]] = ..., frame_embeddings: _Optional[_Union[_tensor_pb2.Tensor, _Mapping]] = ..., scene_thumbnails: _Optional[_Iterable[_Union[Thumbnail, _Mapping]]] = ..., text_spans: _Optional[_Iterable[_Union[_video_pb2.TextSpan, _Mapping]]] = ..., staged: _Optional[bool] = ...) -> None: ...

class StageCollectionRequest(_message.Message):
    __slots__ = ("model_id", "embedder_address")
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    embedder_address: str
    def __init__(self, model_id: _Optional[str] = ..., embedder_address: _Optional[str] = ...) -> None: ...

class StageCollectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SwitchCollectionRequest(_message.Message):
    __slots__ = ("model_id",)
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    def __init__(self, model_id: _Optional[str] = ...) -> None: ...

class SwitchCollectionResponse(_message.Message):
    __slots__ = ("stats",)
    STATS_FIELD_NUMBER: _ClassVar[int]
    stats: GetStatsResponse
    def __init__(self, stats: _Optional[_Union[GetStatsResponse, _Mapping]] = ...) -> None: ...

class DropStagedCollectionRequest(_message.Message):
    __slots__ = ("model_id",)
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    model_id: str
    def __init__(self, model_id: _Optional[str] = ...) -> None: ...

class DropStagedCollectionResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class UpsertVideoResponse(_message.Message):
    __slots__ = ("video", "replaced")
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    REPLACED_FIELD_NUMBER: _ClassVar[int]
    video: _video_pb2.Video
    replaced: bool
    def __init__(self, video: _Optional[_Union[_video_pb2.Video, _Mapping]] = ..., replaced: _Optional[bool] = ...) -> None: ...

class GetVideoRequest(_message.Message):
    __slots__ = ("video_id", "include_embeddings")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    include_embeddings: bool
    def __init__(self, video_id: _Optional[str] = ..., include_embeddings: _Optional[bool] = ...) -> None: ...

class GetVideoResponse(_message.Message):
    __slots__ = ("video", "scenes", "moments", "moment_embeddings", "scene_embeddings", "text_spans")
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    SCENES_FIELD_NUMBER: _ClassVar[int]
    MOMENTS_FIELD_NUMBER: _ClassVar[int]
    MOMENT_EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    SCENE_EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    TEXT_SPANS_FIELD_NUMBER: _ClassVar[int]
    video: _video_pb2.Video
    scenes: _containers.RepeatedCompositeFieldContainer[_video_pb2.Scene]
    moments: _containers.RepeatedCompositeFieldContainer[_video_pb2.Moment]
    moment_embeddings: _tensor_pb2.Tensor
    scene_embeddings: _tensor_pb2.Tensor
    text_spans: _containers.RepeatedCompositeFieldContainer[_video_pb2.TextSpan]
    def __init__(self, video: _Optional[_Union[_video_pb2.Video, _Mapping]] = ..., scenes: _Optional[_Iterable[_Union[_video_pb2.Scene, _Mapping]]] = ..., moments: _Optional[_Iterable[_Union[_video_pb2.Moment, _Mapping]]] = ..., moment_embeddings: _Optional[_Union[_tensor_pb2.Tensor, _Mapping]] = ..., scene_embeddings: _Optional[_Union[_tensor_pb2.Tensor, _Mapping]] = ..., text_spans: _Optional[_Iterable[_Union[_video_pb2.TextSpan, _Mapping]]] = ...) -> None: ...

class GetSceneThumbnailRequest(_message.Message):
    __slots__ = ("video_id", "scene_index")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    SCENE_INDEX_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    scene_index: int
    def __init__(self, video_id: _Optional[str] = ..., scene_index: _Optional[int] = ...) -> None: ...

class GetSceneThumbnailResponse(_message.Message):
    __slots__ = ("thumbnail",)
    THUMBNAIL_FIELD_NUMBER: _ClassVar[int]
    thumbnail: Thumbnail
    def __init__(self, thumbnail: _Optional[_Union[Thumbnail, _Mapping]] = ...) -> None: ...

class ListVideosRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListVideosResponse(_message.Message):
    __slots__ = ("videos", "next_page_token", "total_size")
    VIDEOS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TOTAL_SIZE_FIELD_NUMBER: _ClassVar[int]
    videos: _containers.RepeatedCompositeFieldContainer[_video_pb2.Video]
    next_page_token: str
    total_size: int
    def __init__(self, videos: _Optional[_Iterable[_Union[_video_pb2.Video, _Mapping]]] = ..., next_page_token: _Optional[str] = ..., total_size: _Optional[int] = ...) -> None: ...

class DeleteVideoRequest(_message.Message):
    __slots__ = ("video_id",)
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    def __init__(self, video_id: _Optional[str] = ...) -> None: ...

class DeleteVideoResponse(_message.Message):
    __slots__ = ("deleted_scenes",)
    DELETED_SCENES_FIELD_NUMBER: _ClassVar[int]
    deleted_scenes: int
    def __init__(self, deleted_scenes: _Optional[int] = ...) -> None: ...

class QueryEmbedding(_message.Message):
    __slots__ = ("vector", "model_id")
    VECTOR_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    vector: _tensor_pb2.Tensor
    model_id: str
    def __init__(self, vector: _Optional[_Union[_tensor_pb2.Tensor, _Mapping]] = ..., model_id: _Optional[str] = ...) -> None: ...

class SceneReference(_message.Message):
    __slots__ = ("video_id", "scene_index")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    SCENE_INDEX_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    scene_index: int
    def __init__(self, video_id: _Optional[str] = ..., scene_index: _Optional[int] = ...) -> None: ...

class QueryTerm(_message.Message):
    __slots__ = ("text", "image", "scene", "video_id", "embedding", "weight")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    SCENE_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    text: str
    image: bytes
    scene: SceneReference
    video_id: str
    embedding: QueryEmbedding
    weight: float
    def __init__(self, text: _Optional[str] = ..., image: _Optional[bytes] = ..., scene: _Optional[_Union[SceneReference, _Mapping]] = ..., video_id: _Optional[str] = ..., embedding: _Optional[_Union[QueryEmbedding, _Mapping]] = ..., weight: _Optional[float] = ...) -> None: ...

class SearchFilter(_message.Message):
    __slots__ = ("path_prefix", "folder", "min_duration_seconds", "max_duration_seconds", "indexed_after", "indexed_before", "min_score", "min_relevance")
    PATH_PREFIX_FIELD_NUMBER: _ClassVar[int]
    FOLDER_FIELD_NUMBER: _ClassVar[int]
    MIN_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MAX_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    INDEXED_AFTER_FIELD_NUMBER: _ClassVar[int]
    INDEXED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    MIN_RELEVANCE_FIELD_NUMBER: _ClassVar[int]
    path_prefix: str
    folder: str
    min_duration_seconds: float
    max_duration_seconds: float
    indexed_after: _timestamp_pb2.Timestamp
    indexed_before: _timestamp_pb2.Timestamp
    min_score: float
    min_relevance: float
    def __init__(self, path_prefix: _Optional[str] = ..., folder: _Optional[str] = ..., min_duration_seconds: _Optional[float] = ..., max_duration_seconds: _Optional[float] = ..., indexed_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., indexed_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., min_score: _Optional[float] = ..., min_relevance: _Optional[float] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("text", "embedding", "top_k", "scenes_per_video", "video_scoring", "mode", "approximate", "terms", "filter", "page_token", "explain", "include_examples", "kinds")
    TEXT_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_FIELD_NUMBER: _ClassVar[int]
    TOP_K_FIELD_NUMBER: _ClassVar[int]
    SCENES_PER_VIDEO_FIELD_NUMBER: _ClassVar[int]
    VIDEO_SCORING_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    APPROXIMATE_FIELD_NUMBER: _ClassVar[int]
    TERMS_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    text: str
    embedding: QueryEmbedding
    top_k: int
    scenes_per_video: int
    video_scoring: VideoScoring
    mode: SearchMode
    approximate: bool
    terms: _containers.RepeatedCompositeFieldContainer[QueryTerm]
    filter: SearchFilter
    page_token: str
    explain: bool
    include_examples: bool
    kinds: _containers.RepeatedScalarFieldContainer[MatchKind]
    def __init__(self, text: _Optional[str] = ..., embedding: _Optional[_Union[QueryEmbedding, _Mapping]] = ..., top_k: _Optional[int] = ..., scenes_per_video: _Optional[int] = ..., video_scoring: _Optional[_Union[VideoScoring, str]] = ..., mode: _Optional[_Union[SearchMode, str]] = ..., approximate: _Optional[bool] = ..., terms: _Optional[_Iterable[_Union[QueryTerm, _Mapping]]] = ..., filter: _Optional[_Union[SearchFilter, _Mapping]] = ..., page_token: _Optional[str] = ..., explain: _Optional[bool] = ..., include_examples: _Optional[bool] = ..., kinds: _Optional[_Iterable[_Union[MatchKind, str]]] = ...) -> None: ...

class TextRange(_message.Message):
    __slots__ = ("start", "end")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    start: int
    end: int
    def __init__(self, start: _Optional[int] = ..., end: _Optional[int] = ...) -> None: ...

class TextMatch(_message.Message):
    __slots__ = ("span", "highlights", "score")
    SPAN_FIELD_NUMBER: _ClassVar[int]
    HIGHLIGHTS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    span: _video_pb2.TextSpan
    highlights: _containers.RepeatedCompositeFieldContainer[TextRange]
    score: float
    def __init__(self, span: _Optional[_Union[_video_pb2.TextSpan, _Mapping]] = ..., highlights: _Optional[_Iterable[_Union[TextRange, _Mapping]]] = ..., score: _Optional[float] = ...) -> None: ...

class HitExplanation(_message.Message):
    __slots__ = ("best_frame_index", "best_frame", "best_seconds", "frames")
    BEST_FRAME_INDEX_FIELD_NUMBER: _ClassVar[int]
    BEST_FRAME_FIELD_NUMBER: _ClassVar[int]
    BEST_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FRAMES_FIELD_NUMBER: _ClassVar[int]
    best_frame_index: int
    best_frame: int
    best_seconds: float
    frames: _containers.RepeatedCompositeFieldContainer[FrameScore]
    def __init__(self, best_frame_index: _Optional[int] = ..., best_frame: _Optional[int] = ..., best_seconds: _Optional[float] = ..., frames: _Optional[_Iterable[_Union[FrameScore, _Mapping]]] = ...) -> None: ...

class FrameScore(_message.Message):
    __slots__ = ("frame", "seconds", "score")
    FRAME_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    frame: int
    seconds: float
    score: float
    def __init__(self, frame: _Optional[int] = ..., seconds: _Optional[float] = ..., score: _Optional[float] = ...) -> None: ...

class SceneMatch(_message.Message):
    __slots__ = ("video_id", "scene", "score", "moment", "open_uri", "explanation", "matched_kinds", "text_matches", "fused_score", "relevance")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    SCENE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    MOMENT_FIELD_NUMBER: _ClassVar[int]
    OPEN_URI_FIELD_NUMBER: _ClassVar[int]
    EXPLANATION_FIELD_NUMBER: _ClassVar[int]
    MATCHED_KINDS_FIELD_NUMBER: _ClassVar[int]
    TEXT_MATCHES_FIELD_NUMBER: _ClassVar[int]
    FUSED_SCORE_FIELD_NUMBER: _ClassVar[int]
    RELEVANCE_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    scene: _video_pb2.Scene
    score: float
    moment: _video_pb2.Moment
    open_uri: str
    explanation: HitExplanation
    matched_kinds: _containers.RepeatedScalarFieldContainer[MatchKind]
    text_matches: _containers.RepeatedCompositeFieldContainer[TextMatch]
    fused_score: float
    relevance: float
    def __init__(self, video_id: _Optional[str] = ..., scene: _Optional[_Union[_video_pb2.Scene, _Mapping]] = ..., score: _Optional[float] = ..., moment: _Optional[_Union[_video_pb2.Moment, _Mapping]] = ..., open_uri: _Optional[str] = ..., explanation: _Optional[_Union[HitExplanation, _Mapping]] = ..., matched_kinds: _Optional[_Iterable[_Union[MatchKind, str]]] = ..., text_matches: _Optional[_Iterable[_Union[TextMatch, _Mapping]]] = ..., fused_score: _Optional[float] = ..., relevance: _Optional[float] = ...) -> None: ...

class VideoMatch(_message.Message):
    __slots__ = ("video", "score", "scenes", "relevance")
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SCENES_FIELD_NUMBER: _ClassVar[int]
    RELEVANCE_FIELD_NUMBER: _ClassVar[int]
    video: _video_pb2.Video
    score: float
    scenes: _containers.RepeatedCompositeFieldContainer[SceneMatch]
    relevance: float
    def __init__(self, video: _Optional[_Union[_video_pb2.Video, _Mapping]] = ..., score: _Optional[float] = ..., scenes: _Optional[_Iterable[_Union[SceneMatch, _Mapping]]] = ..., relevance: _Optional[float] = ...) -> None: ...

class ScoreCalibration(_message.Message):
    __slots__ = ("query_kind", "null_median", "null_p99", "null_pairs")
    QUERY_KIND_FIELD_NUMBER: _ClassVar[int]
    NULL_MEDIAN_FIELD_NUMBER: _ClassVar[int]
    NULL_P99_FIELD_NUMBER: _ClassVar[int]
    NULL_PAIRS_FIELD_NUMBER: _ClassVar[int]
    query_kind: str
    null_median: float
    null_p99: float
    null_pairs: int
    def __init__(self, query_kind: _Optional[str] = ..., null_median: _Optional[float] = ..., null_p99: _Optional[float] = ..., null_pairs: _Optional[int] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("videos", "scenes", "model_id", "embed_ms", "rank_ms", "next_page_token", "approximate_used", "strong_relevance", "calibration", "model_notice")
    VIDEOS_FIELD_NUMBER: _ClassVar[int]
    SCENES_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    EMBED_MS_FIELD_NUMBER: _ClassVar[int]
    RANK_MS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    APPROXIMATE_USED_FIELD_NUMBER: _ClassVar[int]
    STRONG_RELEVANCE_FIELD_NUMBER: _ClassVar[int]
    CALIBRATION_FIELD_NUMBER: _ClassVar[int]
    MODEL_NOTICE_FIELD_NUMBER: _ClassVar[int]
    videos: _containers.RepeatedCompositeFieldContainer[VideoMatch]
    scenes: _containers.RepeatedCompositeFieldContainer[SceneMatch]
    model_id: str
    embed_ms: float
    rank_ms: float
    next_page_token: str
    approximate_used: bool
    strong_relevance: float
    calibration: ScoreCalibration
    model_notice: str
    def __init__(self, videos: _Optional[_Iterable[_Union[VideoMatch, _Mapping]]] = ..., scenes: _Optional[_Iterable[_Union[SceneMatch, _Mapping]]] = ..., model_id: _Optional[str] = ..., embed_ms: _Optional[float] = ..., rank_ms: _Optional[float] = ..., next_page_token: _Optional[str] = ..., approximate_used: _Optional[bool] = ..., strong_relevance: _Optional[float] = ..., calibration: _Optional[_Union[ScoreCalibration, _Mapping]] = ..., model_notice: _Optional[str] = ...) -> None: ...

class GetStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetStatsResponse(_message.Message):
    __slots__ = ("video_count", "scene_count", "moment_count", "model_id", "embedding_dim", "approximate_index", "staged_model_id", "staged_video_count")
    VIDEO_COUNT_FIELD_NUMBER: _ClassVar[int]
    SCENE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MOMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_DIM_FIELD_NUMBER: _ClassVar[int]
    APPROXIMATE_INDEX_FIELD_NUMBER: _ClassVar[int]
    STAGED_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    STAGED_VIDEO_COUNT_FIELD_NUMBER: _ClassVar[int]
    video_count: int
    scene_count: int
    moment_count: int
    model_id: str
    embedding_dim: int
    approximate_index: bool
    staged_model_id: str
    staged_video_count: int
    def __init__(self, video_count: _Optional[int] = ..., scene_count: _Optional[int] = ..., moment_count: _Optional[int] = ..., model_id: _Optional[str] = ..., embedding_dim: _Optional[int] = ..., approximate_index: _Optional[bool] = ..., staged_model_id: _Optional[str] = ..., staged_video_count: _Optional[int] = ...) -> None: ...

class UpdateVideoLocationsRequest(_message.Message):
    __slots__ = ("video_id", "locations")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    locations: _containers.RepeatedCompositeFieldContainer[_video_pb2.VideoLocation]
    def __init__(self, video_id: _Optional[str] = ..., locations: _Optional[_Iterable[_Union[_video_pb2.VideoLocation, _Mapping]]] = ...) -> None: ...

class UpdateVideoLocationsResponse(_message.Message):
    __slots__ = ("video",)
    VIDEO_FIELD_NUMBER: _ClassVar[int]
    video: _video_pb2.Video
    def __init__(self, video: _Optional[_Union[_video_pb2.Video, _Mapping]] = ...) -> None: ...
