"""Runs the Embedder service: `videosearch-embedder` or `python -m videosearch.embedder.server`.

The server listens (health NOT_SERVING, RPCs UNAVAILABLE) while the model loads,
then turns SERVING. A model that cannot load ends the process with exit code 2
and a message saying what to do.
"""

from __future__ import annotations

import logging
import sys

import torch

from videosearch.common.service import EXIT_STARTUP_FAILED, ServiceApp
from videosearch.embedder.engine import EmbeddingEngine
from videosearch.embedder.metrics import watch_batcher
from videosearch.embedder.model import ClipEmbedder, ModelLoadError
from videosearch.embedder.servicer import EmbedderServicer
from videosearch.embedder.speech import SpeechHost
from videosearch.common.settings import section
from videosearch.embedder.defaults import BatchLimits
from videosearch.embedder.settings import EmbedderSettings, load
from videosearch.v1 import embedder_pb2, embedder_pb2_grpc

EXIT_MODEL_LOAD_FAILED = EXIT_STARTUP_FAILED
log = logging.getLogger(__name__)


class EmbedderServer(ServiceApp[EmbedderSettings]):
    """The Embedder: CLIP behind a dynamic batcher. ``load(model)`` adopts an already loaded model."""

    name = "embedder"
    grpc_service = embedder_pb2.DESCRIPTOR.services_by_name["EmbedderService"]
    add_servicer = staticmethod(embedder_pb2_grpc.add_EmbedderServiceServicer_to_server)
    read_settings = staticmethod(load)
    startup_errors = (ModelLoadError,)

    def __init__(self, settings: EmbedderSettings) -> None:
        super().__init__(settings, EmbedderServicer(speech=SpeechHost(settings.speech_recognizer, _speech_device(settings))))
        self.engine: EmbeddingEngine | None = None

    def open(self, model: ClipEmbedder | None = None) -> EmbeddingEngine:
        s = self.settings
        if model is None:
            try:
                model = ClipEmbedder(
                    s.model,
                    device=s.device,
                    dtype=s.dtype,
                    limits=section(s, BatchLimits),
                    cuda_graphs=s.cuda_graphs,
                )
            except ModelLoadError:
                raise
            except Exception as exc:  # a start-up failure ends with a message, never a traceback
                log.debug("model load failed", exc_info=True)
                raise ModelLoadError(
                    f"cannot start with the model {s.model!r} ({type(exc).__name__}: {' '.join(str(exc).split())[:600]}); "
                    "check that --model is a complete checkpoint of a supported family and that --device/--dtype "
                    "suit this machine (run with --log-level debug for the details)"
                ) from exc
        # The service's limits come from its settings, also for an already loaded model.
        self.engine = EmbeddingEngine(
            model,
            limits=section(s, BatchLimits),
            max_wait_ms=s.max_wait_ms,
            max_queue_images=s.max_queue_images,
            forward_workers=s.forward_workers,
            image_nice=s.image_nice,
        )
        if self.metrics is not None:
            watch_batcher(self.metrics, self.engine.batcher)
        self.servicer.attach(self.engine)
        return self.engine

    def close(self) -> None:
        self.servicer.speech.close()
        if self.engine is not None:
            self.engine.close()

    def prepare_process(self) -> None:
        configure_torch_threads(self.settings)

    def shares_port(self) -> bool:
        return self.settings.share_port

    def ready_message(self) -> str:
        assert self.engine is not None, "said once the model is loaded"
        return f"embedder ready on {self.address} with {self.engine.model_info().model_id}"


SERVICE_NAME = EmbedderServer.grpc_service.full_name


def _speech_device(settings: EmbedderSettings) -> str:
    """The speech recognizer's device: the image model's (auto: CUDA when there is one)."""
    if settings.device != "auto":
        return settings.device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def start_server(settings: EmbedderSettings) -> EmbedderServer:
    """Binds and starts the gRPC server without a model (NOT_SERVING); call load() next."""
    return EmbedderServer(settings).start()


def serve(settings: EmbedderSettings, model: ClipEmbedder | None = None) -> EmbedderServer:
    """Starts a SERVING Embedder (for tests and in-process use)."""
    return EmbedderServer.serve(settings, model)


def configure_torch_threads(settings: EmbedderSettings) -> int:
    """Applies torch_threads, or splits the cores between forward workers. Process-wide."""
    threads = settings.torch_threads
    if threads <= 0 and settings.forward_workers > 1:
        threads = max(1, torch.get_num_threads() // settings.forward_workers)
    if threads > 0:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


main = EmbedderServer.main

if __name__ == "__main__":
    sys.exit(main())
