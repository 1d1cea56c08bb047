"""Index jobs: a bounded worker pool, job records, progress watching and cancellation (the
records' types are in videosearch.indexer.types).

Knows nothing of gRPC or of how a video is indexed: it runs a callable per job.
"""

from __future__ import annotations

import asyncio
import builtins
import dataclasses
import datetime as dt
import itertools
import logging
import threading
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

from videosearch.common.disk import DiskFull
from videosearch.common.errors import (
    Cancelled,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
)
from videosearch.indexer.types import (
    MAX_JOB_ID_CHARS,
    ErrorReason,
    IndexOptions,
    Job,
    JobStage,
    JobState,
    job_number,
)

log = logging.getLogger(__name__)


class JobFailure(Exception):
    """Raised by a job's work to fail it with a reason and a message that says what to do."""

    def __init__(self, reason: ErrorReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class JobHandle:
    """What a running job's work sees: progress reporting and the cancel flag."""

    def __init__(self, manager: "JobManager", job_id: str) -> None:
        self._manager = manager
        self.job_id = job_id
        self.cancel_requested = threading.Event()
        # Set with cancel_requested when a caller cancelled the job; a shutdown sets only
        # cancel_requested, and the job stays queued on disk for the next start.
        self.cancelled_by_caller = False

    def update(self, **changes) -> None:
        self._manager._update(self.job_id, **changes)

    def should_stop(self) -> bool:
        return self.cancel_requested.is_set()

    def check_cancelled(self) -> None:
        if self.cancel_requested.is_set():
            raise Cancelled("job cancelled")


Work = Callable[[Job, JobHandle], None]


class JobManager:
    """Runs jobs on ``workers`` threads and keeps their records for Get/List/Watch.

    With a ``store`` (videosearch.indexer.jobs.store) the records are also on disk: a new
    manager over the same store knows every job of the last one, and runs again those it
    left queued or running (a ``kill -9`` included)."""

    def __init__(
        self,
        work: Work,
        *,
        workers: int,
        max_queued: int,
        finished_kept: int,
        store=None,
        on_finished: Callable[[Job], None] | None = None,
    ) -> None:
        self._work = work
        # Told of every job that finishes (with the lock held: it must not call back in).
        self._on_finished = on_finished
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="index-job")
        self._max_queued = max_queued
        self._finished_kept = finished_kept
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._handles: dict[str, JobHandle] = {}
        # Every snapshot that changed a job's state or stage, oldest first: WatchIndexJob
        # promises each transition in order even to a watcher that wakes up late.
        self._transitions: dict[str, list[Job]] = {}
        self._changed = threading.Condition()
        # Async watchers (watch_async) waiting on an event loop, woken on every change.
        self._listeners: set[Callable[[], None]] = set()
        self._sequence = itertools.count()
        self._closed = False
        self._store = store
        if store is not None:
            self._resume(store.load(Job))

    def _resume(self, stored: list[Job]) -> None:
        """Takes over the jobs of the previous run: finished ones as they were, unfinished ones
        queued again from the start (their work begins anew; the Searcher's atomic write
        makes a second run of a job that had stored its video harmless)."""
        stored.sort(key=lambda job: job.job_id)
        resumed = []
        for job in stored:
            if not job.state.finished:
                job = dataclasses.replace(
                    Job(
                        job_id=job.job_id,
                        path=job.path,
                        options=job.options,
                        create_time=job.create_time,
                        reindex_embedder_address=job.reindex_embedder_address,
                        reindex_model_id=job.reindex_model_id,
                    ),
                    version=job.version + 1,
                )
                self._store.put(job)
                resumed.append(job.job_id)
            self._jobs[job.job_id] = job
            self._transitions[job.job_id] = [job]
            self._handles[job.job_id] = JobHandle(self, job.job_id)
        if stored:
            self._sequence = itertools.count(max(job_number(job.job_id) for job in stored) + 1)
        self._forget_old_jobs()
        for job_id in resumed:
            self._pool.submit(self._run, job_id)
        if stored:
            log.info("took over %d jobs from the job store, %d of them queued again", len(stored), len(resumed))

    # -- submitting and running ------------------------------------------------
    def submit_reindex(self, embedder_address: str, model_id: str, options: IndexOptions) -> Job:
        """Queues a reindex job (see videosearch.indexer.jobs.reindex); its path says what it does."""
        return self.submit(
            f"reindex for the model served at {embedder_address}", options, reindex=(embedder_address, model_id)
        )

    def submit(
        self, path: str, options: IndexOptions, *, unchanged_video: str = "", reindex: tuple[str, str] | None = None
    ) -> Job:
        """Queues a job for ``path``; with ``unchanged_video`` (the file is stored unchanged as
        that video, see library.upkeep) the job is recorded as succeeded at once instead."""
        with self._changed:
            if self._closed:
                raise ResourceExhausted("the indexer is shutting down; submit again once it is back")
            if unchanged_video:
                return self._record_unchanged(path, options, unchanged_video)
            queued = sum(1 for j in self._jobs.values() if j.state is JobState.QUEUED)
            if queued >= self._max_queued:
                raise ResourceExhausted(
                    f"{queued} jobs are already queued; wait for some to finish, or raise --max-queued-jobs"
                )
            job = Job(
                job_id=f"{next(self._sequence):06d}-{uuid.uuid4().hex[:8]}",
                path=path,
                options=options,
                reindex_embedder_address=reindex[0] if reindex else "",
                reindex_model_id=reindex[1] if reindex else "",
            )
            if self._store is not None:
                # Accepted means it survives a crash: on disk before it is known (a full disk refuses it).
                self._store.put(job, sync=True)
            self._jobs[job.job_id] = job
            self._transitions[job.job_id] = [job]
            self._handles[job.job_id] = JobHandle(self, job.job_id)
            self._forget_old_jobs()
        self._pool.submit(self._run, job.job_id)
        return job

    def _record_unchanged(self, path: str, options: IndexOptions, video_id: str) -> Job:
        """(With the lock held.) A finished job for a file that needed no work."""
        job = Job(
            job_id=f"{next(self._sequence):06d}-{uuid.uuid4().hex[:8]}",
            path=path,
            options=options,
            state=JobState.SUCCEEDED,
            percent=100.0,
            video_id=video_id,
            skipped=True,
            unchanged=True,
        )
        self._jobs[job.job_id] = job
        self._transitions[job.job_id] = [job]
        self._handles[job.job_id] = JobHandle(self, job.job_id)
        self._persist(job)
        self._forget_old_jobs()
        return job

    def _run(self, job_id: str) -> None:
        handle = self._handles[job_id]
        with self._changed:
            job = self._jobs[job_id]
            if job.state is not JobState.QUEUED:
                return  # cancelled while queued
            if self._closed:
                return  # draining: a job that has not started waits on disk for the next start
        self._update(job_id, state=JobState.RUNNING)
        try:
            self._work(self._jobs[job_id], handle)
        except Cancelled:
            if self._closed and not handle.cancelled_by_caller and self._store is not None:
                log.info("job %s stopped by the shutdown; it runs again at the next start", job_id)
                return
            self._update(job_id, state=JobState.CANCELLED, stage=JobStage.NONE)
        except JobFailure as failure:
            log.warning("job %s failed: %s", job_id, failure)
            self._update(
                job_id, state=JobState.FAILED, stage=JobStage.NONE, error=str(failure), error_reason=failure.reason
            )
        except Exception:  # a job must never take the worker down
            log.exception("job %s failed unexpectedly", job_id)
            self._update(
                job_id,
                state=JobState.FAILED,
                stage=JobStage.NONE,
                error="internal error while indexing; the indexer log has the details",
                error_reason=ErrorReason.INTERNAL,
            )
        else:
            self._update(job_id, state=JobState.SUCCEEDED, stage=JobStage.NONE, percent=100.0)

    def _update(self, job_id: str, **changes) -> None:
        with self._changed:
            job = self._jobs[job_id]
            if job.state.finished:
                return  # a finished job never changes again
            updated = dataclasses.replace(
                job, **changes, update_time=dt.datetime.now(dt.timezone.utc), version=job.version + 1
            )
            self._jobs[job_id] = updated
            if (updated.state, updated.stage) != (job.state, job.stage):
                self._transitions[job_id].append(updated)
                self._persist(updated)
            if updated.state.finished and self._on_finished is not None:
                self._on_finished(updated)
            self._changed.notify_all()
            for wake in list(self._listeners):
                try:
                    wake()
                except RuntimeError:  # that watcher's event loop has closed
                    self._listeners.discard(wake)

    def _persist(self, job: Job) -> None:
        """A running job's change, on disk when there is room: a full state directory must not
        fail the job (its accepted record is on disk already, so it would run again after a restart)."""
        if self._store is None:
            return
        try:
            self._store.put(job)
        except DiskFull as exc:
            log.warning("job %s: its %s state is not on disk: %s", job.job_id, job.state.name.lower(), exc)

    def _forget_old_jobs(self) -> None:
        finished = [j.job_id for j in self._jobs.values() if j.state.finished]
        for job_id in finished[: max(0, len(finished) - self._finished_kept)]:
            if self._store is not None:
                try:
                    self._store.delete(job_id)
                except DiskFull:
                    break  # kept until there is room to forget it on disk too
            del self._jobs[job_id]
            self._handles.pop(job_id, None)
            self._transitions.pop(job_id, None)

    # -- reading ---------------------------------------------------------------
    def get(self, job_id: str) -> Job:
        if not job_id:
            raise InvalidArgument(
                "job_id is empty; give the id SubmitIndexJob returned "
                "(`videosearch jobs list`, the ListIndexJobs call, lists them)"
            )
        if len(job_id) > MAX_JOB_ID_CHARS:  # checked before the id is quoted in a message
            raise InvalidArgument(
                f"job_id is {len(job_id):,} characters; this indexer's job ids are at most "
                f"{MAX_JOB_ID_CHARS} (`videosearch jobs list` shows them)"
            )
        with self._changed:
            job = self._jobs.get(job_id)
        if job is None:
            raise NotFound(
                f"no job {job_id!r}; `videosearch jobs list` (the ListIndexJobs call) shows the ids this indexer knows"
            )
        return job

    def list(self, limit: int, *, before: int | None = None) -> tuple[list[Job], int | None]:
        """Up to ``limit`` jobs newest first, only those submitted before job number
        ``before`` (None: from the newest). Returns the page and the ``before`` of the
        next page, None when no more follow. Paging by submission number, not by
        offset, means jobs submitted meanwhile never shift a page, so none is listed twice.
        (``before`` is keyword-only so that a caller of the old ``list(offset, limit)`` fails loudly.)"""
        with self._changed:
            newest_first = [j for j in reversed(self._jobs.values()) if before is None or job_number(j.job_id) < before]
        page = newest_first[:limit]
        return page, job_number(page[-1].job_id) if len(newest_first) > limit else None

    def watch(self, job_id: str, is_active: Callable[[], bool], poll_s: float = 1.0) -> Iterator[Job]:
        """Yields the job now, then every state and stage transition in order (each as the
        snapshot that made it), then the latest snapshot after other changes; ends once the
        job finishes or the caller leaves. Progress updates inside one stage may be
        coalesced into the latest one; transitions and the final snapshot never are."""
        job = self.get(job_id)
        yield job
        while not job.state.finished and is_active():
            with self._changed:
                # wait_for calls the lambda here, before the loop rebinds job.
                self._changed.wait_for(
                    lambda: self._jobs.get(job_id, job).version != job.version,  # noqa: B023 - called within this turn
                    timeout=poll_s,
                )
                changes = self._changes_since(job)
            for job in changes:
                yield job

    async def watch_async(self, job_id: str) -> AsyncIterator[Job]:
        """:meth:`watch` for an event loop: waits for changes without holding a thread, so an
        open WatchIndexJob stream costs no server thread. Ends once the job finishes; a caller
        who leaves cancels the iteration."""
        job = self.get(job_id)
        yield job
        loop = asyncio.get_running_loop()
        changed = asyncio.Event()

        def wake() -> None:  # called by _update, on a job's thread, with the lock held
            loop.call_soon_threadsafe(changed.set)

        with self._changed:
            self._listeners.add(wake)
        try:
            while not job.state.finished:
                with self._changed:
                    changes = self._changes_since(job)
                    if not changes:
                        changed.clear()  # under the lock: a change after this sets it again
                if not changes:
                    await changed.wait()
                for job in changes:
                    yield job
        finally:
            with self._changed:
                self._listeners.discard(wake)

    def _changes_since(self, job: Job) -> builtins.list[Job]:  # `list` here is the method above
        """(With the lock held.) The transitions after ``job`` in order, then the latest snapshot,
        if anything changed since ``job``."""
        latest = self._jobs.get(job.job_id, job)
        if latest.version == job.version:
            return []
        missed = [t for t in self._transitions.get(job.job_id, ()) if job.version < t.version < latest.version]
        return [*missed, latest]

    def cancel(self, job_id: str) -> Job:
        with self._changed:
            job = self.get(job_id)
            if job.state.finished:
                raise FailedPrecondition(f"job {job_id} already finished ({job.state.value}); nothing to cancel")
            self._handles[job_id].cancelled_by_caller = True
            self._handles[job_id].cancel_requested.set()
            if job.state is JobState.QUEUED:
                self._update(job_id, state=JobState.CANCELLED)
        return self.get(job_id)

    def shutdown(self, grace_s: float = 0.0) -> None:
        """Stops taking jobs, lets running ones finish for up to ``grace_s`` seconds, then stops
        them. With a store, jobs not finished by then stay queued on disk and run at the next
        start; without one they are cancelled."""
        with self._changed:
            self._closed = True
            self._changed.wait_for(
                lambda: not any(j.state is JobState.RUNNING for j in self._jobs.values()), timeout=max(0.0, grace_s)
            )
            for handle in self._handles.values():
                handle.cancel_requested.set()
            if self._store is None:
                for job in list(self._jobs.values()):
                    if job.state is JobState.QUEUED:
                        self._update(job.job_id, state=JobState.CANCELLED)
        self._pool.shutdown(wait=True, cancel_futures=self._store is not None)
        if self._store is not None:
            self._store.close()
