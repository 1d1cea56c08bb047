"""The Embedder as the Searcher's QueryEmbedder (texts, and images for image query terms):
EmbedderClient plus a cached model description, behind a bound on calls in flight and a
circuit breaker.

A stalled Embedder must not take the Searcher down with it: without the bound, every text
query would hold a server thread until its timeout, and vector search and health (which
need no Embedder) would queue behind them. With it, at most ``max_in_flight`` text queries
wait on the Embedder; the next ones give up within ``slot_wait_s``, and once calls keep
failing the breaker refuses text queries at once (UNAVAILABLE) until a trial call succeeds.
"""

from __future__ import annotations

import threading

import numpy as np

from videosearch.common.errors import Unavailable
from videosearch.common.resilience import CircuitBreaker
from videosearch.common.security import ClientSecurity
from videosearch.client.embedder import EmbedderClient
from videosearch.embedder.types import ModelInfo

DEFAULT_MAX_IN_FLIGHT = 8


def text_queries_waiting(server_threads: int) -> int:
    """Text queries that may wait on the Embedder at once: half the server's threads, so a
    stalled Embedder leaves the other half to vector search and health."""
    return max(1, server_threads // 2)


DEFAULT_SLOT_WAIT_S = 0.25  # long enough for a healthy Embedder under a burst, short enough to free threads


class RemoteQueryEmbedder:
    """Embeds query texts through the Embedder service at ``address``.

    The model id is asked once and remembered; after an Unavailable error it is
    asked again, since a restarted Embedder may host another model.
    """

    def __init__(
        self,
        address: str,
        timeout: float = 30.0,
        *,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        slot_wait_s: float = DEFAULT_SLOT_WAIT_S,
        breaker: CircuitBreaker | None = None,
        security: ClientSecurity | None = None,
    ) -> None:
        self.address = address
        self._client = EmbedderClient(address, timeout=timeout, security=security)
        self._info: ModelInfo | None = None
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._max_in_flight = max_in_flight
        self._slot_wait_s = slot_wait_s
        self.breaker = breaker or CircuitBreaker(f"the Embedder at {address}")

    @property
    def model_id(self) -> str:
        return self.model_info().model_id

    def model_info(self) -> ModelInfo:
        """The hosted model (id, preprocessing), asked once and remembered."""
        with self._lock:
            known = self._info
        if known is not None:
            return known
        # Asked outside the lock: a stalled Embedder must not make every caller wait on it.
        info = self._call(self._client.model_info)
        with self._lock:
            self._info = info
        return info

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        return self._forgetting_on_failure(lambda: self._client.embed_texts(texts))

    def embed_images(self, pixels: np.ndarray) -> np.ndarray:
        """Embeds (N, 3, H, W) uint8 pixels prepared with model_info().preprocessing."""
        return self._forgetting_on_failure(lambda: self._client.embed_images(pixels))

    def _forgetting_on_failure(self, fn):
        try:
            return self._call(fn)
        except Unavailable:
            with self._lock:
                self._info = None
            self._client.forget_model()
            raise

    def _call(self, fn):
        if not self._slots.acquire(timeout=self._slot_wait_s):
            raise Unavailable(
                f"{self._max_in_flight} text queries are already waiting for the Embedder at {self.address}; "
                "it is slow or stalled: retry shortly, or search with an embedding"
            )
        try:
            return self.breaker.call(fn)
        finally:
            self._slots.release()

    def close(self) -> None:
        self._client.close()
