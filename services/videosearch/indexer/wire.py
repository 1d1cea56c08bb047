"""Protobuf <-> domain conversions of the Indexer, shared by its servicer and clients."""

from __future__ import annotations

import dataclasses

from videosearch.indexer.types import PUBLIC_NAMES, ErrorReason, IndexOptions, Job, JobStage, JobState
from videosearch.indexer.library.types import LibraryState, LibraryStatus
from videosearch.indexer.library.upkeep import PruneReport
from videosearch.v1 import indexer_pb2

_STATES = {
    JobState.QUEUED: indexer_pb2.JOB_STATE_QUEUED,
    JobState.RUNNING: indexer_pb2.JOB_STATE_RUNNING,
    JobState.SUCCEEDED: indexer_pb2.JOB_STATE_SUCCEEDED,
    JobState.FAILED: indexer_pb2.JOB_STATE_FAILED,
    JobState.CANCELLED: indexer_pb2.JOB_STATE_CANCELLED,
}
_STAGES = {
    JobStage.NONE: indexer_pb2.JOB_STAGE_UNSPECIFIED,
    JobStage.HASHING: indexer_pb2.JOB_STAGE_HASHING,
    JobStage.DETECTING_SCENES: indexer_pb2.JOB_STAGE_DETECTING_SCENES,
    JobStage.EMBEDDING: indexer_pb2.JOB_STAGE_EMBEDDING,
    JobStage.STORING: indexer_pb2.JOB_STAGE_STORING,
    JobStage.TRANSCRIBING: indexer_pb2.JOB_STAGE_TRANSCRIBING,
    JobStage.READING_TEXT: indexer_pb2.JOB_STAGE_READING_TEXT,
}
_REASONS = {
    ErrorReason.NONE: indexer_pb2.JOB_ERROR_REASON_UNSPECIFIED,
    ErrorReason.UNREADABLE: indexer_pb2.JOB_ERROR_REASON_UNREADABLE,
    ErrorReason.NOT_A_VIDEO: indexer_pb2.JOB_ERROR_REASON_NOT_A_VIDEO,
    ErrorReason.EMBEDDER_UNAVAILABLE: indexer_pb2.JOB_ERROR_REASON_EMBEDDER_UNAVAILABLE,
    ErrorReason.SEARCHER_UNAVAILABLE: indexer_pb2.JOB_ERROR_REASON_SEARCHER_UNAVAILABLE,
    ErrorReason.INTERNAL: indexer_pb2.JOB_ERROR_REASON_INTERNAL,
    ErrorReason.EMBEDDER_REFUSED: indexer_pb2.JOB_ERROR_REASON_EMBEDDER_REFUSED,
    ErrorReason.SEARCHER_REFUSED: indexer_pb2.JOB_ERROR_REASON_SEARCHER_REFUSED,
    ErrorReason.MODEL_MISMATCH: indexer_pb2.JOB_ERROR_REASON_MODEL_MISMATCH,
    ErrorReason.LIMIT_EXCEEDED: indexer_pb2.JOB_ERROR_REASON_LIMIT_EXCEEDED,
}


# IndexOptions and the message have the same fields, by the same names but for PUBLIC_NAMES.
_OPTION_FIELDS = {field.name: PUBLIC_NAMES.get(field.name, field.name) for field in dataclasses.fields(IndexOptions)}
# Switches that default to on are `optional` in the message: unset is told apart from false.
_PRESENCE_FIELDS = {"subtitles", "speech", "on_screen_text"}


def _option(message: indexer_pb2.IndexOptions, name: str, defaults: IndexOptions):
    wire_name = _OPTION_FIELDS[name]
    if wire_name in _PRESENCE_FIELDS:
        return getattr(message, wire_name) if message.HasField(wire_name) else getattr(defaults, name)
    return getattr(message, wire_name) or getattr(defaults, name)


def options_to_proto(options: IndexOptions) -> indexer_pb2.IndexOptions:
    return indexer_pb2.IndexOptions(**{wire: getattr(options, name) for name, wire in _OPTION_FIELDS.items()})


def options_from_proto(message: indexer_pb2.IndexOptions, defaults: IndexOptions) -> IndexOptions:
    """A job's options: each one the request leaves at zero (unset) is the server's default
    (``force`` is false unless asked for)."""
    return IndexOptions(**{name: _option(message, name, defaults) for name in _OPTION_FIELDS}).validate()


def job_to_proto(job: Job) -> indexer_pb2.IndexJob:
    message = indexer_pb2.IndexJob(
        job_id=job.job_id,
        path=job.path,
        state=_STATES[job.state],
        stage=_STAGES[job.stage],
        percent=job.percent,
        frames_decoded=job.frames_decoded,
        frames_total=job.frames_total,
        scenes_found=job.scenes_found,
        frames_embedded=job.frames_embedded,
        frames_to_embed=job.frames_to_embed,
        moments_found=job.moments_found,
        video_id=job.video_id,
        error=job.error,
        error_reason=_REASONS[job.error_reason],
        skipped=job.skipped,
        unchanged=job.unchanged,
        stage_seconds=job.stage_seconds,
        warnings=list(job.warnings),
        text_spans_found=job.text_spans_found,
        reindex_embedder_address=job.reindex_embedder_address,
        reindex_model_id=job.reindex_model_id,
        videos_done=job.videos_done,
        videos_total=job.videos_total,
        options=options_to_proto(job.options),
    )
    message.create_time.FromDatetime(job.create_time)
    message.update_time.FromDatetime(job.update_time)
    return message


LIBRARY_STATES = {
    LibraryState.STARTING: indexer_pb2.LIBRARY_STATE_STARTING,
    LibraryState.SCANNING: indexer_pb2.LIBRARY_STATE_SCANNING,
    LibraryState.IDLE: indexer_pb2.LIBRARY_STATE_IDLE,
    LibraryState.UNAVAILABLE: indexer_pb2.LIBRARY_STATE_UNAVAILABLE,
}


def library_to_proto(library: LibraryStatus) -> indexer_pb2.Library:
    message = indexer_pb2.Library(
        path=library.path,
        state=LIBRARY_STATES[library.state],
        watching=library.watching,
        files_seen=library.files_seen,
        files_queued=library.files_queued,
        files_indexed=library.files_indexed,
        files_pruned=library.files_pruned,
        last_error=library.last_error,
        error_count=library.error_count,
        rescan_interval_seconds=library.rescan_s,
    )
    message.create_time.FromDatetime(library.create_time)
    if library.last_scan_time is not None:
        message.last_scan_time.FromDatetime(library.last_scan_time)
    return message


def prune_to_proto(report: PruneReport) -> indexer_pb2.PruneLocationsResponse:
    return indexer_pb2.PruneLocationsResponse(
        dry_run=report.dry_run,
        marked_missing=[indexer_pb2.PrunedLocation(video_id=v, path=loc.path) for v, loc in report.marked_missing],
        marked_present=[indexer_pb2.PrunedLocation(video_id=v, path=loc.path) for v, loc in report.marked_present],
        removed=[
            indexer_pb2.PrunedVideo(video_id=v.video_id, paths=[loc.path for loc in v.locations])
            for v in report.removed
        ],
        locations_checked=report.locations_checked,
    )
