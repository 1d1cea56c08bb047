"""gRPC face of the Indexer: converts messages (see wire) and calls the JobManager.
Domain errors propagate to the shared interceptor, which maps them to status codes."""

from __future__ import annotations

from videosearch.common.errors import InvalidArgument
from videosearch.common.page_tokens import PageTokens
from videosearch.indexer.types import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, IndexOptions
from videosearch.indexer.jobs.manager import JobManager
from videosearch.indexer.library.registry import Libraries
from videosearch.indexer.library.upkeep import LibraryUpkeep, prune_scope
from videosearch.indexer.paths import AllowedRoots
from videosearch.indexer.wire import job_to_proto, library_to_proto, options_from_proto, prune_to_proto
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc

_JOB_PAGES = PageTokens("ListIndexJobs", int)
_LIBRARY_PAGES = PageTokens("ListLibraries", str)


def page_size_of(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument(f"page_size {requested} is negative; use 0 for the default ({DEFAULT_PAGE_SIZE})")
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


class IndexerServicer(indexer_pb2_grpc.IndexerServiceServicer):
    def __init__(
        self,
        jobs: JobManager,
        roots: AllowedRoots,
        default_options: IndexOptions,
        upkeep: LibraryUpkeep,
        libraries: Libraries,
    ) -> None:
        self._jobs = jobs
        self._roots = roots
        self._default_options = default_options
        self._upkeep = upkeep
        self._libraries = libraries

    def SubmitIndexJob(self, request, context):
        options = options_from_proto(request.options, self._default_options)
        path = self._roots.resolve(request.path)
        return indexer_pb2.SubmitIndexJobResponse(job=job_to_proto(self._upkeep.submit(path, options)))

    def ReindexCollection(self, request, context):
        if not request.embedder_address:
            raise InvalidArgument("embedder_address is empty; give the host:port of an Embedder serving the new model")
        options = options_from_proto(request.options, self._default_options)
        job = self._jobs.submit_reindex(request.embedder_address, request.model_id, options)
        return indexer_pb2.ReindexCollectionResponse(job=job_to_proto(job))

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

    def PruneLocations(self, request, context):
        checkable = prune_scope(self._roots.contains, request.folder)
        return prune_to_proto(self._upkeep.prune(checkable, dry_run=request.dry_run))

    def AddLibrary(self, request, context):
        return indexer_pb2.AddLibraryResponse(library=library_to_proto(self._libraries.add(request.path)))

    def ListLibraries(self, request, context):
        size = page_size_of(request.page_size)
        libraries, next_after = self._libraries.page(size, after=_LIBRARY_PAGES.decode(request.page_token))
        return indexer_pb2.ListLibrariesResponse(
            libraries=[library_to_proto(lib) for lib in libraries],
            next_page_token=_LIBRARY_PAGES.encode(next_after) if next_after is not None else "",
        )

    def RemoveLibrary(self, request, context):
        return indexer_pb2.RemoveLibraryResponse(library=library_to_proto(self._libraries.remove(request.path)))
