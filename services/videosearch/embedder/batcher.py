"""Dynamic batching: images from many concurrent callers share forward passes.

Callers put preprocessed image tensors in a queue and get a Future. A worker
thread (or several, see ``workers``) takes up to ``max_batch_size`` images at a time -- as soon as that many
wait, or ``max_wait_ms`` after the oldest one arrived -- runs one forward pass
and hands each caller its slice of the result. A request larger than a batch is
split across passes; a batch may end in the middle of a request, so batches
stay full under load.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, InvalidStateError
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from videosearch.common.errors import ResourceExhausted, Unavailable
from videosearch.common.priority import run_in_background
from videosearch.embedder.defaults import DEFAULT_MAX_BATCH_SIZE, DEFAULT_MAX_QUEUE_IMAGES, DEFAULT_MAX_WAIT_MS

log = logging.getLogger(__name__)

# Batch sizes and queueing delays kept for stats(); older ones are dropped.
STATS_WINDOW = 100_000


class BatchPipeline(Protocol):
    """What the batcher needs from a model (ClipEmbedder has it)."""

    def collate(self, parts: Sequence[torch.Tensor]) -> torch.Tensor: ...

    def forward(self, batch: torch.Tensor) -> torch.Tensor: ...

    def postprocess(self, features: torch.Tensor) -> np.ndarray: ...


class _Request:
    """One caller's images; completes when every image has its embedding."""

    __slots__ = ("future", "count", "remaining", "result", "failed")

    def __init__(self, count: int) -> None:
        self.future: Future[np.ndarray] = Future()
        self.count = count
        self.remaining = count
        self.result: np.ndarray | None = None
        self.failed = False

    @property
    def abandoned(self) -> bool:
        """Failed, or given up by its caller (an async server cancels the Future when the
        client leaves): its images need no forward pass."""
        return self.failed or self.future.cancelled()

    def deliver(self, start: int, rows: np.ndarray) -> None:
        if self.failed:
            return
        result = self.result
        if result is None:
            result = self.result = np.empty((self.count, *rows.shape[1:]), dtype=rows.dtype)
        result[start : start + rows.shape[0]] = rows
        self.remaining -= rows.shape[0]
        if self.remaining == 0:
            self._settle(lambda: self.future.set_result(result))

    def fail(self, exc: BaseException) -> None:
        if not self.failed:
            self.failed = True
            self._settle(lambda: self.future.set_exception(exc))

    def _settle(self, settle: Callable[[], None]) -> None:
        # The caller may cancel the Future at any moment, even between a check and this call;
        # a cancelled Future refuses a result, and that must never end the worker thread.
        try:
            settle()
        except InvalidStateError:
            self.failed = True


@dataclass
class _Part:
    """A contiguous run of one request's images waiting in the queue."""

    request: _Request
    images: torch.Tensor
    start: int  # index of images[0] within the request
    enqueued_at: float


@dataclass(frozen=True)
class BatcherStats:
    """Forward passes formed so far and how long images waited for them."""

    batches: int
    images: int
    requests: int
    batch_sizes: tuple[int, ...]  # most recent batches, oldest first
    queue_delays_ms: tuple[float, ...]  # per request part: enqueue -> its forward pass starts
    forward_seconds: float  # total time spent in forward passes

    @property
    def mean_batch_size(self) -> float:
        return self.images / self.batches if self.batches else 0.0

    def delay_percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.queue_delays_ms, q)) if self.queue_delays_ms else 0.0

    def batch_size_histogram(self) -> dict[int, int]:
        return dict(sorted(collections.Counter(self.batch_sizes).items()))


