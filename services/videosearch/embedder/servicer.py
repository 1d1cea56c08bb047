"""gRPC face of the Embedder: converts messages and calls the EmbeddingEngine.
Domain errors propagate to the shared interceptor, which maps them to status codes."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future

from videosearch.common.errors import Unavailable
from videosearch.common.tensors import from_tensor, to_tensor
from videosearch.embedder.engine import EmbeddingEngine
from videosearch.embedder.wire import model_info_to_proto
from videosearch.v1 import embedder_pb2, embedder_pb2_grpc

# Chunks of one StreamEmbedImages call in flight at once: enough to keep the
# batcher fed while earlier chunks compute, few enough to bound memory per stream.
STREAM_CHUNKS_IN_FLIGHT = 4
_END = object()


class EmbedderServicer(embedder_pb2_grpc.EmbedderServiceServicer):
    def __init__(self, engine: EmbeddingEngine | None = None) -> None:
        self._engine = engine

    def attach(self, engine: EmbeddingEngine) -> None:
        """Called once the model has loaded; until then every RPC answers UNAVAILABLE."""
        self._engine = engine

    @property
    def engine(self) -> EmbeddingEngine:
        if self._engine is None:
            raise Unavailable("the embedder is still loading its model; retry in a few seconds")
        return self._engine

    def GetModelInfo(self, request, context):
        return model_info_to_proto(self.engine.model_info())

    def EmbedImages(self, request, context):
        engine = self.engine
        pixels = from_tensor(request.pixel_values, name="pixel_values")
        embeddings = engine.submit_images(pixels).result()
        return embedder_pb2.EmbedImagesResponse(embeddings=to_tensor(embeddings), model_id=engine.model.model_id)

    def StreamEmbedImages(self, request_iterator, context) -> Iterator[embedder_pb2.StreamEmbedImagesResponse]:
        engine = self.engine
        # A reader thread submits chunks as they arrive while this generator answers
        # them in order, so the next chunk queues while the current one computes.
        pending: queue.Queue = queue.Queue(maxsize=STREAM_CHUNKS_IN_FLIGHT)
        stop = threading.Event()

        def hand_over(item) -> bool:
            """Puts an item for the generator; False once the generator has gone."""
            while not stop.is_set():
                try:
                    pending.put(item, timeout=0.1)
                    return True
                except queue.Full:
                    continue
            return False

        def read() -> None:
            try:
                for request in request_iterator:
                    future: Future = Future()
                    try:
                        future = engine.submit_images(from_tensor(request.pixel_values, name="pixel_values"))
                    except Exception as exc:  # noqa: BLE001 - answered in order by the generator below
                        future.set_exception(exc)
                        hand_over(future)
                        return  # the stream ends with this error; read no further
                    if not hand_over(future):
                        return
            except Exception as exc:  # noqa: BLE001 - e.g. the client cancelled mid-stream
                failed: Future = Future()
                failed.set_exception(exc)
                hand_over(failed)
                return
            hand_over(_END)

        threading.Thread(target=read, name="embedder-stream-reader", daemon=True).start()
        try:
            while (future := pending.get()) is not _END:
                embeddings = future.result()
                yield embedder_pb2.StreamEmbedImagesResponse(embeddings=to_tensor(embeddings), model_id=engine.model.model_id)
        finally:
            # Never wait for the reader here: it may be blocked on the client's next
            # message, which only ends once this RPC ends.
            stop.set()

    def EmbedTexts(self, request, context):
        engine = self.engine
        embeddings = engine.embed_texts(list(request.texts))
        return embedder_pb2.EmbedTextsResponse(embeddings=to_tensor(embeddings), model_id=engine.model.model_id)
