"""End to end: the three services as separate processes (as `make up` starts them),
driven by the command-line client and by generated stubs."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from videosearch.common.timecode import Timecode
from videosearch.launcher import ClusterConfig, LocalCluster
from videosearch.v1 import (
    indexer_pb2,
    indexer_pb2_grpc,
    searcher_pb2,
    searcher_pb2_grpc,
)

from tests.conftest import golden_cuts

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def generated_video(tmp_path_factory):
    from videosearch.demo.videos import generate_demo_video

    folder = tmp_path_factory.mktemp("videos")
    truth = generate_demo_video(
        folder / "generated.mp4", ["a red circle", "a blue square", "a green triangle"],
        np.random.default_rng(7), frames_per_scene=(30, 45),
    )
    (folder / "notes.txt").write_text("not a video at all\n")
    (folder / "broken.mp4").write_bytes(np.random.default_rng(1).bytes(50_000))
    return folder, truth


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, tiny_clip_dir, shared_videos, generated_video):
    folder, _ = generated_video
    config = ClusterConfig(
        model=str(tiny_clip_dir),
        data_dir=str(tmp_path_factory.mktemp("data")),
        allowed_roots=(str(shared_videos), str(folder)),
        embedder_port=0, searcher_port=0, indexer_port=0,
        extra_env={"HF_HUB_OFFLINE": "1"},
        startup_timeout_s=180,
    )
    with LocalCluster(config) as running:
        yield running
        codes = running.stop()
    assert codes == {"indexer": 0, "searcher": 0, "embedder": 0}, f"services must exit cleanly on SIGTERM: {codes}"


def cli(cluster, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "videosearch_cli.main",
         "--indexer-address", cluster.address("indexer"), "--searcher-address", cluster.address("searcher"), *args],
        capture_output=True, text=True, timeout=300,
    )


@pytest.fixture(scope="module")
def searcher(cluster):
    with grpc.insecure_channel(cluster.address("searcher")) as channel:
        yield searcher_pb2_grpc.SearcherServiceStub(channel)


@pytest.fixture(scope="module")
def indexer(cluster):
    with grpc.insecure_channel(cluster.address("indexer")) as channel:
        yield indexer_pb2_grpc.IndexerServiceStub(channel)


@pytest.fixture(scope="module")
def indexed(cluster, shared_videos, generated_video):
    folder, _ = generated_video
    result = cli(cluster, "index", str(shared_videos / "testvideo.mp4"), str(folder / "generated.mp4"), "--json")
    assert result.returncode == 0, result.stderr + result.stdout
    jobs = json.loads(result.stdout)["jobs"]
    assert [j["state"] for j in jobs] == ["succeeded"] * 2
    for job in jobs:
        assert job["percent"] == 100.0 and job["scenes_found"] >= 3
        # Sampled through time: one frame per second of each scene, at least 3 per scene.
        assert job["frames_embedded"] == job["frames_to_embed"] >= 3 * job["scenes_found"]
        assert job["moments_found"] >= 1
        stages = job["stage_seconds"]
        assert {"hash", "decode", "detect", "preprocess", "embed", "store", "total_wall"} <= set(stages)
        assert all(seconds >= 0 for seconds in stages.values())
    return {Path(j["path"]).name: j["video_id"] for j in jobs}


def scene_starts(searcher, video_id):
    response = searcher.GetVideo(searcher_pb2.GetVideoRequest(video_id=video_id))
    return response, [s.start_frame for s in response.scenes]


def test_stored_scenes_match_the_golden_cuts(searcher, indexed, shared_videos):
    response, starts = scene_starts(searcher, indexed["testvideo.mp4"])
    assert starts == [0, *golden_cuts(shared_videos, "testvideo.mp4")]
    video = response.video
    fps = Fraction(video.fps_numerator, video.fps_denominator)
    assert fps == Fraction(30000, 1001)
    assert response.scenes[-1].end_frame == video.frame_count
    for previous, scene in zip(response.scenes, response.scenes[1:]):
        assert scene.start_frame == previous.end_frame, "scenes tile the video without gaps"
    for scene in response.scenes:
        assert scene.start_seconds == pytest.approx(float(scene.start_frame / fps))
        assert scene.end_seconds == pytest.approx(float(scene.end_frame / fps))
        assert scene.start_timecode == str(Timecode(scene.start_frame, fps))
        # One sample per second of the scene (rounded), at least 3.
        assert scene.sampled_frames == max(3, round((scene.end_frame - scene.start_frame) / float(fps)))
    # Moments tile the video in order, each starting in its scene; every sampled frame is in one.
    moments = response.moments
    assert moments and [m.index for m in moments] == list(range(len(moments)))
    assert moments[0].start_frame == 0 and moments[-1].end_frame == video.frame_count
    assert all(a.end_frame == b.start_frame for a, b in zip(moments, moments[1:]))
    for m in moments:
        scene = response.scenes[m.scene_index]
        assert scene.start_frame <= m.start_frame < scene.end_frame
        assert m.start_seconds == pytest.approx(float(m.start_frame / fps))
    assert sum(m.sampled_frames for m in moments) == sum(s.sampled_frames for s in response.scenes)
    assert video.moment_count == len(moments)
    assert video.width == 1280 and video.height == 720 and len(video.content_sha256) == 64
    assert video.video_id == video.content_sha256[:16]


def test_generated_video_scenes_match_its_ground_truth(searcher, indexed, generated_video):
    _, truth = generated_video
    _, starts = scene_starts(searcher, indexed["generated.mp4"])
    assert starts == [s["start_frame"] for s in truth["scenes"]]


def test_search_returns_ranked_videos_with_their_best_scenes(cluster, searcher, indexed):
    result = cli(cluster, "search", "a red circle", "--top", "5", "--json")
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    videos = response["videos"]
    assert {v["video"]["video_id"] for v in videos} == set(indexed.values())
    scores = [v["score"] for v in videos]
    assert scores == sorted(scores, reverse=True)
    for match in videos:
        scene_scores = [s["score"] for s in match["scenes"]]
        assert scene_scores == sorted(scene_scores, reverse=True) and 1 <= len(scene_scores) <= 3
        assert match["score"] == pytest.approx(scene_scores[0]), "a video scores as its best scene"
        for scene in match["scenes"]:
            assert scene["video_id"] == match["video"]["video_id"]
            assert scene["path"] == match["video"]["path"]
            assert scene["scene"]["end_seconds"] > scene["scene"]["start_seconds"]

    scenes = searcher.Search(searcher_pb2.SearchRequest(text="a red circle", top_k=4, mode=searcher_pb2.SEARCH_MODE_SCENES))
    assert len(scenes.scenes) == 4
    assert [m.score for m in scenes.scenes] == sorted((m.score for m in scenes.scenes), reverse=True)
    table = cli(cluster, "search", "a red circle", "--top", "2")
    assert table.returncode == 0 and "testvideo.mp4" in table.stdout and "00:00:" in table.stdout


def test_reindexing_the_same_content_does_not_duplicate(cluster, searcher, indexed, shared_videos):
    result = cli(cluster, "index", str(shared_videos / "testvideo.mp4"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["unchanged"] == [str(shared_videos / "testvideo.mp4")], "unchanged: not even hashed"
    assert json.loads(result.stdout)["jobs"] == []
    assert searcher.GetStats(searcher_pb2.GetStatsRequest()).video_count == 2


def test_bad_input_gets_clear_errors_and_services_stay_up(cluster, searcher, indexer, indexed, generated_video, shared_videos):
    folder, _ = generated_video
    cases = [
        (lambda: indexer.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(folder / "missing.mp4"))), grpc.StatusCode.NOT_FOUND),
        (lambda: indexer.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path="/etc/passwd")), grpc.StatusCode.PERMISSION_DENIED),
        (lambda: indexer.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path="")), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: searcher.Search(searcher_pb2.SearchRequest(text="   ")), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: searcher.Search(searcher_pb2.SearchRequest(text="cat", top_k=1_000_000)), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: searcher.Search(searcher_pb2.SearchRequest(text="cat", top_k=-1)), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: searcher.GetVideo(searcher_pb2.GetVideoRequest(video_id="0000000000000000")), grpc.StatusCode.NOT_FOUND),
        (lambda: indexer.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id="nope")), grpc.StatusCode.NOT_FOUND),
    ]
    for call, code in cases:
        with pytest.raises(grpc.RpcError) as caught:
            call()
        assert caught.value.code() == code, caught.value.details()
        assert len(caught.value.details()) > 15, "the message says what to do"

    for name, reason in (("notes.txt", indexer_pb2.JOB_ERROR_REASON_NOT_A_VIDEO), ("broken.mp4", indexer_pb2.JOB_ERROR_REASON_NOT_A_VIDEO)):
        job = indexer.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(folder / name))).job
        *_, last = indexer.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job.job_id))
        assert last.job.state == indexer_pb2.JOB_STATE_FAILED and last.job.error_reason == reason, last.job
        assert name in last.job.error
    assert searcher.GetStats(searcher_pb2.GetStatsRequest()).video_count == 2, "a failed job stores nothing"

    for name in ("embedder", "searcher", "indexer"):
        with grpc.insecure_channel(cluster.address(name)) as channel:
            status = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest()).status
        assert status == health_pb2.HealthCheckResponse.SERVING, name


def test_delete_removes_the_video_everywhere(cluster, searcher, indexed):
    video_id = indexed["generated.mp4"]
    result = cli(cluster, "videos", "delete", video_id)
    assert result.returncode == 0, result.stderr
    with pytest.raises(grpc.RpcError) as caught:
        searcher.GetVideo(searcher_pb2.GetVideoRequest(video_id=video_id))
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    listed = json.loads(cli(cluster, "videos", "list", "--json").stdout)
    assert [v["video_id"] for v in listed["videos"]] == [indexed["testvideo.mp4"]]
    found = searcher.Search(searcher_pb2.SearchRequest(text="a blue square", top_k=10))
    assert [v.video.video_id for v in found.videos] == [indexed["testvideo.mp4"]]
