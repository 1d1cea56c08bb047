"""Bounded concurrency on a real Indexer (issue 7, part 4): open WatchIndexJob streams hold no
server thread, so 200 of them leave Health.Check and SubmitIndexJob answering within 1 s;
past --max-concurrent-rpcs a call gets RESOURCE_EXHAUSTED naming the setting, while health
still answers."""

from __future__ import annotations

import threading
import time
from concurrent import futures

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from videosearch.common import defaults
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.v1 import embedder_pb2_grpc, indexer_pb2, indexer_pb2_grpc

pytestmark = pytest.mark.timeout(180)


class SilentEmbedder(embedder_pb2_grpc.EmbedderServiceServicer):
    """An Embedder that never answers GetModelInfo: a job waits for it, so its watch streams stay open."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def GetModelInfo(self, request, context):
        self.release.wait()
        context.abort(grpc.StatusCode.UNAVAILABLE, "test over")


@pytest.fixture()
def silent_embedder():
    embedder = SilentEmbedder()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    embedder_pb2_grpc.add_EmbedderServiceServicer_to_server(embedder, server)
    embedder.address = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
    server.start()
    yield embedder
    embedder.release.set()
    server.stop(0)


def _indexer(tmp_path, embedder: SilentEmbedder, **settings) -> IndexerApp:
    (tmp_path / "videos").mkdir(exist_ok=True)
    return IndexerApp.serve(IndexerSettings(
        port=0, allowed_roots=(str(tmp_path / "videos"),), embedder_address=embedder.address,
        searcher_address=embedder.address, workers=1, **settings))


def _video(tmp_path, name: str) -> str:
    path = tmp_path / "videos" / name
    path.write_bytes(b"\x00" * 1024)  # only checked at submit; the job waits for the Embedder before reading it
    return str(path)


def _open_streams(channels, job_id: str, count: int) -> list:
    streams = []
    for i in range(count):
        stub = indexer_pb2_grpc.IndexerServiceStub(channels[i % len(channels)])
        stream = stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job_id), timeout=120)
        next(stream)  # the first snapshot: the stream is open on the server
        streams.append(stream)
    return streams


def _timed(call) -> float:
    started = time.monotonic()
    call()
    return time.monotonic() - started


def test_200_open_watch_streams_leave_health_and_submit_answering_within_a_second(tmp_path, silent_embedder):
    app = _indexer(tmp_path, silent_embedder)
    channels = [grpc.insecure_channel(app.address) for _ in range(4)]
    try:
        stub = indexer_pb2_grpc.IndexerServiceStub(channels[0])
        health = health_pb2_grpc.HealthStub(channels[0])
        # The one worker waits on the silent Embedder with the first job; the streams watch the second, queued.
        stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=_video(tmp_path, "a.mp4")), timeout=5)
        job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=_video(tmp_path, "q.mp4")), timeout=5).job
        streams = _open_streams(channels, job.job_id, 200)
        for i in range(5):
            took = _timed(lambda: health.Check(health_pb2.HealthCheckRequest(), timeout=1))
            assert took < 1.0
            path = _video(tmp_path, f"b{i}.mp4")
            took = _timed(lambda: stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=path), timeout=1))
            assert took < 1.0, f"SubmitIndexJob took {took:.2f} s beside 200 open streams"
        # The streams are still open and live: a cancel reaches every one of them.
        stub.CancelIndexJob(indexer_pb2.CancelIndexJobRequest(job_id=job.job_id), timeout=5)
        last = [list(stream)[-1].job.state for stream in streams]
        assert set(last) == {indexer_pb2.JOB_STATE_CANCELLED}
    finally:
        silent_embedder.release.set()
        for channel in channels:
            channel.close()
        app.stop(0)


def test_calls_beyond_the_cap_get_resource_exhausted_and_health_still_answers(tmp_path, silent_embedder):
    app = _indexer(tmp_path, silent_embedder, max_concurrent_rpcs=20)
    channels = [grpc.insecure_channel(app.address)]
    try:
        stub = indexer_pb2_grpc.IndexerServiceStub(channels[0])
        job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=_video(tmp_path, "a.mp4")), timeout=5).job
        streams = _open_streams(channels, job.job_id, 20)
        with pytest.raises(grpc.RpcError) as caught:
            stub.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id=job.job_id), timeout=5)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "--max-concurrent-rpcs" in caught.value.details() and "retry" in caught.value.details()
        assert str(defaults.MAX_CONCURRENT_RPCS) in caught.value.details()
        answer = health_pb2_grpc.HealthStub(channels[0]).Check(health_pb2.HealthCheckRequest(), timeout=1)
        assert answer.status in (health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING)
        streams.pop().cancel()  # one call ends: the next one gets in
        deadline = time.monotonic() + 5
        while True:
            try:
                stub.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id=job.job_id), timeout=5)
                break
            except grpc.RpcError as exc:
                assert exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED and time.monotonic() < deadline
                time.sleep(0.05)
        for stream in streams:
            stream.cancel()
    finally:
        silent_embedder.release.set()
        for channel in channels:
            channel.close()
        app.stop(0)


def test_one_token_holds_at_most_its_share_of_the_cap(tmp_path, silent_embedder):
    """One read token with its share of streams open (half the cap by default) is refused the
    next call, naming the per-token setting; another token still gets in."""
    from videosearch.common.auth import new_token_line
    from videosearch.common.security import ClientSecurity

    greedy, greedy_line = new_token_line("read")
    other, other_line = new_token_line("write")
    (tmp_path / "tokens.txt").write_text(f"{greedy_line}\n{other_line}\n")
    for name, token in (("greedy", greedy), ("other", other)):
        (tmp_path / name).write_text(token)
    app = _indexer(tmp_path, silent_embedder, max_concurrent_rpcs=20, tokens_file=str(tmp_path / "tokens.txt"))
    greedy_channel = ClientSecurity(token_file=str(tmp_path / "greedy")).channel(app.address)
    other_channel = ClientSecurity(token_file=str(tmp_path / "other")).channel(app.address)
    try:
        other_stub = indexer_pb2_grpc.IndexerServiceStub(other_channel)
        job = other_stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=_video(tmp_path, "a.mp4")), timeout=5).job
        streams = _open_streams([greedy_channel], job.job_id, 10)
        with pytest.raises(grpc.RpcError) as caught:
            indexer_pb2_grpc.IndexerServiceStub(greedy_channel).GetIndexJob(
                indexer_pb2.GetIndexJobRequest(job_id=job.job_id), timeout=5)
        assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "--max-concurrent-rpcs-per-token" in caught.value.details()
        assert other_stub.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id=job.job_id), timeout=5).job.job_id
        other_streams = _open_streams([other_channel], job.job_id, 5)
        assert other_stub.ListIndexJobs(indexer_pb2.ListIndexJobsRequest(), timeout=5).jobs
        for stream in streams + other_streams:
            stream.cancel()
    finally:
        silent_embedder.release.set()
        greedy_channel.close()
        other_channel.close()
        app.stop(0)
