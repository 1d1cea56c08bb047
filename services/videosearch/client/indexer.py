"""Client of the Indexer service, used by the CLI and the demo.

Speaks the Indexer's domain types (:class:`~videosearch.indexer.types.Job` snapshots);
gRPC failures come out as videosearch.common.errors exceptions (an unreachable Indexer
is Unavailable with a hint how to start it).
"""

from __future__ import annotations

import builtins
import dataclasses
import datetime as dt
from collections.abc import Callable, Iterator

import grpc

from videosearch.common.grpc_client import ServiceClient, raise_domain_error
from videosearch.common.security import ClientSecurity
from videosearch.indexer.media.decode_modes import DEFAULT_DECODE_MODE
from videosearch.indexer.types import PUBLIC_NAMES, ErrorReason, IndexOptions, Job, JobStage, JobState
from videosearch.indexer.library.types import LibraryState, LibraryStatus, PrunedPaths
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc


@dataclasses.dataclass(frozen=True)
class SubmitOptions:
    """What a caller may set for one job; every zero or empty field takes the server's default
    (see IndexOptions in indexer.proto for the ranges)."""

    detector: str = ""
    detector_threshold: float = 0.0
    min_scene_frames: int = 0
    frames_per_scene: int = 0
    seconds_per_sample: float = 0.0
    min_frames_per_scene: int = 0
    max_frames_per_scene: int = 0
    force: bool = False  # re-index content already stored by the same model
    # Which words are read beside the picture; None takes the server's default.
    subtitles: bool | None = None
    speech: bool | None = None
    on_screen_text: bool | None = None
    # Which frames are decoded: "all", "reference", "sparse" or "keyframes" (the fast first passes); "": the server's default.
    decode_mode: str = ""


class IndexerClient(ServiceClient):
    service = "indexer"

    def __init__(self, address: str, timeout: float = 30.0, *, security: ClientSecurity | None = None) -> None:
        super().__init__(address, timeout, security=security)
        self._stub = indexer_pb2_grpc.IndexerServiceStub(self._channel)

    def submit(self, path: str, options: SubmitOptions = SubmitOptions()) -> Job:
        """Queues a file (a path on the Indexer's machine, inside its allowed roots);
        returns the queued job at once."""
        request = indexer_pb2.SubmitIndexJobRequest(
            path=path, options=indexer_pb2.IndexOptions(**dataclasses.asdict(options))
        )
        return job_from_proto(self._call(self._stub.SubmitIndexJob, request).job)

    def reindex(self, embedder_address: str, model_id: str = "", options: SubmitOptions = SubmitOptions()) -> Job:
        """Queues a reindex of every stored video with the model the Embedder at ``embedder_address``
        serves (``model_id``: the one expected there); the Searcher switches when it is done."""
        request = indexer_pb2.ReindexCollectionRequest(
            embedder_address=embedder_address,
            model_id=model_id,
            options=indexer_pb2.IndexOptions(**dataclasses.asdict(options)),
        )
        return job_from_proto(self._call(self._stub.ReindexCollection, request).job)

    def get(self, job_id: str) -> Job:
        return job_from_proto(self._call(self._stub.GetIndexJob, indexer_pb2.GetIndexJobRequest(job_id=job_id)).job)

    def list_page(self, page_size: int = 0, page_token: str = "") -> tuple[list[Job], str]:
        """One page of jobs, newest first: (jobs, next_page_token or "")."""
        request = indexer_pb2.ListIndexJobsRequest(page_size=page_size, page_token=page_token)
        response = self._call(self._stub.ListIndexJobs, request)
        return [job_from_proto(j) for j in response.jobs], response.next_page_token

    def list(self, page_size: int = 0) -> Iterator[Job]:
        """Every job the Indexer keeps, newest first, fetched a page at a time."""
        return every_page(self.list_page, page_size)

    def watch(self, job_id: str) -> Iterator[Job]:
        """The job now, then each snapshot as it changes (every stage transition in
        order), ending with the finished job. No timeout: a job may run for hours."""
        yield from self.open_watch(job_id)

    def open_watch(self, job_id: str) -> "JobWatch":
        """Like :meth:`watch`, but another thread may end it early with ``cancel()``
        (a web page that went away)."""
        call = self._stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job_id))
        return JobWatch(call, self.service, self.address)

    def wait(self, job_id: str) -> Job:
        """Follows the job to its end and returns it finished (succeeded, failed or cancelled)."""
        *_, last = self.watch(job_id)  # the stream starts with the job as it is, so it is never empty
        return last

    def cancel(self, job_id: str) -> Job:
        """Cancels a queued or running job and returns it as it is then (a running job
        stops at its next check, so it may still read RUNNING). FailedPrecondition for a
        job already finished."""
        return job_from_proto(
            self._call(self._stub.CancelIndexJob, indexer_pb2.CancelIndexJobRequest(job_id=job_id)).job
        )

    # -- library upkeep --------------------------------------------------------
    def prune(self, folder: str = "", *, dry_run: bool = False) -> PrunedPaths:
        """Has the Indexer check the stored paths under ``folder`` (empty: under all its
        allowed roots) on its machine: gone ones marked missing, videos whose files are all
        gone removed; with ``dry_run`` nothing changes."""
        response = self._call(
            self._stub.PruneLocations, indexer_pb2.PruneLocationsRequest(folder=folder, dry_run=dry_run)
        )
        return PrunedPaths(
            dry_run=response.dry_run,
            marked_missing=[(p.video_id, p.path) for p in response.marked_missing],
            marked_present=[(p.video_id, p.path) for p in response.marked_present],
            removed=[(v.video_id, list(v.paths)) for v in response.removed],
            locations_checked=response.locations_checked,
        )

    def add_library(self, path: str) -> LibraryStatus:
        """Has the Indexer watch the folder ``path`` (on its machine, inside its allowed roots)."""
        return library_from_proto(self._call(self._stub.AddLibrary, indexer_pb2.AddLibraryRequest(path=path)).library)

    def list_libraries_page(  # builtins.list: `list` here is the method above
        self, page_size: int = 0, page_token: str = ""
    ) -> tuple[builtins.list[LibraryStatus], str]:
        """One page of libraries, by path: (libraries, next_page_token or "")."""
        response = self._call(
            self._stub.ListLibraries, indexer_pb2.ListLibrariesRequest(page_size=page_size, page_token=page_token)
        )
        return [library_from_proto(lib) for lib in response.libraries], response.next_page_token

    def list_libraries(self, page_size: int = 0) -> Iterator[LibraryStatus]:
        """Every library, fetched a page at a time."""
        return every_page(self.list_libraries_page, page_size)

    def remove_library(self, path: str) -> LibraryStatus:
        """Stops watching the library at ``path``; its videos stay indexed."""
        return library_from_proto(
            self._call(self._stub.RemoveLibrary, indexer_pb2.RemoveLibraryRequest(path=path)).library
        )


