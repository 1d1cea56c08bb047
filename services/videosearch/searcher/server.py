"""Runs the Searcher service: `videosearch-searcher` or `python -m videosearch.searcher.server`.

The server listens (health NOT_SERVING, RPCs UNAVAILABLE) while the store loads
into memory, then turns SERVING. A data dir locked by another process ends the
process with exit code 2 and a message saying what to do.
"""

from __future__ import annotations

import sys

from videosearch.common.errors import FailedPrecondition
from videosearch.common.service import EXIT_STARTUP_FAILED, ServiceApp
from videosearch.searcher.collections import Collections, serving_settings
from videosearch.searcher.metrics import SearcherMetrics
from videosearch.searcher.ranking.quantized import PRECISIONS
from videosearch.searcher.service import Searcher, QueryEmbedder
from videosearch.searcher.servicer import SearcherServicer
from videosearch.searcher.settings import ANN_MODES, BACKENDS, SearcherSettings, load, tier_params
from videosearch.v1 import searcher_pb2, searcher_pb2_grpc

EXIT_STORE_UNUSABLE = EXIT_STARTUP_FAILED


class SearcherServer(ServiceApp[SearcherSettings]):
    """The Searcher: the LevelDB store and the ranking. ``open(query_embedder)`` embeds text
    queries with the given object instead of the Embedder at settings.embedder_address."""

    name = "searcher"
    grpc_service = searcher_pb2.DESCRIPTOR.services_by_name["SearcherService"]
    add_servicer = staticmethod(searcher_pb2_grpc.add_SearcherServiceServicer_to_server)
    read_settings = staticmethod(load)
    # e.g. the data dir is locked by another Searcher, or holds another schema.
    startup_errors = (FailedPrecondition,)

    def __init__(self, settings: SearcherSettings) -> None:
        if settings.ann not in ANN_MODES:
            raise ValueError(f"--ann must be one of {', '.join(ANN_MODES)}, got {settings.ann!r}")
        if settings.ranking_precision not in PRECISIONS:
            raise ValueError(
                f"--ranking-precision must be one of {', '.join(PRECISIONS)}, got {settings.ranking_precision!r}"
            )
        if settings.backend not in BACKENDS:
            raise ValueError(f"--backend must be one of {', '.join(BACKENDS)}, got {settings.backend!r}")
        if settings.backend == "milvus" and not settings.milvus_uri:
            raise ValueError("--backend milvus needs --milvus-uri (http://host:19530, or a local path for milvus-lite)")
        tier_params(settings)  # a quantized-tier value out of range fails at start, not once the tier opens
        super().__init__(settings, SearcherServicer())
        self.searcher: Searcher | None = None
        self.query_embedder: QueryEmbedder | None = None

    def open(self, query_embedder: QueryEmbedder | None = None) -> Searcher:
        s = self.settings
        # After a reindex switched models, collection.json names the serving collection and its Embedder.
        serving = serving_settings(s) if s.backend == "embedded" else s
        if query_embedder is None and serving.embedder_address:
            query_embedder = self._remote_embedder(serving.embedder_address)
        self.query_embedder = query_embedder
        self.searcher = Searcher.open(serving, query_embedder)
        self.servicer.attach(self.searcher, SearcherMetrics(self.searcher, self.metrics) if self.metrics else None)
        self.servicer.collections = Collections(s, self.searcher, self._open_staged, self._switched)
        return self.searcher

    def _remote_embedder(self, address: str) -> QueryEmbedder:
        from videosearch.searcher.query_embedder import RemoteQueryEmbedder, text_queries_waiting

        # The bound protects the server's threads (a stalled Embedder must leave vector search and
        # health some): half of them may wait on the Embedder, not a fixed 8 that refused text
        # queries from 32 clients on a healthy but busy Embedder.
        s = self.settings
        return RemoteQueryEmbedder(
            address,
            timeout=s.embedder_timeout,
            max_in_flight=text_queries_waiting(s.server_threads),
            security=s.client_security(),
        )

    def _open_staged(self, settings: SearcherSettings, embedder_address: str) -> Searcher:
        """A staged collection's Searcher: its own store, and the new model's Embedder for text queries."""
        return Searcher.open(settings, self._remote_embedder(embedder_address))

    def _switched(self, searcher: Searcher) -> None:
        """A reindex switched collections: serve the new one (its text embedder comes with it)."""
        self.searcher, self.query_embedder = searcher, searcher.query_embedder
        metrics = self.servicer.metrics
        if metrics is not None:
            metrics.follow(searcher)
        self.servicer.attach(searcher, metrics)

    def close(self) -> None:
        if self.servicer.collections is not None:
            self.servicer.collections.close()
        if self.searcher is not None:
            self.searcher.close()
        close = getattr(self.query_embedder, "close", None)
        if close is not None:
            close()

    def ready_message(self) -> str:
        assert self.searcher is not None, "called once open() returned"
        stats = self.searcher.stats()
        where = self.settings.milvus_uri if self.settings.backend == "milvus" else self.settings.data_dir
        return (
            f"searcher ready on {self.address}: {stats.video_count} videos, {stats.scene_count} scenes "
            f"from {where} (loaded in {self.searcher.load_seconds:.2f} s)"
        )


SERVICE_NAME = SearcherServer.grpc_service.full_name


def start_server(settings: SearcherSettings) -> SearcherServer:
    """Binds and starts the gRPC server without a store (NOT_SERVING); call load() next."""
    return SearcherServer(settings).start()


def serve(settings: SearcherSettings, query_embedder: QueryEmbedder | None = None) -> SearcherServer:
    """Starts a SERVING Searcher (for tests and in-process use)."""
    return SearcherServer.serve(settings, query_embedder)


main = SearcherServer.main

if __name__ == "__main__":
    sys.exit(main())
