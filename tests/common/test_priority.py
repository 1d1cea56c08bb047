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


def _threads_named(prefix: str) -> dict[str, int]:
    """This process's threads whose name starts with ``prefix``: name -> nice value."""
    found = {}
    for thread in threading.enumerate():
        if thread.name.startswith(prefix) and thread.native_id is not None:
            try:
                found[thread.name] = _nice(thread.native_id)
            except OSError:
                pass  # ended meanwhile
    return found


def test_a_real_index_job_runs_niced_and_the_rpc_threads_do_not(tiny_clip_dir, shared_videos, tmp_path):
    import grpc
    from videosearch.embedder.server import serve as serve_embedder
    from videosearch.embedder.settings import EmbedderSettings
    from videosearch.searcher.server import serve as serve_searcher
    from videosearch.searcher.settings import SearcherSettings
    from videosearch.v1 import indexer_pb2, indexer_pb2_grpc

    from tests.indexer.indexer_testlib import GatedClip, finish, start_indexer

    clip = GatedClip(str(tiny_clip_dir), device="cpu", dtype="float32")
    embedder = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32", image_nice=0), clip)
    searcher = serve_searcher(SearcherSettings(port=0, data_dir=str(tmp_path / "searcher"),
                                               embedder_address=embedder.address, ann="none"))
    app = start_indexer([shared_videos], embedder.address, searcher.address, job_nice=12)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            stub = indexer_pb2_grpc.IndexerServiceStub(channel)
            clip.gate.clear()  # the job holds in its first forward pass, its thread alive
            job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(shared_videos / "counter.mp4"))).job
            for update in stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job.job_id), timeout=60):
                if update.job.stage == indexer_pb2.JOB_STAGE_EMBEDDING:
                    break
            jobs = _threads_named("index-job")
            assert jobs and 12 in jobs.values(), jobs
            rpc = _threads_named("indexer")  # the server's pool threads (unary RPCs)
            assert all(nice < 12 for nice in rpc.values()), rpc
            clip.gate.set()
            assert finish(stub, job.job_id).state == indexer_pb2.JOB_STATE_SUCCEEDED
    finally:
        clip.gate.set()
        app.stop(0)
        searcher.stop(0)
        embedder.stop(0)