class JobWatch:
    """A WatchIndexJob stream: iterate it for the job's snapshots; ``cancel()`` from any
    thread ends the iteration quietly."""

    def __init__(self, call, service: str, address: str) -> None:
        self._call = call
        self._where = (service, address)
        self._cancelled = False

    def __iter__(self) -> Iterator[Job]:
        try:
            for update in self._call:
                yield job_from_proto(update.job)
        except grpc.RpcError as err:
            if self._cancelled and err.code() is grpc.StatusCode.CANCELLED:
                return
            raise_domain_error(err, *self._where)

    def cancel(self) -> None:
        self._cancelled = True
        self._call.cancel()


def every_page(list_page: Callable[[int, str], tuple[list, str]], page_size: int) -> Iterator:
    """The items (jobs, libraries) of ``list_page`` (one Indexer's or a fleet's) page after page, to the last."""
    token = ""
    while True:
        jobs, token = list_page(page_size, token)
        yield from jobs
        if not token:
            return


# Domain enums share their member names with the proto's values, after the prefix;
# UNSPECIFIED is the domain's NONE.
def _member(enum_type, proto_enum, prefix: str, value: int):
    name = proto_enum.Name(value).removeprefix(prefix)
    return enum_type[name] if name != "UNSPECIFIED" else enum_type["NONE"]


# A job's options as the server filled them in, field by field (PUBLIC_NAMES: the message's names).
_OPTION_WIRE_NAMES = {f.name: PUBLIC_NAMES.get(f.name, f.name) for f in dataclasses.fields(IndexOptions)}


def job_from_proto(message: indexer_pb2.IndexJob) -> Job:
    o = message.options
    return Job(
        job_id=message.job_id,
        path=message.path,
        options=dataclasses.replace(  # a server from before decode modes sends none: it decoded all frames
            IndexOptions(**{name: getattr(o, wire) for name, wire in _OPTION_WIRE_NAMES.items()}),
            decode_mode=o.decode_mode or DEFAULT_DECODE_MODE,
        ),
        state=JobState[indexer_pb2.JobState.Name(message.state).removeprefix("JOB_STATE_")],
        stage=_member(JobStage, indexer_pb2.JobStage, "JOB_STAGE_", message.stage),
        percent=message.percent,
        frames_decoded=message.frames_decoded,
        frames_total=message.frames_total,
        scenes_found=message.scenes_found,
        frames_embedded=message.frames_embedded,
        frames_to_embed=message.frames_to_embed,
        moments_found=message.moments_found,
        video_id=message.video_id,
        skipped=message.skipped,
        unchanged=message.unchanged,
        error=message.error,
        error_reason=_member(ErrorReason, indexer_pb2.JobErrorReason, "JOB_ERROR_REASON_", message.error_reason),
        stage_seconds=dict(message.stage_seconds),
        warnings=tuple(message.warnings),
        text_spans_found=message.text_spans_found,
        reindex_embedder_address=message.reindex_embedder_address,
        reindex_model_id=message.reindex_model_id,
        videos_done=message.videos_done,
        videos_total=message.videos_total,
        create_time=message.create_time.ToDatetime(tzinfo=dt.timezone.utc),
        update_time=message.update_time.ToDatetime(tzinfo=dt.timezone.utc),
    )


def library_from_proto(message: indexer_pb2.Library) -> LibraryStatus:
    return LibraryStatus(
        path=message.path,
        create_time=message.create_time.ToDatetime(tzinfo=dt.timezone.utc),
        rescan_s=message.rescan_interval_seconds,
        state=_member(LibraryState, indexer_pb2.LibraryState, "LIBRARY_STATE_", message.state)
        if message.state
        else LibraryState.STARTING,
        watching=message.watching,
        files_seen=message.files_seen,
        files_queued=message.files_queued,
        files_indexed=message.files_indexed,
        files_pruned=message.files_pruned,
        last_scan_time=message.last_scan_time.ToDatetime(tzinfo=dt.timezone.utc)
        if message.HasField("last_scan_time")
        else None,
        last_error=message.last_error,
        error_count=message.error_count,
    )
