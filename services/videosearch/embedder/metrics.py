"""The Embedder's own Prometheus metrics: how full its forward passes are, how long images
wait for one, and how many images a second its forward passes embed."""

from __future__ import annotations

from videosearch.common.metrics import ServiceMetrics
from videosearch.embedder.batcher import DynamicBatcher

BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
WAIT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)


def watch_batcher(metrics: ServiceMetrics, batcher: DynamicBatcher) -> None:
    """Feeds the batcher's batches into ``metrics`` from now on."""
    sizes = metrics.histogram("videosearch_embedder_batch_images", "images in each forward pass", BATCH_BUCKETS)
    waits = metrics.histogram(
        "videosearch_embedder_queue_wait_seconds",
        "seconds a request's images waited in the queue for their forward pass",
        WAIT_BUCKETS,
    )
    images = metrics.counter("videosearch_embedder_images", "images embedded (rate() gives images per second)")
    speed = metrics.gauge(
        "videosearch_embedder_images_per_second",
        "images per second of forward-pass time since the start (the model's speed, idle time left out)",
    )

    def on_batch(size: int, waits_s: list[float]) -> None:
        sizes.observe(size)
        images.inc(size)
        for wait in waits_s:
            waits.observe(wait)

    def images_per_second() -> float:
        stats = batcher.stats()
        return stats.images / stats.forward_seconds if stats.forward_seconds else 0.0

    speed.set_function(images_per_second)
    batcher.on_batch = on_batch