class DynamicBatcher:
    """Merges concurrent image requests into shared forward passes on worker threads."""

    def __init__(
        self,
        pipeline: BatchPipeline,
        *,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
        max_wait_ms: float = DEFAULT_MAX_WAIT_MS,
        max_queue_images: int = DEFAULT_MAX_QUEUE_IMAGES,
        workers: int = 1,
        name: str = "embedder-batcher",
        nice: int = 0,
    ) -> None:
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, got {max_batch_size}")
        if max_wait_ms < 0:
            raise ValueError(f"max_wait_ms must not be negative, got {max_wait_ms}")
        if workers < 1:
            raise ValueError(f"workers must be at least 1, got {workers}")
        if max_queue_images < 1:
            raise ValueError(f"max_queue_images must be at least 1, got {max_queue_images}")
        self.pipeline = pipeline
        self.nice = nice  # the workers' nice value (0: as the process), see common/priority.py
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self.max_queue_images = max_queue_images
        # Told of each batch formed: (its images, each part's wait in seconds); see embedder/metrics.py.
        self.on_batch: Callable[[int, list[float]], None] | None = None
        self._queue: collections.deque[_Part] = collections.deque()
        self._queued_images = 0
        self._cond = threading.Condition()
        self._stopping = False
        self._batch_sizes: collections.deque[int] = collections.deque(maxlen=STATS_WINDOW)
        self._delays_ms: collections.deque[float] = collections.deque(maxlen=STATS_WINDOW)
        self._batches = 0
        self._images = 0
        self._requests = 0
        self._forward_seconds = 0.0
        # Several workers run forward passes side by side. On CPU, two single-threaded
        # workers beat one two-threaded worker when cores are shared: no thread
        # barriers inside every small elementwise op.
        self._workers = [threading.Thread(target=self._run, name=f"{name}-{i}", daemon=True) for i in range(workers)]
        for worker in self._workers:
            worker.start()

    # -- callers ---------------------------------------------------------------

    def submit(self, images: torch.Tensor) -> Future[np.ndarray]:
        """Queues preprocessed images (first dimension = images); the Future gives
        their embeddings in order. Raises ResourceExhausted when the queue is full."""
        count = int(images.shape[0])
        if count < 1:
            raise ValueError("submit needs at least one image")
        request = _Request(count)
        with self._cond:
            if self._stopping:
                raise Unavailable("the embedder is shutting down; retry against a running embedder")
            if self._queued_images + count > self.max_queue_images:
                raise ResourceExhausted(
                    f"the embedder's batching queue is full ({self._queued_images} of {self.max_queue_images} "
                    f"images waiting, {count} more requested); retry later, send fewer images at once, "
                    "or raise --max-queue-images"
                )
            self._queue.append(_Part(request, images, 0, time.monotonic()))
            self._queued_images += count
            self._requests += 1
            self._cond.notify()
        return request.future

    def embed(self, images: torch.Tensor, timeout: float | None = None) -> np.ndarray:
        """submit() and wait for the result."""
        return self.submit(images).result(timeout)

    def stats(self) -> BatcherStats:
        with self._cond:
            return BatcherStats(
                batches=self._batches,
                images=self._images,
                requests=self._requests,
                batch_sizes=tuple(self._batch_sizes),
                queue_delays_ms=tuple(self._delays_ms),
                forward_seconds=self._forward_seconds,
            )

    def reset_stats(self) -> None:
        with self._cond:
            self._batch_sizes.clear()
            self._delays_ms.clear()
            self._batches = self._images = self._requests = 0
            self._forward_seconds = 0.0

    def stop(self, timeout: float | None = 30.0, *, wait: bool = True) -> None:
        """Refuses new work, finishes everything already queued, then ends the workers.
        New work is refused from the moment this is called. With ``wait=False`` it returns
        right then and the workers drain the queue on their own; a later stop() waits."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if not wait:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        for worker in self._workers:
            worker.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        if self.running:
            log.warning("batcher workers still busy after %.1fs", timeout)

    @property
    def running(self) -> bool:
        return any(worker.is_alive() for worker in self._workers)

    close = stop

    # -- worker ----------------------------------------------------------------

    def _next_batch(self) -> list[_Part] | None:
        """Blocks until a batch is due; None once stopping with an empty queue."""
        with self._cond:
            while True:
                if self._queued_images >= self.max_batch_size:
                    break
                if self._queue:
                    if self._stopping:
                        break  # drain without waiting for more
                    remaining = self._queue[0].enqueued_at + self.max_wait - time.monotonic()
                    if remaining <= 0:
                        break
                    self._cond.wait(remaining)
                elif self._stopping:
                    return None
                else:
                    self._cond.wait()
            return self._take_locked()

    def _take_locked(self) -> list[_Part]:
        taken: list[_Part] = []
        space = self.max_batch_size
        now = time.monotonic()
        while space and self._queue:
            part = self._queue[0]
            count = int(part.images.shape[0])
            if count <= space:
                self._queue.popleft()
                taken.append(part)
                space -= count
            else:  # split: the head of this part goes now, the rest keeps its place in line
                taken.append(_Part(part.request, part.images[:space], part.start, part.enqueued_at))
                self._queue[0] = _Part(part.request, part.images[space:], part.start + space, part.enqueued_at)
                space = 0
        size = self.max_batch_size - space
        self._queued_images -= size
        self._batches += 1
        self._images += size
        self._batch_sizes.append(size)
        self._delays_ms.extend((now - p.enqueued_at) * 1000.0 for p in taken)
        if self.on_batch is not None:
            self.on_batch(size, [now - p.enqueued_at for p in taken])
        return taken

    def _run(self) -> None:
        # Before the first forward pass: the torch (OpenMP) threads this worker starts inherit it.
        run_in_background(self.nice)
        while True:
            parts = self._next_batch()
            if parts is None:
                return
            live = [p for p in parts if not p.request.abandoned]
            if not live:
                continue
            started = time.perf_counter()
            try:
                batch = self.pipeline.collate([p.images for p in live])
                embeddings = self.pipeline.postprocess(self.pipeline.forward(batch))
            except BaseException as exc:  # hand the failure to every waiting caller
                log.exception("forward pass of %d images failed", sum(int(p.images.shape[0]) for p in live))
                for part in live:
                    part.request.fail(exc)
                continue
            finally:
                with self._cond:
                    self._forward_seconds += time.perf_counter() - started
            offset = 0
            for part in live:
                count = int(part.images.shape[0])
                part.request.deliver(part.start, embeddings[offset : offset + count])
                offset += count
