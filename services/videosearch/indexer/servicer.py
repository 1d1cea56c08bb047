"""IndexerService: converts protobuf to domain calls on the JobManager and back."""

from __future__ import annotations

from videosearch.common.errors import InvalidArgument
from videosearch.common.page_tokens import PageTokens
from videosearch.indexer.jobs import (
    ErrorReason,
    IndexOptions,
    Job,
    JobManager,
    JobStage,
    JobState,
)
from videosearch.indexer.paths import AllowedRoots
from videosearch.indexer.settings import IndexerSettings
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc

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
}
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000
_JOB_PAGES = PageTokens("ListIndexJobs", int)


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
        options=indexer_pb2.IndexOptions(
            detector_threshold=job.options.detector_threshold,
            min_scene_frames=job.options.min_scene_frames,
            frames_per_scene=job.options.frames_per_scene,
            force=job.options.force,
            seconds_per_sample=job.options.seconds_per_sample,
            min_frames_per_scene=job.options.min_frames_per_scene,
            max_frames_per_scene=job.options.max_frames_per_scene,
            detector=job.options.detector,
        ),
    )
    message.create_time.FromDatetime(job.create_time)
    message.update_time.FromDatetime(job.update_time)
    return message


def page_size_of(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument(f"page_size {requested} is negative; use 0 for the default ({DEFAULT_PAGE_SIZE})")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


class IndexerServicer(indexer_pb2_grpc.IndexerServiceServicer):
    def __init__(self, jobs: JobManager, roots: AllowedRoots, settings: IndexerSettings) -> None:
        self._jobs = jobs
        self._roots = roots
        self._settings = settings

    def _options(self, message: indexer_pb2.IndexOptions) -> IndexOptions:
        return IndexOptions(
            detector_threshold=message.detector_threshold or self._settings.detector_threshold,
            min_scene_frames=message.min_scene_frames or self._settings.min_scene_frames,
            frames_per_scene=message.frames_per_scene or self._settings.frames_per_scene,
            force=message.force,
            seconds_per_sample=message.seconds_per_sample or self._settings.seconds_per_sample,
            min_frames_per_scene=message.min_frames_per_scene or self._settings.min_frames_per_scene,
            max_frames_per_scene=message.max_frames_per_scene or self._settings.max_frames_per_scene,
            detector=message.detector or self._settings.detector,
        ).validate()

    def SubmitIndexJob(self, request, context):
        options = self._options(request.options)
        path = self._roots.resolve(request.path)
        return indexer_pb2.SubmitIndexJobResponse(job=job_to_proto(self._jobs.submit(path, options)))

    def WatchIndexJob(self, request, context):
        for job in self._jobs.watch(request.job_id, is_active=context.is_active):
            yield indexer_pb2.WatchIndexJobResponse(job=job_to_proto(job))

    def GetIndexJob(self, request, context):
        return indexer_pb2.GetIndexJobResponse(job=job_to_proto(self._jobs.get(request.job_id)))

    def ListIndexJobs(self, request, context):
        size = page_size_of(request.page_size)
        jobs, next_before = self._jobs.list(size, before=_JOB_PAGES.decode(request.page_token))
        return indexer_pb2.ListIndexJobsResponse(
            jobs=[job_to_proto(j) for j in jobs],
            next_page_token=_JOB_PAGES.encode(next_before) if next_before is not None else "",
        )

    def CancelIndexJob(self, request, context):
        return indexer_pb2.CancelIndexJobResponse(job=job_to_proto(self._jobs.cancel(request.job_id)))
