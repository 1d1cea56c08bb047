"""Runs the Searcher service: `videosearch-searcher` or `python -m videosearch.searcher.server`.

The server listens (health NOT_SERVING, RPCs UNAVAILABLE) while the store loads
into memory, then turns SERVING. A data dir locked by another process ends the
process with exit code 2 and a message saying what to do.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from videosearch.common.errors import FailedPrecondition
from videosearch.common.grpc_server import Service, configure_logging, start_service
from videosearch.searcher.ann import AnnParams
from videosearch.searcher.service import Searcher, TextEmbedder
from videosearch.searcher.servicer import SearcherServicer
from videosearch.searcher.settings import SearcherSettings, load
from videosearch.v1 import searcher_pb2, searcher_pb2_grpc

log = logging.getLogger("videosearch.searcher")

SERVICE_NAME = searcher_pb2.DESCRIPTOR.services_by_name["SearcherService"].full_name
EXIT_STORE_UNUSABLE = 2


@dataclass
class SearcherServer:
    """A started Searcher: its gRPC service, servicer and (once loaded) domain object."""

    settings: SearcherSettings
    service: Service
    servicer: SearcherServicer
    searcher: Searcher | None = None
    text_embedder: TextEmbedder | None = None

    @property
    def address(self) -> str:
        return self.service.address

    @property
    def port(self) -> int:
        return self.service.port

    def load(self, text_embedder: TextEmbedder | None = None) -> Searcher:
        """Opens the store, loads every vector and turns SERVING.

        Without ``text_embedder``, text queries go to the Embedder at settings.embedder_address.
        """
        s = self.settings
        if text_embedder is None and s.embedder_address:
            from videosearch.searcher.text_embedder import RemoteTextEmbedder

            text_embedder = RemoteTextEmbedder(s.embedder_address, timeout=s.embedder_timeout)
        self.text_embedder = text_embedder
        self.searcher = Searcher.open(
            s.data_dir,
            text_embedder=text_embedder,
            ann=s.ann,
            ann_threshold=s.ann_threshold,
            ann_params=AnnParams(
                connectivity=s.ann_connectivity,
                expansion_add=s.ann_expansion_add,
                expansion_search=s.ann_expansion_search,
            ),
            ann_candidates=s.ann_candidates,
        )
        self.servicer.attach(self.searcher)
        self.service.set_serving(True)
        return self.searcher

    def stop(self, grace: float = 5.0) -> None:
        self.service.stop(grace)
        if self.searcher is not None:
            self.searcher.close()
        close = getattr(self.text_embedder, "close", None)
        if close is not None:
            close()


def start_server(settings: SearcherSettings) -> SearcherServer:
    """Binds and starts the gRPC server without a store (NOT_SERVING); call load() next."""
    if settings.ann not in ("none", "hnsw", "auto"):
        raise ValueError(f"--ann must be none, hnsw or auto, got {settings.ann!r}")
    servicer = SearcherServicer()
    service = start_service("searcher", searcher_pb2_grpc.add_SearcherServiceServicer_to_server, servicer,
                            SERVICE_NAME, host=settings.host, port=settings.port, port_file=settings.port_file)
    return SearcherServer(settings, service, servicer)


def serve(settings: SearcherSettings, text_embedder: TextEmbedder | None = None) -> SearcherServer:
    """Starts a SERVING Searcher (for tests and in-process use)."""
    server = start_server(settings)
    try:
        server.load(text_embedder)
    except BaseException:
        server.stop(0)
        raise
    return server


def main(argv: Sequence[str] | None = None) -> int:
    settings = load(argv)
    configure_logging(settings.log_level)
    if settings.ann not in ("none", "hnsw", "auto"):
        log.error("--ann must be none, hnsw or auto, got %r", settings.ann)
        return EXIT_STORE_UNUSABLE
    server = start_server(settings)
    try:
        server.load()
    except FailedPrecondition as exc:
        # e.g. the data dir is locked by another Searcher, or holds another schema.
        log.error("%s", exc)
        server.stop(0)
        return EXIT_STORE_UNUSABLE
    log.info(
        "searcher ready on %s: %d videos, %d scenes from %s (loaded in %.2f s)",
        server.address,
        server.searcher.index.video_count,
        server.searcher.index.scene_count,
        settings.data_dir,
        server.searcher.load_seconds,
    )
    try:
        server.service.wait_for_termination()
    finally:
        if server.searcher is not None:
            server.searcher.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
