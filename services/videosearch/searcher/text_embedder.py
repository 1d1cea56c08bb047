"""The Embedder as the Searcher's TextEmbedder: EmbedderClient plus a cached model id."""

from __future__ import annotations

import threading

import numpy as np

from videosearch.common.errors import Unavailable
from videosearch.embedder.client import EmbedderClient


class RemoteTextEmbedder:
    """Embeds query texts through the Embedder service at ``address``.

    The model id is asked once and remembered; after an Unavailable error it is
    asked again, since a restarted Embedder may host another model.
    """

    def __init__(self, address: str, timeout: float = 30.0) -> None:
        self.address = address
        self._client = EmbedderClient(address, timeout=timeout)
        self._model_id: str | None = None
        self._lock = threading.Lock()

    @property
    def model_id(self) -> str:
        with self._lock:
            if self._model_id is None:
                self._model_id = self._client.model_info().model_id
            return self._model_id

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        try:
            return self._client.embed_texts(texts)
        except Unavailable:
            with self._lock:
                self._model_id = None
            raise

    def close(self) -> None:
        self._client.close()
