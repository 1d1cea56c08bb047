"""Runs the Indexer service: `videosearch-indexer` or `python -m videosearch.indexer.server`.

The server listens at once and turns SERVING when the Embedder answers, since jobs
need the model's preprocessing; until then jobs queue and wait for it."""

from __future__ import annotations

import logging
import sys
import threading

from videosearch.common.errors import FailedPrecondition, InvalidArgument, VideoSearchError
from videosearch.common.resilience import RetryPolicy
from videosearch.common.service import ServiceApp
from videosearch.client.embedder import EmbedderClient
from videosearch.indexer.jobs.store import JobStore
from videosearch.indexer.types import Job
from videosearch.indexer.jobs.manager import JobHandle, JobManager
from videosearch.indexer.library.registry import Libraries
from videosearch.indexer.media import nvdec
from videosearch.indexer.library.upkeep import LibraryUpkeep
from videosearch.indexer.metrics import IndexerMetrics
from videosearch.indexer.paths import AllowedRoots
from videosearch.indexer.jobs.pipeline import IndexPipeline
from videosearch.indexer.jobs.reindex import Reindexer
from videosearch.indexer.text.on_screen import make_text_recognizer
from videosearch.indexer.servicer import IndexerServicer
from videosearch.indexer.settings import (
    IndexerSettings,
    decoder_settings,
    default_options,
    load,
    media_limits,
    moment_settings,
    ocr_runtime_name,
    reuse_max_difference,
    watch_times,
)
from videosearch.client.searcher import SearcherClient
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc

log = logging.getLogger("videosearch.indexer")


