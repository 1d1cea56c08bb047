"""Background work yields the cores to searches: a thread that runs indexing (or the
Embedder's image forward passes) raises its own nice value, the threads it starts inherit
it, and nothing else in the process changes priority."""

from __future__ import annotations

import os
import threading

import pytest
from videosearch.common.priority import run_in_background
from videosearch.embedder.batcher import DynamicBatcher

from tests.embedder.helpers import random_uint8


def _nice(thread_id: int) -> int:
    return os.getpriority(os.PRIO_PROCESS, thread_id)


def test_a_background_thread_and_its_children_run_at_the_lower_priority():
    before = _nice(threading.get_native_id())
    seen = {}

    def child():
        seen["child"] = _nice(threading.get_native_id())

    def background():
        run_in_background(before + 7)
        seen["self"] = _nice(threading.get_native_id())
        started = threading.Thread(target=child)
        started.start()
        started.join()

    worker = threading.Thread(target=background)
    worker.start()
    worker.join()
    assert seen == {"self": before + 7, "child": before + 7}
    assert _nice(threading.get_native_id()) == before, "the caller's own thread is left alone"


def test_the_embedders_image_forward_passes_run_niced(tiny_embedder):
    batcher = DynamicBatcher(tiny_embedder, nice=10, max_wait_ms=1)
    try:
        seen = {}
        real_forward = tiny_embedder.forward

        class Watching:
            collate = staticmethod(tiny_embedder.collate)
            postprocess = staticmethod(tiny_embedder.postprocess)

            @staticmethod
            def forward(batch):
                seen["nice"] = _nice(threading.get_native_id())
                return real_forward(batch)

        batcher.pipeline = Watching()
        batcher.embed(tiny_embedder.preprocess(random_uint8(2)), timeout=60)
        assert seen["nice"] >= 10
        assert _nice(threading.get_native_id()) < 10, "the caller (an RPC thread embedding texts) is not lowered"
    finally:
        batcher.stop()


@pytest.fixture
def tiny_embedder(tiny_clip_dir):
    from videosearch.embedder.model import ClipEmbedder

    return ClipEmbedder(str(tiny_clip_dir), device="cpu", dtype="float32")
