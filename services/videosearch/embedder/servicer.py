"""gRPC face of the Embedder: converts messages and calls the EmbeddingEngine.
Domain errors propagate to the shared interceptor, which maps them to status codes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from concurrent.futures import Future

from videosearch.common.errors import Unavailable
from videosearch.common.tensors import from_tensor, to_tensor
from videosearch.embedder.engine import EmbeddingEngine
from videosearch.embedder.speech import SpeechHost
from videosearch.embedder.wire import model_info_to_proto
from videosearch.v1 import embedder_pb2, embedder_pb2_grpc

# Chunks of one StreamEmbedImages call in flight at once: enough to keep the
# batcher fed while earlier chunks compute, few enough to bound memory per stream.
STREAM_CHUNKS_IN_FLIGHT = 4
# Requests up to this many pixel bytes (a few uint8 frames) are checked and queued on the
# event loop: a hop to a worker thread would cost more than the work.
INLINE_PIXEL_BYTES = 1 << 20
_END = object()


class EmbedderServicer(embedder_pb2_grpc.EmbedderServiceServicer):
    def __init__(self, engine: EmbeddingEngine | None = None, speech: SpeechHost | None = None) -> None:
        self._engine = engine
        self.speech = speech or SpeechHost("none")  # set by the server from --speech-recognizer

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

    async def EmbedImages(self, request, context):
        # Async: a request waiting for its forward pass holds no server thread, so as many
        # requests as callers send can share a batch (a thread each would cap that at
        # --server-threads). Small requests are checked on the loop; large ones, whose
        # checks and normalization take milliseconds, in a worker thread.
        engine = self.engine
        if len(request.pixel_values.data) <= INLINE_PIXEL_BYTES:
            future = engine.submit_images(from_tensor(request.pixel_values, name="pixel_values"))
        else:
            future = await asyncio.get_running_loop().run_in_executor(
                None, lambda: engine.submit_images(from_tensor(request.pixel_values, name="pixel_values"))
            )
        embeddings = await asyncio.wrap_future(future)
        return embedder_pb2.EmbedImagesResponse(embeddings=to_tensor(embeddings), model_id=engine.model.model_id)

    async def StreamEmbedImages(self, request_iterator, context) -> AsyncIterator[embedder_pb2.StreamEmbedImagesResponse]:
        # Async: an open stream holds no server thread while it waits for the client's next
        # chunk or for the batcher. A reader task submits chunks as they arrive while this
        # generator answers them in order, so the next chunk queues while the current one computes.
        engine = self.engine
        loop = asyncio.get_running_loop()
        pending: asyncio.Queue = asyncio.Queue(maxsize=STREAM_CHUNKS_IN_FLIGHT)

        def submit(request) -> Future:
            """Decodes and preprocesses a chunk (off the event loop) and queues it for the batcher."""
            return engine.submit_images(from_tensor(request.pixel_values, name="pixel_values"))

        async def read() -> None:
            try:
                async for request in request_iterator:
                    future = await loop.run_in_executor(None, submit, request)
                    await pending.put(future)
            except Exception as exc:  # noqa: BLE001 - answered in order by the generator below; the stream ends with it
                failed: Future = Future()
                failed.set_exception(exc)
                await pending.put(failed)
                return
            await pending.put(_END)

        reader = asyncio.create_task(read())
        try:
            while (future := await pending.get()) is not _END:
                embeddings = await asyncio.wrap_future(future)
                yield embedder_pb2.StreamEmbedImagesResponse(embeddings=to_tensor(embeddings), model_id=engine.model.model_id)
        finally:
            reader.cancel()  # e.g. the client left: read no further

    async def TranscribeAudio(self, request, context):
        # Needs no image model: answered while CLIP still loads. Async, so a request waiting
        # for the recognizer's worker holds no server thread.
        future = self.speech.submit(request.pcm_s16le, request.sample_rate_hertz, request.language)
        recognizer_id, segments = await asyncio.wrap_future(future)
        return embedder_pb2.TranscribeAudioResponse(recognizer_id=recognizer_id, segments=[
            embedder_pb2.SpeechSegment(start_seconds=s.start_seconds, end_seconds=s.end_seconds, text=s.text,
                                       language=s.language) for s in segments])

    def EmbedTexts(self, request, context):
        engine = self.engine
        embeddings = engine.embed_texts(list(request.texts))
        return embedder_pb2.EmbedTextsResponse(embeddings=to_tensor(embeddings), model_id=engine.model.model_id)
