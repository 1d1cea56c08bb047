"""A full disk is RESOURCE_EXHAUSTED naming the directory and what to free, never INTERNAL:
the Searcher's data directory (UpsertVideo, DeleteVideo), the Indexer's state directory
(SubmitIndexJob; a running job goes on), and a Searcher or Indexer started on a full disk
exits 2 with one line saying so. The disk is a 1 MiB tmpfs (these tests skip where
``mount`` is not allowed); the mapping itself is also checked on /dev/full, which any
process may write to."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import uuid
from fractions import Fraction
from pathlib import Path

import grpc
import numpy as np
import pytest
from videosearch.common.disk import DiskFull, disk_space_for, is_disk_full
from videosearch.common.errors import ResourceExhausted
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.searcher.types import SceneRecord, VideoRecord

pytestmark = pytest.mark.timeout(180)
DIM = 8


def test_a_real_enospc_becomes_disk_full_naming_the_directory(tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("this system has no /dev/full")
    with pytest.raises(DiskFull) as caught, disk_space_for(tmp_path, "--data-dir", "old videos"):
        with open("/dev/full", "wb", buffering=0) as full:
            full.write(b"x")
    assert isinstance(caught.value, ResourceExhausted) and is_disk_full(caught.value.__cause__)
    assert str(tmp_path) in str(caught.value) and "--data-dir" in str(caught.value) and "old videos" in str(caught.value)
    with pytest.raises(ValueError), disk_space_for(tmp_path, "--data-dir", "old videos"):
        raise ValueError("not a disk error: passes unchanged")


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs of this test's own; (its folder, fill(), free())."""
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(folder)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip() or 'not allowed'}); "
                    "the /dev/full test covers the mapping")
    filler = folder / "filler"

    def fill() -> None:
        with contextlib.suppress(OSError), open(filler, "ab", buffering=0) as out:  # until ENOSPC
            while True:
                out.write(b"\0" * 4096)

    def free() -> None:
        filler.unlink(missing_ok=True)

    try:
        yield folder, fill, free
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def _video(n: int) -> VideoRecord:
    return VideoRecord(f"00000000000f{n:04x}", f"/x/full-{n}.mp4", 2.0, Fraction(25), 50, 16, 16, "0" * 64,
                       "test-model", DIM)


def _upsert(client: SearcherClient, n: int, scenes: int = 1) -> None:
    """A video of ``scenes`` scenes: 4,000 take more than the pages a full tmpfs has left in open files."""
    video = dataclasses.replace(_video(n), frame_count=50 * scenes, duration_seconds=2.0 * scenes)
    client.upsert_video(video, [SceneRecord(i, 50 * i, 50 * i + 50, 2.0 * i, 2.0 * i + 2) for i in range(scenes)],
                        np.eye(DIM, dtype=np.float32)[np.arange(scenes) % DIM])


def test_the_searchers_full_data_dir_is_resource_exhausted(small_disk):
    folder, fill, free = small_disk
    data_dir = folder / "searcher"
    searcher = serve_searcher(SearcherSettings(port=0, data_dir=str(data_dir), embedder_address="127.0.0.1:1",
                                               ann="none"))
    try:
        with SearcherClient(searcher.address) as client:
            _upsert(client, 1)
            fill()
            for attempt in (lambda: _upsert(client, 2, scenes=4000), lambda: client.delete_video(_video(1).video_id)):
                with pytest.raises(ResourceExhausted) as refused:
                    attempt()
                assert refused.value.__cause__.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                assert str(data_dir) in str(refused.value) and "free space" in str(refused.value)
            free()
            _upsert(client, 3)
            assert {v.video_id for v in client.iter_videos()} >= {_video(1).video_id, _video(3).video_id}
    finally:
        searcher.stop(0)


@pytest.mark.parametrize("service", ["searcher", "indexer"])
def test_a_service_started_on_a_full_disk_exits_2_with_one_line(small_disk, service):
    folder, fill, _ = small_disk
    fill()
    directory = folder / f"{service}-{uuid.uuid4().hex[:6]}"
    args = (["--data-dir", str(directory), "--embedder-address", "127.0.0.1:1", "--ann", "none"] if service == "searcher"
            else ["--state-dir", str(directory), "--allowed-roots", str(folder)])
    ended = subprocess.run([sys.executable, "-m", f"videosearch.{service}.server", "--port", "0", *args],
                           capture_output=True, text=True, timeout=120)
    output = ended.stdout + ended.stderr
    assert ended.returncode == 2, output
    assert "Traceback" not in output
    said = [line for line in output.splitlines() if "no space left" in line]
    assert len(said) == 1 and str(directory) in said[0], output


def test_the_indexers_full_state_dir_refuses_new_jobs_and_lets_running_ones_finish(small_disk, tiny_clip_dir, tmp_path):
    from tests.indexer.indexer_testlib import GatedClip, finish, start_indexer
    from videosearch.demo.videos import generate_demo_video
    from videosearch.embedder.server import serve as serve_embedder
    from videosearch.embedder.settings import EmbedderSettings
    from videosearch.v1 import indexer_pb2, indexer_pb2_grpc

    folder, fill, free = small_disk
    videos = tmp_path / "videos"
    videos.mkdir()
    video = videos / "two.webm"
    generate_demo_video(video, ["a red circle", "a blue square"], np.random.default_rng(7), size=(64, 48),
                        frames_per_scene=(20, 24))
    clip = GatedClip(str(tiny_clip_dir), device="cpu", dtype="float32")
    embedder = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32"), clip)
    searcher = serve_searcher(SearcherSettings(port=0, data_dir=str(tmp_path / "searcher"),
                                               embedder_address=embedder.address, ann="none"))
    state_dir = folder / "state"
    app = start_indexer([videos], embedder.address, searcher.address, state_dir=str(state_dir))
    try:
        with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
            stub = indexer_pb2_grpc.IndexerServiceStub(channel)
            clip.gate.clear()  # the job waits in its first forward pass while the disk fills
            running = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(video))).job
            fill()
            # The job log's last page may still have room for a few records (tmpfs gives whole pages).
            with pytest.raises(grpc.RpcError) as refused:
                for _ in range(100):
                    stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(video)))
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, refused.value.details()
            assert str(state_dir) in refused.value.details() and "--state-dir" in refused.value.details()
            clip.gate.set()
            final = finish(stub, running.job_id)
            assert final.state == indexer_pb2.JOB_STATE_SUCCEEDED, final
            free()
            again = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(
                path=str(video), options=indexer_pb2.IndexOptions(force=True))).job
            assert finish(stub, again.job_id).state == indexer_pb2.JOB_STATE_SUCCEEDED
    finally:
        clip.gate.set()
        app.stop(0)
        searcher.stop(0)
        embedder.stop(0)
