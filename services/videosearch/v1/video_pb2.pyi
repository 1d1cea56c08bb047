import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TextKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEXT_KIND_UNSPECIFIED: _ClassVar[TextKind]
    TEXT_KIND_SAID: _ClassVar[TextKind]
    TEXT_KIND_WRITTEN: _ClassVar[TextKind]

class TextSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    TEXT_SOURCE_UNSPECIFIED: _ClassVar[TextSource]
    TEXT_SOURCE_SUBTITLE_STREAM: _ClassVar[TextSource]
    TEXT_SOURCE_SIDECAR: _ClassVar[TextSource]
    TEXT_SOURCE_SPEECH: _ClassVar[TextSource]
    TEXT_SOURCE_OCR: _ClassVar[TextSource]
TEXT_KIND_UNSPECIFIED: TextKind
TEXT_KIND_SAID: TextKind
TEXT_KIND_WRITTEN: TextKind
TEXT_SOURCE_UNSPECIFIED: TextSource
TEXT_SOURCE_SUBTITLE_STREAM: TextSource
TEXT_SOURCE_SIDECAR: TextSource
TEXT_SOURCE_SPEECH: TextSource
TEXT_SOURCE_OCR: TextSource

class Video(_message.Message):
    __slots__ = ("video_id", "uri", "duration_seconds", "fps_numerator", "fps_denominator", "frame_count", "width", "height", "content_sha256", "model_id", "embedding_dim", "indexed_at", "scene_count", "moment_count", "locations", "decode_mode")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FPS_NUMERATOR_FIELD_NUMBER: _ClassVar[int]
    FPS_DENOMINATOR_FIELD_NUMBER: _ClassVar[int]
    FRAME_COUNT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_SHA256_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_DIM_FIELD_NUMBER: _ClassVar[int]
    INDEXED_AT_FIELD_NUMBER: _ClassVar[int]
    SCENE_COUNT_FIELD_NUMBER: _ClassVar[int]
    MOMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    LOCATIONS_FIELD_NUMBER: _ClassVar[int]
    DECODE_MODE_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    uri: str
    duration_seconds: float
    fps_numerator: int
    fps_denominator: int
    frame_count: int
    width: int
    height: int
    content_sha256: str
    model_id: str
    embedding_dim: int
    indexed_at: _timestamp_pb2.Timestamp
    scene_count: int
    moment_count: int
    locations: _containers.RepeatedCompositeFieldContainer[VideoLocation]
    decode_mode: str
    def __init__(self, video_id: _Optional[str] = ..., uri: _Optional[str] = ..., duration_seconds: _Optional[float] = ..., fps_numerator: _Optional[int] = ..., fps_denominator: _Optional[int] = ..., frame_count: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., content_sha256: _Optional[str] = ..., model_id: _Optional[str] = ..., embedding_dim: _Optional[int] = ..., indexed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., scene_count: _Optional[int] = ..., moment_count: _Optional[int] = ..., locations: _Optional[_Iterable[_Union[VideoLocation, _Mapping]]] = ..., decode_mode: _Optional[str] = ...) -> None: ...

class VideoLocation(_message.Message):
    __slots__ = ("path", "size_bytes", "mtime_ns", "missing")
    PATH_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    MTIME_NS_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    path: str
    size_bytes: int
    mtime_ns: int
    missing: bool
    def __init__(self, path: _Optional[str] = ..., size_bytes: _Optional[int] = ..., mtime_ns: _Optional[int] = ..., missing: _Optional[bool] = ...) -> None: ...

class Scene(_message.Message):
    __slots__ = ("index", "start_frame", "end_frame", "start_seconds", "end_seconds", "start_timecode", "end_timecode", "sampled_frames")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    START_FRAME_FIELD_NUMBER: _ClassVar[int]
    END_FRAME_FIELD_NUMBER: _ClassVar[int]
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    START_TIMECODE_FIELD_NUMBER: _ClassVar[int]
    END_TIMECODE_FIELD_NUMBER: _ClassVar[int]
    SAMPLED_FRAMES_FIELD_NUMBER: _ClassVar[int]
    index: int
    start_frame: int
    end_frame: int
    start_seconds: float
    end_seconds: float
    start_timecode: str
    end_timecode: str
    sampled_frames: int
    def __init__(self, index: _Optional[int] = ..., start_frame: _Optional[int] = ..., end_frame: _Optional[int] = ..., start_seconds: _Optional[float] = ..., end_seconds: _Optional[float] = ..., start_timecode: _Optional[str] = ..., end_timecode: _Optional[str] = ..., sampled_frames: _Optional[int] = ...) -> None: ...

class Moment(_message.Message):
    __slots__ = ("index", "scene_index", "start_frame", "end_frame", "start_seconds", "end_seconds", "start_timecode", "end_timecode", "sampled_frames")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    SCENE_INDEX_FIELD_NUMBER: _ClassVar[int]
    START_FRAME_FIELD_NUMBER: _ClassVar[int]
    END_FRAME_FIELD_NUMBER: _ClassVar[int]
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    START_TIMECODE_FIELD_NUMBER: _ClassVar[int]
    END_TIMECODE_FIELD_NUMBER: _ClassVar[int]
    SAMPLED_FRAMES_FIELD_NUMBER: _ClassVar[int]
    index: int
    scene_index: int
    start_frame: int
    end_frame: int
    start_seconds: float
    end_seconds: float
    start_timecode: str
    end_timecode: str
    sampled_frames: int
    def __init__(self, index: _Optional[int] = ..., scene_index: _Optional[int] = ..., start_frame: _Optional[int] = ..., end_frame: _Optional[int] = ..., start_seconds: _Optional[float] = ..., end_seconds: _Optional[float] = ..., start_timecode: _Optional[str] = ..., end_timecode: _Optional[str] = ..., sampled_frames: _Optional[int] = ...) -> None: ...

class TextBox(_message.Message):
    __slots__ = ("x", "y", "width", "height")
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    x: float
    y: float
    width: float
    height: float
    def __init__(self, x: _Optional[float] = ..., y: _Optional[float] = ..., width: _Optional[float] = ..., height: _Optional[float] = ...) -> None: ...

class TextSpan(_message.Message):
    __slots__ = ("kind", "start_seconds", "end_seconds", "text", "language", "source", "box")
    KIND_FIELD_NUMBER: _ClassVar[int]
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    LANGUAGE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    BOX_FIELD_NUMBER: _ClassVar[int]
    kind: TextKind
    start_seconds: float
    end_seconds: float
    text: str
    language: str
    source: TextSource
    box: TextBox
    def __init__(self, kind: _Optional[_Union[TextKind, str]] = ..., start_seconds: _Optional[float] = ..., end_seconds: _Optional[float] = ..., text: _Optional[str] = ..., language: _Optional[str] = ..., source: _Optional[_Union[TextSource, str]] = ..., box: _Optional[_Union[TextBox, _Mapping]] = ...) -> None: ...
