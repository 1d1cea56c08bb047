import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_SUCCEEDED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]

class JobStage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STAGE_UNSPECIFIED: _ClassVar[JobStage]
    JOB_STAGE_HASHING: _ClassVar[JobStage]
    JOB_STAGE_DETECTING_SCENES: _ClassVar[JobStage]
    JOB_STAGE_EMBEDDING: _ClassVar[JobStage]
    JOB_STAGE_STORING: _ClassVar[JobStage]
    JOB_STAGE_TRANSCRIBING: _ClassVar[JobStage]
    JOB_STAGE_READING_TEXT: _ClassVar[JobStage]

class JobErrorReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_ERROR_REASON_UNSPECIFIED: _ClassVar[JobErrorReason]
    JOB_ERROR_REASON_UNREADABLE: _ClassVar[JobErrorReason]
    JOB_ERROR_REASON_NOT_A_VIDEO: _ClassVar[JobErrorReason]
    JOB_ERROR_REASON_EMBEDDER_UNAVAILABLE: _ClassVar[JobErrorReason]
    JOB_ERROR_REASON_SEARCHER_UNAVAILABLE: _ClassVar[JobErrorReason]
    JOB_ERROR_REASON_INTERNAL: _ClassVar[JobErrorReason]
    JOB_ERROR_REASON_EMBEDDER_REFUSED: _ClassVar[JobErrorReason]
    JOB_ERROR_REASON_SEARCHER_REFUSED: _ClassVar[JobErrorReason]
    JOB_ERROR_REASON_MODEL_MISMATCH: _ClassVar[JobErrorReason]
    JOB_ERROR_REASON_LIMIT_EXCEEDED: _ClassVar[JobErrorReason]

class LibraryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LIBRARY_STATE_UNSPECIFIED: _ClassVar[LibraryState]
    LIBRARY_STATE_STARTING: _ClassVar[LibraryState]
    LIBRARY_STATE_SCANNING: _ClassVar[LibraryState]
    LIBRARY_STATE_IDLE: _ClassVar[LibraryState]
    LIBRARY_STATE_UNAVAILABLE: _ClassVar[LibraryState]
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_SUCCEEDED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState
JOB_STAGE_UNSPECIFIED: JobStage
JOB_STAGE_HASHING: JobStage
JOB_STAGE_DETECTING_SCENES: JobStage
JOB_STAGE_EMBEDDING: JobStage
JOB_STAGE_STORING: JobStage
JOB_STAGE_TRANSCRIBING: JobStage
JOB_STAGE_READING_TEXT: JobStage
JOB_ERROR_REASON_UNSPECIFIED: JobErrorReason
JOB_ERROR_REASON_UNREADABLE: JobErrorReason
JOB_ERROR_REASON_NOT_A_VIDEO: JobErrorReason
JOB_ERROR_REASON_EMBEDDER_UNAVAILABLE: JobErrorReason
JOB_ERROR_REASON_SEARCHER_UNAVAILABLE: JobErrorReason
JOB_ERROR_REASON_INTERNAL: JobErrorReason
JOB_ERROR_REASON_EMBEDDER_REFUSED: JobErrorReason
JOB_ERROR_REASON_SEARCHER_REFUSED: JobErrorReason
JOB_ERROR_REASON_MODEL_MISMATCH: JobErrorReason
JOB_ERROR_REASON_LIMIT_EXCEEDED: JobErrorReason
LIBRARY_STATE_UNSPECIFIED: LibraryState
LIBRARY_STATE_STARTING: LibraryState
LIBRARY_STATE_SCANNING: LibraryState
LIBRARY_STATE_IDLE: LibraryState
LIBRARY_STATE_UNAVAILABLE: LibraryState

class IndexOptions(_message.Message):
    __slots__ = ("detector_threshold", "min_scene_frames", "frames_per_scene", "force", "seconds_per_sample", "min_frames_per_scene", "max_frames_per_scene", "detector", "subtitles", "speech", "on_screen_text", "decode_mode")
    DETECTOR_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    MIN_SCENE_FRAMES_FIELD_NUMBER: _ClassVar[int]
    FRAMES_PER_SCENE_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    SECONDS_PER_SAMPLE_FIELD_NUMBER: _ClassVar[int]
    MIN_FRAMES_PER_SCENE_FIELD_NUMBER: _ClassVar[int]
    MAX_FRAMES_PER_SCENE_FIELD_NUMBER: _ClassVar[int]
    DETECTOR_FIELD_NUMBER: _ClassVar[int]
    SUBTITLES_FIELD_NUMBER: _ClassVar[int]
    SPEECH_FIELD_NUMBER: _ClassVar[int]
    ON_SCREEN_TEXT_FIELD_NUMBER: _ClassVar[int]
    DECODE_MODE_FIELD_NUMBER: _ClassVar[int]
    detector_threshold: float
    min_scene_frames: int
    frames_per_scene: int
    force: bool
    seconds_per_sample: float
    min_frames_per_scene: int
    max_frames_per_scene: int
    detector: str
    subtitles: bool
    speech: bool
    on_screen_text: bool
    decode_mode: str
    def __init__(self, detector_threshold: _Optional[float] = ..., min_scene_frames: _Optional[int] = ..., frames_per_scene: _Optional[int] = ..., force: _Optional[bool] = ..., seconds_per_sample: _Optional[float] = ..., min_frames_per_scene: _Optional[int] = ..., max_frames_per_scene: _Optional[int] = ..., detector: _Optional[str] = ..., subtitles: _Optional[bool] = ..., speech: _Optional[bool] = ..., on_screen_text: _Optional[bool] = ..., decode_mode: _Optional[str] = ...) -> None: ...

