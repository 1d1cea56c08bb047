"""The Embedder's domain object: a ClipEmbedder behind a DynamicBatcher, with the
per-request limits the service promises. The gRPC servicer only converts messages
and calls this."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from concurrent.futures import Future

import numpy as np

from videosearch.common.errors import InvalidArgument
from videosearch.embedder.batcher import BatcherStats, DynamicBatcher
from videosearch.embedder.defaults import DEFAULT_MAX_QUEUE_IMAGES, DEFAULT_MAX_WAIT_MS, BatchLimits
from videosearch.embedder.model import ClipEmbedder
from videosearch.embedder.model_notice import read_notice
from videosearch.embedder.types import ModelInfo

log = logging.getLogger(__name__)


class EmbeddingEngine:
    def __init__(
        self,
        model: ClipEmbedder,
        *,
        limits: BatchLimits | None = None,  # None: the model's
        max_wait_ms: float = DEFAULT_MAX_WAIT_MS,
        max_queue_images: int = DEFAULT_MAX_QUEUE_IMAGES,
        forward_workers: int = 1,
        image_nice: int = 0,
    ) -> None:
        self.model = model
        self.notice = read_notice(getattr(model, "source", ""))
        self.limits = limits or model.limits
        self.batcher = DynamicBatcher(
            model,
            max_batch_size=self.limits.max_batch_size,
            max_wait_ms=max_wait_ms,
            max_queue_images=max_queue_images,
            workers=forward_workers,
            nice=image_nice,
        )

    def model_info(self) -> ModelInfo:
        return dataclasses.replace(
            self.model.model_info(),
            notice=self.notice,
            **dataclasses.asdict(self.limits),
        )

    def submit_images(self, pixels: np.ndarray) -> Future[np.ndarray]:
        """Validates on the caller's thread (so bad input fails fast) and queues the
        images for a shared forward pass."""
        if pixels.ndim >= 1 and pixels.shape[0] > self.limits.max_images_per_request:
            raise InvalidArgument(
                f"{pixels.shape[0]} images exceed the limit of {self.limits.max_images_per_request} per EmbedImages "
                "request; split them into smaller requests or send them as chunks over StreamEmbedImages"
            )
        return self.batcher.submit(self.model.preprocess(pixels))

    def embed_images(self, pixels: np.ndarray) -> np.ndarray:
        return self.submit_images(pixels).result()

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) > self.limits.max_texts_per_request:
            raise InvalidArgument(
                f"{len(texts)} texts exceed the limit of {self.limits.max_texts_per_request} per EmbedTexts request; "
                "split them over several calls"
            )
        # Texts skip the batcher: search queries are few and latency-bound, and
        # the text tower is small next to a batch of images.
        return self.model.embed_texts(texts)

    def stats(self) -> BatcherStats:
        return self.batcher.stats()

    def close(self) -> None:
        self.batcher.stop()
        stats = self.batcher.stats()
        if stats.batches:
            log.info(
                "embedded %d images in %d forward passes (mean batch %.1f); queue delay p50 %.1f ms, p99 %.1f ms",
                stats.images, stats.batches, stats.mean_batch_size,
                stats.delay_percentile_ms(50), stats.delay_percentile_ms(99),
            )
