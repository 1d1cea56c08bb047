"""The dynamic batcher with the real tiny CLIP behind it."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from videosearch.common.errors import ResourceExhausted, Unavailable
from videosearch.embedder.batcher import DynamicBatcher

from .helpers import random_uint8


class GatedPipeline:
    """The real model, whose forward pass waits until the test opens a gate, so a
    test can hold the worker busy and fill the queue deterministically."""

    def __init__(self, embedder, fail: bool = False) -> None:
        self.embedder = embedder
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.fail = fail

    def collate(self, parts):
        return self.embedder.collate(parts)

    def forward(self, batch):
        self.entered.set()
        self.gate.wait(10)
        if self.fail:
            raise RuntimeError("device fell over")
        return self.embedder.forward(batch)

    def postprocess(self, features):
        return self.embedder.postprocess(features)


@pytest.fixture
def make_batcher():
    made = []

    def make(pipeline, **kwargs):
        batcher = DynamicBatcher(pipeline, **kwargs)
        made.append(batcher)
        return batcher

    yield make
    for batcher in made:
        if isinstance(batcher.pipeline, GatedPipeline):
            batcher.pipeline.gate.set()
        batcher.stop(5)


def test_concurrent_callers_get_their_own_results_and_batches_merge(tiny_embedder, make_batcher):
    batcher = make_batcher(tiny_embedder, max_batch_size=32, max_wait_ms=50)
    callers = 8
    pixels = [random_uint8(2, seed=10 + i) for i in range(callers)]
    expected = [tiny_embedder(p) for p in pixels]
    results: list[np.ndarray | None] = [None] * callers
    start = threading.Barrier(callers)

    def call(i: int) -> None:
        start.wait()
        results[i] = batcher.embed(tiny_embedder.preprocess(pixels[i]), timeout=30)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    for got, want in zip(results, expected):
        assert got is not None
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)
    stats = batcher.stats()
    assert stats.requests == callers and stats.images == 2 * callers
    assert stats.batches < callers, f"batches did not merge: {stats.batch_sizes}"
    assert max(stats.batch_sizes) > 2
    assert len(stats.queue_delays_ms) >= callers and stats.delay_percentile_ms(99) >= 0


def test_request_larger_than_a_batch_is_split_across_passes(tiny_embedder, make_batcher):
    batcher = make_batcher(tiny_embedder, max_batch_size=4, max_wait_ms=1)
    pixels = random_uint8(11, seed=20)
    result = batcher.embed(tiny_embedder.preprocess(pixels), timeout=30)
    np.testing.assert_allclose(result, tiny_embedder(pixels), atol=1e-5, rtol=0)
    assert batcher.stats().batch_sizes == (4, 4, 3)


def test_a_batch_can_end_inside_a_request_and_order_is_kept(tiny_embedder, make_batcher):
    pipeline = GatedPipeline(tiny_embedder)
    batcher = make_batcher(pipeline, max_batch_size=4, max_wait_ms=1)
    blocker = batcher.submit(tiny_embedder.preprocess(random_uint8(1, seed=21)))
    assert pipeline.entered.wait(10)  # the worker is now busy: the next two requests queue up
    a, b = random_uint8(3, seed=22), random_uint8(3, seed=23)
    future_a = batcher.submit(tiny_embedder.preprocess(a))
    future_b = batcher.submit(tiny_embedder.preprocess(b))
    pipeline.gate.set()
    blocker.result(10)
    np.testing.assert_allclose(future_a.result(10), tiny_embedder(a), atol=1e-5, rtol=0)
    np.testing.assert_allclose(future_b.result(10), tiny_embedder(b), atol=1e-5, rtol=0)
    assert batcher.stats().batch_sizes == (1, 4, 2)


def test_full_queue_raises_resource_exhausted(tiny_embedder, make_batcher):
    pipeline = GatedPipeline(tiny_embedder)
    batcher = make_batcher(pipeline, max_batch_size=2, max_wait_ms=0, max_queue_images=4)
    running = batcher.submit(tiny_embedder.preprocess(random_uint8(2)))
    assert pipeline.entered.wait(10)
    queued = batcher.submit(tiny_embedder.preprocess(random_uint8(3)))
    with pytest.raises(ResourceExhausted, match="queue is full .*--max-queue-images"):
        batcher.submit(tiny_embedder.preprocess(random_uint8(2)))
    batcher.submit(tiny_embedder.preprocess(random_uint8(1)))  # exactly fills the queue: accepted
    pipeline.gate.set()
    assert running.result(10).shape == (2, 16) and queued.result(10).shape == (3, 16)


def test_forward_failure_reaches_every_caller_in_the_batch_and_the_worker_survives(tiny_embedder, make_batcher):
    pipeline = GatedPipeline(tiny_embedder, fail=True)
    batcher = make_batcher(pipeline, max_batch_size=8, max_wait_ms=1)
    first = batcher.submit(tiny_embedder.preprocess(random_uint8(1)))
    pipeline.gate.set()
    with pytest.raises(RuntimeError, match="device fell over"):
        first.result(10)
    pipeline.fail = False
    assert batcher.embed(tiny_embedder.preprocess(random_uint8(2)), timeout=10).shape == (2, 16)


def test_stop_finishes_queued_work_then_refuses_new_work(tiny_embedder, make_batcher):
    pipeline = GatedPipeline(tiny_embedder)
    batcher = make_batcher(pipeline, max_batch_size=2, max_wait_ms=1000)
    futures = [batcher.submit(tiny_embedder.preprocess(random_uint8(1, seed=s))) for s in range(3)]
    assert pipeline.entered.wait(10)  # the first batch is in its forward pass, the third image waits
    batcher.stop(wait=False)  # from here on new work is refused; the queued work still runs
    with pytest.raises(Unavailable, match="shutting down"):
        batcher.submit(tiny_embedder.preprocess(random_uint8(1)))
    pipeline.gate.set()
    batcher.stop(10)  # waits for the queued work
    assert all(f.result(0).shape == (1, 16) for f in futures)
    assert not batcher.running


def test_lone_request_waits_at_most_about_max_wait(tiny_embedder, make_batcher):
    batcher = make_batcher(tiny_embedder, max_batch_size=32, max_wait_ms=20)
    batcher.embed(tiny_embedder.preprocess(random_uint8(1)), timeout=10)  # warm-up
    batcher.reset_stats()
    batcher.embed(tiny_embedder.preprocess(random_uint8(1)), timeout=10)
    (delay,) = batcher.stats().queue_delays_ms
    assert 15 <= delay < 1000


def test_two_workers_run_batches_side_by_side_and_keep_results_straight(tiny_embedder, make_batcher):
    batcher = make_batcher(tiny_embedder, max_batch_size=3, max_wait_ms=1, workers=2)
    pixels = [random_uint8(1 + i % 3, seed=70 + i) for i in range(10)]
    futures = [batcher.submit(tiny_embedder.preprocess(p)) for p in pixels]
    for future, sent in zip(futures, pixels):
        np.testing.assert_allclose(future.result(30), tiny_embedder(sent), atol=1e-5, rtol=0)
    assert batcher.stats().images == sum(len(p) for p in pixels)
    batcher.stop(10)
    assert not batcher.running


class CountingGate(GatedPipeline):
    """GatedPipeline that also records how many images each forward pass ran."""

    def __init__(self, embedder) -> None:
        super().__init__(embedder)
        self.batch_sizes: list[int] = []

    def forward(self, batch):
        self.batch_sizes.append(int(batch.shape[0]))
        return super().forward(batch)


def test_a_request_its_caller_gave_up_is_skipped_and_the_worker_survives(tiny_embedder, make_batcher):
    """An async server cancels the Future when the client leaves. The worker must neither run
    those images nor die delivering to a cancelled Future (it once raised InvalidStateError
    there, which ended the worker thread and left every later caller waiting)."""
    pipeline = CountingGate(tiny_embedder)
    batcher = make_batcher(pipeline, max_batch_size=4, max_wait_ms=0)
    busy = batcher.submit(tiny_embedder.preprocess(random_uint8(1, seed=1)))
    assert pipeline.entered.wait(10)  # the worker holds the first request's pass
    left = batcher.submit(tiny_embedder.preprocess(random_uint8(2, seed=2)))
    stays = batcher.submit(tiny_embedder.preprocess(random_uint8(1, seed=3)))
    assert left.cancel()  # its caller left while it waited
    pipeline.gate.set()
    busy.result(10)
    np.testing.assert_allclose(stays.result(10), tiny_embedder(random_uint8(1, seed=3)), rtol=1e-4, atol=1e-5)
    assert pipeline.batch_sizes == [1, 1]  # the two abandoned images never ran
    # Cancelled while its pass runs: the delivery is refused quietly, and the worker goes on.
    pipeline.gate.clear()
    pipeline.entered.clear()
    running = batcher.submit(tiny_embedder.preprocess(random_uint8(1, seed=4)))
    assert pipeline.entered.wait(10)
    running.cancel()  # a Future already handed to the worker can still be cancelled: it is never set running
    pipeline.gate.set()
    later = batcher.submit(tiny_embedder.preprocess(random_uint8(1, seed=5)))
    np.testing.assert_allclose(later.result(10), tiny_embedder(random_uint8(1, seed=5)), rtol=1e-4, atol=1e-5)
    assert batcher.running
