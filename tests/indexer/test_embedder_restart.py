"""A job whose Embedder is killed (kill -9) while it embeds waits for it within
--dependency-retry-s and goes on once a new Embedder listens on the same port: it
succeeds, and the new Embedder embeds only what the first had not (the scenes already
embedded are kept, not sent again)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import grpc
import pytest
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc

from tests.indexer.indexer_testlib import start_indexer

pytestmark = pytest.mark.timeout(240)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_embedder(model_dir, port: int, metrics_port: int) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-m", "videosearch.embedder.server", "--port", str(port), "--model", str(model_dir),
         "--device", "cpu", "--dtype", "float32", "--metrics-port", str(metrics_port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in process.stdout:
        if "listening on" in line:
            return process
    raise AssertionError(f"the Embedder ended before listening (exit code {process.wait()})")


def _images_embedded(metrics_port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    return sum(float(line.split()[-1]) for line in text.splitlines()
               if line.startswith("videosearch_embedder_images_total"))


def test_a_job_survives_an_embedder_restart_and_keeps_what_was_embedded(tiny_clip_dir, shared_videos, tmp_path):
    from videosearch.searcher.server import serve as serve_searcher
    from videosearch.searcher.settings import SearcherSettings

    port, first_metrics, second_metrics = _free_port(), _free_port(), _free_port()
    first = _start_embedder(tiny_clip_dir, port, first_metrics)
    second = None
    address = f"127.0.0.1:{port}"
    searcher = serve_searcher(SearcherSettings(port=0, data_dir=str(tmp_path / "searcher"),
                                               embedder_address=address, ann="none"))
    app = start_indexer([shared_videos], address, searcher.address, dependency_retry_s=60.0,
                        embed_requests_in_flight=1)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            stub = indexer_pb2_grpc.IndexerServiceStub(channel)
            job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(
                path=str(shared_videos / "testvideo.mp4"), options=indexer_pb2.IndexOptions(force=True))).job
            watch = stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job.job_id), timeout=200)
            for snapshot in watch:
                if snapshot.job.frames_embedded > 0:
                    break
            assert snapshot.job.state == indexer_pb2.JOB_STATE_RUNNING, "the job ended before the kill"
            os.kill(first.pid, signal.SIGKILL)
            first.wait()
            embedded_before = snapshot.job.frames_embedded
            time.sleep(3)  # longer than the 2-6 s after which the job used to fail
            waiting = stub.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id=job.job_id)).job
            assert waiting.state == indexer_pb2.JOB_STATE_RUNNING, waiting
            second = _start_embedder(tiny_clip_dir, port, second_metrics)
            final = None
            for snapshot in watch:
                assert snapshot.job.frames_embedded >= embedded_before, "progress went back"
                final = snapshot.job
        assert final.state == indexer_pb2.JOB_STATE_SUCCEEDED, final
        assert final.frames_embedded == final.frames_to_embed
        again = _images_embedded(second_metrics)
        assert 0 < again <= final.frames_to_embed - embedded_before, (
            f"the new Embedder embedded {again} images; {final.frames_to_embed - embedded_before} were left")
    finally:
        app.stop(0)
        searcher.stop(0)
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
