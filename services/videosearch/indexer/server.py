"""Entry point of the Indexer service: `videosearch-indexer` or `python -m videosearch.indexer.server`."""

from __future__ import annotations

import logging
import sys
import threading

from videosearch.common.errors import VideoSearchError
from videosearch.common.grpc_server import (
    Service,
    configure_logging,
    start_service,
    wait_for_shutdown_signal,
)
from videosearch.embedder.client import EmbedderClient
from videosearch.indexer.jobs import JobManager
from videosearch.indexer.paths import AllowedRoots
from videosearch.indexer.pipeline import IndexPipeline
from videosearch.indexer.servicer import IndexerServicer
from videosearch.indexer.settings import IndexerSettings, moment_settings, load
from videosearch.searcher.client import SearcherClient
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc

log = logging.getLogger("videosearch.indexer")
SERVICE_NAME = indexer_pb2.DESCRIPTOR.services_by_name["IndexerService"].full_name


class IndexerApp:
    """The Indexer's parts wired together; tests start it in-process on port 0."""

    def __init__(self, settings: IndexerSettings) -> None:
        self.settings = settings
        self.embedder = EmbedderClient(settings.embedder_address, timeout=settings.rpc_timeout_s)
        self.searcher = SearcherClient(settings.searcher_address, timeout=settings.rpc_timeout_s)
        self.pipeline = IndexPipeline(
            self.embedder, self.searcher, embed_requests_in_flight=settings.embed_requests_in_flight,
            moments=moment_settings(settings).validate(),
        )
        self.jobs = JobManager(
            self.pipeline,
            workers=settings.workers,
            max_queued=settings.max_queued_jobs,
            finished_kept=settings.finished_jobs_kept,
        )
        self.servicer = IndexerServicer(self.jobs, AllowedRoots(settings.allowed_roots), settings)
        self.service: Service | None = None
        self._stop = threading.Event()

    @property
    def port(self) -> int:
        return self.service.port

    def start(self) -> "IndexerApp":
        s = self.settings
        self.service = start_service("indexer", indexer_pb2_grpc.add_IndexerServiceServicer_to_server, self.servicer,
                                     SERVICE_NAME, host=s.host, port=s.port, port_file=s.port_file)
        threading.Thread(target=self._become_ready, name="indexer-ready", daemon=True).start()
        return self

    def _become_ready(self) -> None:
        """SERVING once the Embedder answers, so the Indexer knows the model's preprocessing."""
        delay = 0.2
        while not self._stop.is_set():
            try:
                info = self.embedder.model_info()
            except VideoSearchError as exc:
                log.info("waiting for the embedder at %s: %s", self.settings.embedder_address, exc)
                self._stop.wait(delay)
                delay = min(delay * 2, 5.0)
                continue
            log.info("embedder ready: model %s, %d-d", info.model_id, info.embedding_dim)
            self.service.set_serving(True)
            return

    def stop(self, grace: float = 5.0) -> None:
        self._stop.set()
        if self.service is not None:
            self.service.set_serving(False)
        self.jobs.shutdown()
        if self.service is not None:
            self.service.stop(grace)
        self.pipeline.close()
        self.embedder.close()
        self.searcher.close()


def main(argv=None) -> int:
    settings = load(argv)
    configure_logging(settings.log_level)
    try:
        app = IndexerApp(settings).start()
    except (OSError, ValueError) as exc:
        print(f"videosearch-indexer: {exc}", file=sys.stderr)
        return 2
    wait_for_shutdown_signal("indexer")
    app.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