class IndexJob(_message.Message):
    __slots__ = ("job_id", "path", "state", "stage", "percent", "frames_decoded", "frames_total", "scenes_found", "frames_embedded", "frames_to_embed", "video_id", "error", "error_reason", "create_time", "update_time", "options", "skipped", "stage_seconds", "moments_found", "unchanged", "warnings", "text_spans_found", "reindex_embedder_address", "reindex_model_id", "videos_done", "videos_total")
    class StageSecondsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    STAGE_FIELD_NUMBER: _ClassVar[int]
    PERCENT_FIELD_NUMBER: _ClassVar[int]
    FRAMES_DECODED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    SCENES_FOUND_FIELD_NUMBER: _ClassVar[int]
    FRAMES_EMBEDDED_FIELD_NUMBER: _ClassVar[int]
    FRAMES_TO_EMBED_FIELD_NUMBER: _ClassVar[int]
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_REASON_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    SKIPPED_FIELD_NUMBER: _ClassVar[int]
    STAGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MOMENTS_FOUND_FIELD_NUMBER: _ClassVar[int]
    UNCHANGED_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    TEXT_SPANS_FOUND_FIELD_NUMBER: _ClassVar[int]
    REINDEX_EMBEDDER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REINDEX_MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    VIDEOS_DONE_FIELD_NUMBER: _ClassVar[int]
    VIDEOS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    path: str
    state: JobState
    stage: JobStage
    percent: float
    frames_decoded: int
    frames_total: int
    scenes_found: int
    frames_embedded: int
    frames_to_embed: int
    video_id: str
    error: str
    error_reason: JobErrorReason
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    options: IndexOptions
    skipped: bool
    stage_seconds: _containers.ScalarMap[str, float]
    moments_found: int
    unchanged: bool
    warnings: _containers.RepeatedScalarFieldContainer[str]
    text_spans_found: int
    reindex_embedder_address: str
    reindex_model_id: str
    videos_done: int
    videos_total: int
    def __init__(self, job_id: _Optional[str] = ..., path: _Optional[str] = ..., state: _Optional[_Union[JobState, str]] = ..., stage: _Optional[_Union[JobStage, str]] = ..., percent: _Optional[float] = ..., frames_decoded: _Optional[int] = ..., frames_total: _Optional[int] = ..., scenes_found: _Optional[int] = ..., frames_embedded: _Optional[int] = ..., frames_to_embed: _Optional[int] = ..., video_id: _Optional[str] = ..., error: _Optional[str] = ..., error_reason: _Optional[_Union[JobErrorReason, str]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., options: _Optional[_Union[IndexOptions, _Mapping]] = ..., skipped: _Optional[bool] = ..., stage_seconds: _Optional[_Mapping[str, float]] = ..., moments_found: _Optional[int] = ..., unchanged: _Optional[bool] = ..., warnings: _Optional[_Iterable[str]] = ..., text_spans_found: _Optional[int] = ..., reindex_embedder_address: _Optional[str] = ..., reindex_model_id: _Optional[str] = ..., videos_done: _Optional[int] = ..., videos_total: _Optional[int] = ...) -> None: ...

class ReindexCollectionRequest(_message.Message):
    __slots__ = ("embedder_address", "model_id", "options")
    EMBEDDER_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    MODEL_ID_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    embedder_address: str
    model_id: str
    options: IndexOptions
    def __init__(self, embedder_address: _Optional[str] = ..., model_id: _Optional[str] = ..., options: _Optional[_Union[IndexOptions, _Mapping]] = ...) -> None: ...

class ReindexCollectionResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: IndexJob
    def __init__(self, job: _Optional[_Union[IndexJob, _Mapping]] = ...) -> None: ...

class SubmitIndexJobRequest(_message.Message):
    __slots__ = ("path", "options")
    PATH_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    path: str
    options: IndexOptions
    def __init__(self, path: _Optional[str] = ..., options: _Optional[_Union[IndexOptions, _Mapping]] = ...) -> None: ...

class SubmitIndexJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: IndexJob
    def __init__(self, job: _Optional[_Union[IndexJob, _Mapping]] = ...) -> None: ...

class WatchIndexJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class WatchIndexJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: IndexJob
    def __init__(self, job: _Optional[_Union[IndexJob, _Mapping]] = ...) -> None: ...

class GetIndexJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class GetIndexJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: IndexJob
    def __init__(self, job: _Optional[_Union[IndexJob, _Mapping]] = ...) -> None: ...

class ListIndexJobsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListIndexJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[IndexJob]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[IndexJob, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelIndexJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class CancelIndexJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: IndexJob
    def __init__(self, job: _Optional[_Union[IndexJob, _Mapping]] = ...) -> None: ...

class PruneLocationsRequest(_message.Message):
    __slots__ = ("folder", "dry_run")
    FOLDER_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    folder: str
    dry_run: bool
    def __init__(self, folder: _Optional[str] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class PrunedLocation(_message.Message):
    __slots__ = ("video_id", "path")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    path: str
    def __init__(self, video_id: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class PrunedVideo(_message.Message):
    __slots__ = ("video_id", "paths")
    VIDEO_ID_FIELD_NUMBER: _ClassVar[int]
    PATHS_FIELD_NUMBER: _ClassVar[int]
    video_id: str
    paths: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, video_id: _Optional[str] = ..., paths: _Optional[_Iterable[str]] = ...) -> None: ...

class PruneLocationsResponse(_message.Message):
    __slots__ = ("dry_run", "marked_missing", "marked_present", "removed", "locations_checked")
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    MARKED_MISSING_FIELD_NUMBER: _ClassVar[int]
    MARKED_PRESENT_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    LOCATIONS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    dry_run: bool
    marked_missing: _containers.RepeatedCompositeFieldContainer[PrunedLocation]
    marked_present: _containers.RepeatedCompositeFieldContainer[PrunedLocation]
    removed: _containers.RepeatedCompositeFieldContainer[PrunedVideo]
    locations_checked: int
    def __init__(self, dry_run: _Optional[bool] = ..., marked_missing: _Optional[_Iterable[_Union[PrunedLocation, _Mapping]]] = ..., marked_present: _Optional[_Iterable[_Union[PrunedLocation, _Mapping]]] = ..., removed: _Optional[_Iterable[_Union[PrunedVideo, _Mapping]]] = ..., locations_checked: _Optional[int] = ...) -> None: ...

class Library(_message.Message):
    __slots__ = ("path", "state", "watching", "files_seen", "files_queued", "files_indexed", "files_pruned", "last_scan_time", "last_error", "error_count", "create_time", "rescan_interval_seconds")
    PATH_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    WATCHING_FIELD_NUMBER: _ClassVar[int]
    FILES_SEEN_FIELD_NUMBER: _ClassVar[int]
    FILES_QUEUED_FIELD_NUMBER: _ClassVar[int]
    FILES_INDEXED_FIELD_NUMBER: _ClassVar[int]
    FILES_PRUNED_FIELD_NUMBER: _ClassVar[int]
    LAST_SCAN_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_COUNT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    RESCAN_INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    path: str
    state: LibraryState
    watching: bool
    files_seen: int
    files_queued: int
    files_indexed: int
    files_pruned: int
    last_scan_time: _timestamp_pb2.Timestamp
    last_error: str
    error_count: int
    create_time: _timestamp_pb2.Timestamp
    rescan_interval_seconds: float
    def __init__(self, path: _Optional[str] = ..., state: _Optional[_Union[LibraryState, str]] = ..., watching: _Optional[bool] = ..., files_seen: _Optional[int] = ..., files_queued: _Optional[int] = ..., files_indexed: _Optional[int] = ..., files_pruned: _Optional[int] = ..., last_scan_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., error_count: _Optional[int] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rescan_interval_seconds: _Optional[float] = ...) -> None: ...

class AddLibraryRequest(_message.Message):
    __slots__ = ("path",)
    PATH_FIELD_NUMBER: _ClassVar[int]
    path: str
    def __init__(self, path: _Optional[str] = ...) -> None: ...

class AddLibraryResponse(_message.Message):
    __slots__ = ("library",)
    LIBRARY_FIELD_NUMBER: _ClassVar[int]
    library: Library
    def __init__(self, library: _Optional[_Union[Library, _Mapping]] = ...) -> None: ...

class ListLibrariesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListLibrariesResponse(_message.Message):
    __slots__ = ("libraries", "next_page_token")
    LIBRARIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    libraries: _containers.RepeatedCompositeFieldContainer[Library]
    next_page_token: str
    def __init__(self, libraries: _Optional[_Iterable[_Union[Library, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class RemoveLibraryRequest(_message.Message):
    __slots__ = ("path",)
    PATH_FIELD_NUMBER: _ClassVar[int]
    path: str
    def __init__(self, path: _Optional[str] = ...) -> None: ...

class RemoveLibraryResponse(_message.Message):
    __slots__ = ("library",)
    LIBRARY_FIELD_NUMBER: _ClassVar[int]
    library: Library
    def __init__(self, library: _Optional[_Union[Library, _Mapping]] = ...) -> None: ...
