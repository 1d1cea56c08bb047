"""The Indexer in-process on port 0 against real in-process Embedder and Searcher
servers: job lifecycle over gRPC, failures that say why, cancellation, paging,
health and reflection."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from tests.indexer.indexer_testlib import finish, start_indexer
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc, searcher_pb2, searcher_pb2_grpc

pytestmark = pytest.mark.timeout(300)


@pytest.fixture()
def dead_address():
    """An address that refuses connections for the whole test: the port stays bound by a
    socket that never listens, so no other server (of this run or beside it) can take it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="module")
def backends(tiny_clip_dir, gated_clip, tmp_path_factory):
    embedder = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32"), gated_clip)
    searcher = serve_searcher(SearcherSettings(
        port=0, data_dir=str(tmp_path_factory.mktemp("searcher")), embedder_address=embedder.address, ann="none"))
    yield embedder.address, searcher.address
    gated_clip.gate.set()
    searcher.stop(0)
    embedder.stop(0)


@pytest.fixture()
def indexer(backends, shared_videos):
    app = start_indexer([shared_videos], *backends)
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        yield indexer_pb2_grpc.IndexerServiceStub(channel), channel
    app.stop(0)


def test_health_and_reflection(indexer):
    stub, channel = indexer
    health = health_pb2_grpc.HealthStub(channel)
    response = health.Watch(health_pb2.HealthCheckRequest(service="videosearch.v1.IndexerService"), timeout=30)
    assert any(update.status == health_pb2.HealthCheckResponse.SERVING for update in response)
    reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
    answer = next(reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")])))
    names = {s.name for s in answer.list_services_response.service}
    assert {"videosearch.v1.IndexerService", "grpc.health.v1.Health"} <= names


def test_watch_reports_every_stage_and_lists_page(indexer, shared_videos, backends):
    stub, _ = indexer
    path = str(shared_videos / "counter.mp4")
    job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=path, options=indexer_pb2.IndexOptions(force=True))).job
    assert job.state == indexer_pb2.JOB_STATE_QUEUED
    assert (job.options.frames_per_scene, job.options.seconds_per_sample, job.options.min_frames_per_scene,
            job.options.max_frames_per_scene, job.options.detector) == (0, 1.0, 3, 160, "content"), \
        "server defaults filled in: sampling through time, ContentDetector"
    updates = [u.job for u in stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job.job_id), timeout=120)]
    stages = [u.stage for u in updates]
    for stage in (indexer_pb2.JOB_STAGE_HASHING, indexer_pb2.JOB_STAGE_DETECTING_SCENES,
                  indexer_pb2.JOB_STAGE_EMBEDDING, indexer_pb2.JOB_STAGE_STORING):
        assert stage in stages, indexer_pb2.JobStage.Name(stage)
    percents = [u.percent for u in updates]
    assert percents == sorted(percents) and percents[-1] == 100.0
    last = updates[-1]
    assert last.state == indexer_pb2.JOB_STATE_SUCCEEDED and last.scenes_found == 1  # counter.mp4 has no cut
    assert last.frames_to_embed == 3 and last.moments_found == 1  # 3 s at 1 s per sample; too short to split
    with grpc.insecure_channel(backends[1]) as channel:
        stored = searcher_pb2_grpc.SearcherServiceStub(channel).GetVideo(searcher_pb2.GetVideoRequest(video_id=last.video_id))
    assert [(s.start_frame, s.end_frame) for s in stored.scenes] == [(0, stored.video.frame_count)]
    assert [(m.scene_index, m.start_frame, m.end_frame) for m in stored.moments] == [(0, 0, stored.video.frame_count)]

    stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=path))
    first = stub.ListIndexJobs(indexer_pb2.ListIndexJobsRequest(page_size=1))
    second = stub.ListIndexJobs(indexer_pb2.ListIndexJobsRequest(page_size=1, page_token=first.next_page_token))
    assert len(first.jobs) == len(second.jobs) == 1 and first.jobs[0].job_id != second.jobs[0].job_id
    with pytest.raises(grpc.RpcError) as caught:
        stub.ListIndexJobs(indexer_pb2.ListIndexJobsRequest(page_token="garbage!"))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as caught:
        stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=path, options=indexer_pb2.IndexOptions(frames_per_scene=500)))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "frames_per_scene" in caught.value.details()
    with pytest.raises(grpc.RpcError) as caught:
        stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=path, options=indexer_pb2.IndexOptions(detector="magic")))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT and "content+threshold" in caught.value.details()