class IndexerApp(ServiceApp[IndexerSettings]):
    """The Indexer's parts wired together; tests start it in-process on port 0."""

    name = "indexer"
    grpc_service = indexer_pb2.DESCRIPTOR.services_by_name["IndexerService"]
    add_servicer = staticmethod(indexer_pb2_grpc.add_IndexerServiceServicer_to_server)
    read_settings = staticmethod(load)
    # A server default for job options that no job could use; a job table in use by another Indexer.
    startup_errors = (InvalidArgument, FailedPrecondition)
    serving_once_loaded = False  # SERVING once the Embedder answers (see _become_ready, started by start)

    def __init__(self, settings: IndexerSettings) -> None:
        security = settings.client_security()
        self.embedder = EmbedderClient(settings.embedder_address, timeout=settings.rpc_timeout_s, security=security)
        self.searcher = SearcherClient(settings.searcher_address, timeout=settings.rpc_timeout_s, security=security)
        roots = AllowedRoots(settings.allowed_roots, allow_hard_links=settings.allow_hard_links)
        self.settings, self._roots = settings, roots  # _pipeline needs them before ServiceApp sets settings
        # Checked once here: with --decoder-hw-acceleration cuda, no CUDA device refuses the start.
        self._decoder = nvdec.for_this_machine(decoder_settings(settings))
        self.pipeline = self._pipeline(self.embedder, self.searcher)
        self.reindexer = Reindexer(self.searcher, roots, self._pipeline, self._embedder_at, self._use_embedder)
        self.job_metrics: IndexerMetrics | None = None  # set by start, with the metrics registry
        self.jobs = JobManager(
            self._run_job,
            workers=settings.workers,
            max_queued=settings.max_queued_jobs,
            finished_kept=settings.finished_jobs_kept,
            store=JobStore(settings.state_dir) if settings.state_dir else None,
            on_finished=self._job_finished,
        )
        self.upkeep = LibraryUpkeep(self.searcher, self.jobs, cache_s=settings.location_cache_s)
        self.libraries = Libraries(
            self.upkeep,
            roots,
            default_options(settings),
            state_dir=settings.state_dir,
            times=watch_times(settings),
            max_libraries=settings.max_libraries,
        )
        super().__init__(
            settings, IndexerServicer(self.jobs, roots, default_options(settings), self.upkeep, self.libraries)
        )
        self._stop = threading.Event()

    def start(self) -> "IndexerApp":
        super().start()
        assert self.metrics is not None, "ServiceApp.start made the registry"
        self.job_metrics = IndexerMetrics(self.metrics, self.jobs)
        threading.Thread(target=self._become_ready, name="indexer-ready", daemon=True).start()
        try:
            self.libraries.start(self.settings.libraries)
        except BaseException:  # a bad --library or libraries.json: nothing may keep running
            self.stop(0)
            raise
        return self

    def _embedder_at(self, address: str) -> EmbedderClient:
        settings = self.settings
        return EmbedderClient(address, timeout=settings.rpc_timeout_s, security=settings.client_security())

    def _use_embedder(self, address: str) -> None:
        """A reindex switched the Searcher to the model at ``address``: new index jobs use it too
        (until a restart, which takes --embedder-address again)."""
        self.embedder = self._embedder_at(address)
        self.pipeline = self._pipeline(self.embedder, self.searcher)
        log.warning(
            "the Searcher now serves the model of the Embedder at %s and new index jobs use it; restart the "
            "Indexer with --embedder-address %s to keep it",
            address,
            address,
        )

    def _pipeline(self, embedder: EmbedderClient, store) -> IndexPipeline:
        """The indexing pipeline with ``embedder`` writing to ``store`` (the Searcher, or a reindex's
        staged collection); speech is always transcribed by the configured Embedder's host."""
        settings, roots = self.settings, self._roots
        return IndexPipeline(
            embedder,
            store,
            embed_requests_in_flight=settings.embed_requests_in_flight,
            moments=moment_settings(settings).validate(),
            limits=media_limits(settings),
            retry=RetryPolicy(total_s=settings.dependency_retry_s),
            roots=roots,
            decoder=self._decoder,
            reuse_max_difference=reuse_max_difference(settings),
            transcriber=self.embedder,
            text_recognizer=make_text_recognizer(threads=settings.ocr_threads, runtime=ocr_runtime_name(settings)),
            speech_timeout_s=settings.speech_timeout_s,
            nice=settings.job_nice,
        )

    def _run_job(self, job: Job, handle: JobHandle) -> None:
        try:
            if job.reindex_embedder_address:
                self.reindexer(job, handle)
                return
            self.pipeline(job, handle)
            self._forget_replaced(self.jobs.get(job.job_id))
        finally:
            if self.job_metrics is not None:
                self.job_metrics.job_ended(self.jobs.get(job.job_id))

    def _forget_replaced(self, job: Job) -> None:
        """The file at the job's path holds its content now: other videos that listed the
        path lose it. The video is stored either way, so a failure here only logs."""
        try:
            self.upkeep.job_succeeded(job)
        except VideoSearchError as exc:
            log.warning(
                "job %s: could not mark %s missing for the videos it held before: %s", job.job_id, job.path, exc
            )

    def _job_finished(self, job: Job) -> None:
        # Called by the JobManager with its lock held: the library's bookkeeping only.
        if hasattr(self, "libraries"):
            self.libraries.job_ended(job)

    def open(self) -> None:
        """Nothing to load: what the Indexer needs are the other services, awaited by _become_ready."""

    def _become_ready(self) -> None:
        """SERVING once the Embedder answers, so the Indexer knows the model's preprocessing."""
        delay = 0.2
        while not self._stop.is_set():
            try:
                info = self.embedder.model_info()
            except ValueError:  # "closed channel": a stop came first and closed the client
                if self._stop.is_set():
                    return
                raise
            except VideoSearchError as exc:
                log.info("waiting for the embedder at %s: %s", self.settings.embedder_address, exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)
                continue
            log.info("embedder ready: model %s, %d-d", info.model_id, info.embedding_dim)
            self.set_serving(True)
            return

    def drain(self, grace: float) -> None:
        self._stop.set()
        self.libraries.close()
        # Running jobs get the grace period to finish, then are cancelled, so their Watch streams end.
        self.jobs.shutdown(grace_s=grace)

    def close(self) -> None:
        self.pipeline.close()
        self.embedder.close()
        self.searcher.close()


SERVICE_NAME = IndexerApp.grpc_service.full_name

main = IndexerApp.main

if __name__ == "__main__":
    sys.exit(main())
