"""Runs the Embedder service: `videosearch-embedder` or `python -m videosearch.embedder.server`.

The server listens (health NOT_SERVING, RPCs UNAVAILABLE) while the model loads,
then turns SERVING. A model that cannot load ends the process with exit code 2
and a message saying what to do.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from videosearch.common.grpc_server import Service, configure_logging, end_process, start_service
from videosearch.embedder.engine import EmbeddingEngine
from videosearch.embedder.model import ClipEmbedder, ModelLoadError
from videosearch.embedder.servicer import EmbedderServicer
from videosearch.embedder.settings import EmbedderSettings, load
from videosearch.v1 import embedder_pb2, embedder_pb2_grpc

log = logging.getLogger("videosearch.embedder")

SERVICE_NAME = embedder_pb2.DESCRIPTOR.services_by_name["EmbedderService"].full_name
EXIT_MODEL_LOAD_FAILED = 2


@dataclass
class EmbedderServer:
    """A started Embedder: its gRPC service, servicer and (once loaded) engine."""

    settings: EmbedderSettings
    service: Service
    servicer: EmbedderServicer
    engine: EmbeddingEngine | None = None

    @property
    def address(self) -> str:
        return self.service.address

    @property
    def port(self) -> int:
        return self.service.port

    def load(self, model: ClipEmbedder | None = None) -> EmbeddingEngine:
        """Loads the model (or adopts an already loaded one) and turns SERVING."""
        s = self.settings
        if model is None:
            model = ClipEmbedder(
                s.model,
                device=s.device,
                dtype=s.dtype,
                max_batch_size=s.max_batch_size,
                max_images_per_request=s.max_images_per_request,
                max_texts_per_request=s.max_texts_per_request,
            )
        # The service's limits come from its settings, also for an already loaded model.
        self.engine = EmbeddingEngine(
            model,
            max_batch_size=s.max_batch_size,
            max_wait_ms=s.max_wait_ms,
            max_queue_images=s.max_queue_images,
            max_images_per_request=s.max_images_per_request,
            max_texts_per_request=s.max_texts_per_request,
            forward_workers=s.forward_workers,
        )
        self.servicer.attach(self.engine)
        self.service.set_serving(True)
        return self.engine

    def stop(self, grace: float = 5.0) -> None:
        self.service.stop(grace)
        if self.engine is not None:
            self.engine.close()


def start_server(settings: EmbedderSettings) -> EmbedderServer:
    """Binds and starts the gRPC server without a model (NOT_SERVING); call load() next."""
    servicer = EmbedderServicer()
    service = start_service("embedder", embedder_pb2_grpc.add_EmbedderServiceServicer_to_server, servicer,
                            SERVICE_NAME, host=settings.host, port=settings.port, port_file=settings.port_file)
    return EmbedderServer(settings, service, servicer)


def serve(settings: EmbedderSettings, model: ClipEmbedder | None = None) -> EmbedderServer:
    """Starts a SERVING Embedder (for tests and in-process use)."""
    server = start_server(settings)
    try:
        server.load(model)
    except BaseException:
        server.stop(0)
        raise
    return server


def configure_torch_threads(settings: EmbedderSettings) -> int:
    """Applies torch_threads, or splits the cores between forward workers. Process-wide."""
    threads = settings.torch_threads
    if threads <= 0 and settings.forward_workers > 1:
        threads = max(1, torch.get_num_threads() // settings.forward_workers)
    if threads > 0:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def main(argv: Sequence[str] | None = None) -> int:
    settings = load(argv)
    configure_logging(settings.log_level)
    configure_torch_threads(settings)
    server = start_server(settings)
    try:
        server.load()
    except ModelLoadError as exc:
        log.error("%s", exc)
        server.stop(0)
        return EXIT_MODEL_LOAD_FAILED
    log.info("embedder ready on %s with %s", server.address, server.engine.model_info().model_id)
    try:
        server.service.wait_for_termination()
    finally:
        if server.engine is not None:
            server.engine.close()
    # Stopped and drained: skip the interpreter's teardown of torch and transformers, which
    # can outlast a supervisor's SIGTERM grace period on a busy machine.
    end_process(0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