def test_cancel_queued_and_running_jobs_stores_nothing(indexer, shared_videos, backends, gated_clip):
    stub, _ = indexer
    options = indexer_pb2.IndexOptions(force=True)
    video = shared_videos / "issue-134-rotate.mp4"
    # Hold the Embedder's forward passes until the cancel has landed: otherwise the job may
    # finish (about a second after its first scene) before the cancel reaches it.
    gated_clip.gate.clear()
    try:
        running = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(video), options=options)).job
        queued = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(shared_videos / "fades.mp4"), options=options)).job
        cancelled = stub.CancelIndexJob(indexer_pb2.CancelIndexJobRequest(job_id=queued.job_id)).job
        assert cancelled.state == indexer_pb2.JOB_STATE_CANCELLED
        watch = stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=running.job_id), timeout=120)
        for update in watch:
            if update.job.stage == indexer_pb2.JOB_STAGE_EMBEDDING:
                assert update.job.state == indexer_pb2.JOB_STATE_RUNNING
                stub.CancelIndexJob(indexer_pb2.CancelIndexJobRequest(job_id=running.job_id))
                break
        watch.cancel()
    finally:
        gated_clip.gate.set()
    final = finish(stub, running.job_id)
    assert final.state == indexer_pb2.JOB_STATE_CANCELLED, final
    # The job may be cancelled before its hash is done (then final.video_id is empty): look
    # for the content's id (its SHA-256 prefix) instead.
    video_id = hashlib.sha256(video.read_bytes()).hexdigest()[:16]
    assert final.video_id in ("", video_id)
    with grpc.insecure_channel(backends[1]) as channel:
        searcher = searcher_pb2_grpc.SearcherServiceStub(channel)
        with pytest.raises(grpc.RpcError) as caught:
            searcher.GetVideo(searcher_pb2.GetVideoRequest(video_id=video_id))
        assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as caught:
        stub.CancelIndexJob(indexer_pb2.CancelIndexJobRequest(job_id=running.job_id))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION


@pytest.mark.parametrize("down", ["embedder", "searcher"])
def test_unreachable_dependency_fails_the_job_with_its_reason(down, backends, shared_videos, dead_address):
    embedder_address, searcher_address = backends
    dead = dead_address
    # Jobs wait for a dependency that is briefly away (60 s by default); this one never comes back.
    app = start_indexer([shared_videos], dead if down == "embedder" else embedder_address,
                        dead if down == "searcher" else searcher_address, dependency_retry_s=1.0)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            stub = indexer_pb2_grpc.IndexerServiceStub(channel)
            job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(shared_videos / "delayed_start.mp4"))).job
            final = finish(stub, job.job_id)
    finally:
        app.stop(0)
    expected = (indexer_pb2.JOB_ERROR_REASON_EMBEDDER_UNAVAILABLE if down == "embedder"
                else indexer_pb2.JOB_ERROR_REASON_SEARCHER_UNAVAILABLE)
    assert final.state == indexer_pb2.JOB_STATE_FAILED and final.error_reason == expected, final
    assert down in final.error and dead in final.error, "the message names the service and its address"


def test_the_detector_option_reaches_the_decode_pass(indexer, shared_videos, backends):
    """fades.mp4 fades to black twice: ContentDetector sees no cut, ThresholdDetector both."""
    import json

    stub, _ = indexer
    path = str(shared_videos / "fades.mp4")
    golden = json.loads((shared_videos / "goldens" / "fades.mp4.ThresholdDetector.default.json").read_text())["cuts"]
    job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(
        path=path, options=indexer_pb2.IndexOptions(detector="threshold", force=True))).job
    last = finish(stub, job.job_id)
    assert last.state == indexer_pb2.JOB_STATE_SUCCEEDED and last.options.detector == "threshold"
    with grpc.insecure_channel(backends[1]) as channel:
        stored = searcher_pb2_grpc.SearcherServiceStub(channel).GetVideo(searcher_pb2.GetVideoRequest(video_id=last.video_id))
    assert golden and [s.start_frame for s in stored.scenes][1:] == golden


def test_a_video_over_a_limit_fails_before_decoding_and_says_which(backends, shared_videos):
    app = start_indexer([shared_videos], *backends, max_frame_pixels=640 * 360)  # testvideo.mp4 is 1280x720
    try:
        with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            stub = indexer_pb2_grpc.IndexerServiceStub(channel)
            job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(shared_videos / "testvideo.mp4"))).job
            final = finish(stub, job.job_id)
    finally:
        app.stop(0)
    assert final.state == indexer_pb2.JOB_STATE_FAILED
    assert final.error_reason == indexer_pb2.JOB_ERROR_REASON_LIMIT_EXCEEDED, final
    assert "1280x720" in final.error and "--max-frame-pixels" in final.error
    assert final.frames_decoded == 0 and final.video_id == "", "refused before hashing and decoding"


def test_job_ids_survive_a_restart_with_a_state_dir(backends, shared_videos, tmp_path):
    path = str(shared_videos / "testvideo.mp4")
    first = start_indexer([shared_videos], *backends, state_dir=str(tmp_path / "state"))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{first.port}") as channel:
            stub = indexer_pb2_grpc.IndexerServiceStub(channel)
            done = finish(stub, stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=path)).job.job_id)
    finally:
        first.stop(0)
    second = start_indexer([shared_videos], *backends, state_dir=str(tmp_path / "state"))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{second.port}") as channel:
            stub = indexer_pb2_grpc.IndexerServiceStub(channel)
            again = stub.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id=done.job_id)).job
            newer = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=path)).job
            finish(stub, newer.job_id)
    finally:
        second.stop(0)
    assert (again.state, again.video_id, again.scenes_found) == (done.state, done.video_id, done.scenes_found)
    assert again.state == indexer_pb2.JOB_STATE_SUCCEEDED and newer.job_id != done.job_id
