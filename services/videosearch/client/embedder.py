"""Client of the Embedder service, used by the Indexer and the Searcher.

Speaks numpy and domain types; gRPC failures come out as videosearch.common.errors
exceptions (an unreachable embedder is Unavailable with a hint how to start it).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence

import grpc
import numpy as np

from videosearch.common.errors import InvalidArgument
from videosearch.common.grpc_client import ServiceClient, raise_domain_error
from videosearch.common import defaults
from videosearch.common.security import ClientSecurity
from videosearch.common.tensors import from_tensor, to_tensor
from videosearch.embedder.model_pin import ModelPin
from videosearch.embedder.types import ModelInfo
from videosearch.embedder.wire import model_info_from_proto
from videosearch.v1 import embedder_pb2, embedder_pb2_grpc

# Room left in each message for the protobuf framing around the pixel bytes.
_MESSAGE_OVERHEAD_BYTES = 64 * 1024
# Pixels go in messages the Embedder takes with its default --max-message-mb.
_MAX_MESSAGE_BYTES = defaults.EMBEDDER_MAX_MESSAGE_MB * 2**20


class EmbedderClient(ServiceClient):
    """Every answer comes from one model: with several replicas, a replica serving another
    model is refused (see model_pin)."""

    service = "embedder"

    def __init__(self, address: str, timeout: float = 60.0, *, security: ClientSecurity | None = None) -> None:
        super().__init__(address, timeout, security=security)
        self._stub = embedder_pb2_grpc.EmbedderServiceStub(self._channel)
        self._info: ModelInfo | None = None
        self._pin = ModelPin(address, security or ClientSecurity(), timeout)

    # -- RPCs ------------------------------------------------------------------

    def model_info(self) -> ModelInfo:
        """Asks the embedder for its model (id, embedding size, preprocessing, limits)."""

        def ask():
            response = self._call(self._stub.GetModelInfo, embedder_pb2.GetModelInfoRequest())
            return response, response.model_id

        self._info = model_info_from_proto(self._pin.checked(ask))
        return self._info

    def forget_model(self) -> None:
        """Ask the replicas for their model again on the next call."""
        self._pin.forget()
        self._info = None

    def transcribe_audio(
        self,
        pcm: np.ndarray,
        language: str = "",
        timeout: float | None = None,
    ) -> list[tuple[float, float, str, str]]:
        """Transcribes int16 mono 16 kHz ``pcm``: (start, end, text, language) per phrase heard,
        times in seconds from the start of ``pcm``. ``timeout``: this call's deadline (default
        the client's): a recognizer on a CPU can take longer than an image batch."""
        request = embedder_pb2.TranscribeAudioRequest(
            pcm_s16le=np.ascontiguousarray(pcm, dtype="<i2").tobytes(), sample_rate_hertz=16_000, language=language
        )
        response = self._call(self._stub.TranscribeAudio, request, timeout=timeout)
        return [(s.start_seconds, s.end_seconds, s.text, s.language) for s in response.segments]

    def embed_images(self, pixels: np.ndarray) -> np.ndarray:
        """Embeds (N, 3, H, W) pixels -- uint8 after resize and crop (smallest on the
        wire), or float32/float16 normalized values -- as (N, dim) L2-normalized
        float32. Splits into as many requests as the server's limits need."""
        pixels = np.asarray(pixels)
        if pixels.dtype == np.float64:
            pixels = pixels.astype(np.float32)
        if pixels.dtype not in (np.uint8, np.float32, np.float16):
            raise InvalidArgument(f"pixels have dtype {pixels.dtype}; send uint8, float32 or float16")
        info = self._cached_info()
        if pixels.ndim == 4 and pixels.shape[0] == 0:
            return np.empty((0, info.embedding_dim), dtype=np.float32)
        chunk = self._images_per_chunk(pixels, info)
        if pixels.ndim < 1 or pixels.shape[0] <= chunk:
            request = embedder_pb2.EmbedImagesRequest(pixel_values=to_tensor(pixels))
            return self._pin.checked(lambda: self._embeddings(self._call(self._stub.EmbedImages, request)))
        return self._pin.checked(lambda: self._stream_images(pixels, chunk), resend_unavailable=True)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Embeds texts as (len(texts), dim) L2-normalized float32."""
        if isinstance(texts, str):
            raise InvalidArgument("embed_texts takes a list of strings, not one string")
        texts = list(texts)
        limit = self._cached_info().max_texts_per_request if len(texts) > 1 else 1
        parts = []
        for start in range(0, max(len(texts), 1), max(limit, 1)):
            request = embedder_pb2.EmbedTextsRequest(texts=texts[start : start + limit])
            parts.append(self._pin.checked(functools.partial(self._embed_texts, request)))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    # -- helpers ---------------------------------------------------------------

    def _cached_info(self) -> ModelInfo:
        return self._info if self._info is not None else self.model_info()

    @staticmethod
    def _images_per_chunk(pixels: np.ndarray, info: ModelInfo) -> int:
        bytes_per_image = (
            int(np.prod(pixels.shape[1:], dtype=np.int64)) * pixels.dtype.itemsize if pixels.ndim > 1 else 1
        )
        by_size = max(1, (_MAX_MESSAGE_BYTES - _MESSAGE_OVERHEAD_BYTES) // max(bytes_per_image, 1))
        return max(1, min(info.max_images_per_request, by_size))

    def _embed_texts(self, request: embedder_pb2.EmbedTextsRequest) -> tuple[np.ndarray, str]:
        return self._embeddings(self._call(self._stub.EmbedTexts, request))

    @staticmethod
    def _embeddings(response) -> tuple[np.ndarray, str]:
        return from_tensor(response.embeddings, name="embeddings"), response.model_id

    def _stream_images(self, pixels: np.ndarray, chunk: int) -> tuple[np.ndarray, str]:
        """One stream goes to one replica: its chunks' model ids are all that replica's."""
        starts = range(0, pixels.shape[0], chunk)

        def requests() -> Iterator[embedder_pb2.StreamEmbedImagesRequest]:
            for start in starts:
                yield embedder_pb2.StreamEmbedImagesRequest(pixel_values=to_tensor(pixels[start : start + chunk]))

        parts, models = [], set()
        try:
            # The timeout covers the whole stream: one per-request timeout per chunk.
            for response in self._stub.StreamEmbedImages(requests(), timeout=self.timeout * len(starts)):
                parts.append(from_tensor(response.embeddings, name="embeddings"))
                models.add(response.model_id)
        except grpc.RpcError as err:
            raise_domain_error(err, "embedder", self.address)
        return np.concatenate(parts), models.pop() if len(models) == 1 else ""
