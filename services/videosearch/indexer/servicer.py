"""gRPC face of the Indexer: converts messages (see wire) and calls the JobManager.
Domain errors propagate to the shared interceptor, which maps them to status codes."""

from __future__ import annotations

from videosearch.common.errors import InvalidArgument
from videosearch.common.page_tokens import PageTokens
from videosearch.indexer.jobs.manager import IndexOptions, JobManager
from videosearch.indexer.paths import AllowedRoots
from videosearch.indexer.wire import job_to_proto, options_from_proto
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc

DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 50, 1000
_JOB_PAGES = PageTokens("ListIndexJobs", int)


def page_size_of(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument(f"page_size {requested} is negative; use 0 for the default ({DEFAULT_PAGE_SIZE})")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


class IndexerServicer(indexer_pb2_grpc.IndexerServiceServicer):
    def __init__(self, jobs: JobManager, roots: AllowedRoots, default_options: IndexOptions) -> None:
        self._jobs = jobs
        self._roots = roots
        self._default_options = default_options

    def SubmitIndexJob(self, request, context):
        options = options_from_proto(request.options, self._default_options)
        path = self._roots.resolve(request.path)
        return indexer_pb2.SubmitIndexJobResponse(job=job_to_proto(self._jobs.submit(path, options)))

    async def WatchIndexJob(self, request, context):
        # Async: an open stream waits on the server's event loop, not on a thread.
        async for job in self._jobs.watch_async(request.job_id):
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
