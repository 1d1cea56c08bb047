"""Protobuf <-> domain conversions of the Indexer, shared by its servicer and clients."""

from __future__ import annotations

import dataclasses

from videosearch.indexer.jobs.manager import ErrorReason, IndexOptions, Job, JobStage, JobState
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


# IndexOptions and the message have the same fields by the same names.
_OPTION_FIELDS = [field.name for field in dataclasses.fields(IndexOptions)]


def options_to_proto(options: IndexOptions) -> indexer_pb2.IndexOptions:
    return indexer_pb2.IndexOptions(**{name: getattr(options, name) for name in _OPTION_FIELDS})


def options_from_proto(message: indexer_pb2.IndexOptions, defaults: IndexOptions) -> IndexOptions:
    """A job's options: each one the request leaves at zero (unset) is the server's default
    (``force`` is false unless asked for)."""
    return IndexOptions(**{name: getattr(message, name) or getattr(defaults, name) for name in _OPTION_FIELDS}).validate()


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
        stage_seconds=job.stage_seconds,
        options=options_to_proto(job.options),
    )
    message.create_time.FromDatetime(job.create_time)
    message.update_time.FromDatetime(job.update_time)
    return message
