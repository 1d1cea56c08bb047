"""Allowed roots without a race (issue 7, part 2), deterministically: a job waits in the queue
(the one worker is held by another job whose Embedder calls wait on a gate) while its file,
or a folder above it, is swapped for a symbolic link to a video outside the allowed roots.
When the job runs, it must refuse the file without reading a byte of it (watched with
inotify), fail with a reason that says what happened, show no video id, and leave the
Searcher without the outside video."""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import time

import grpc
import pytest
from videosearch.common.grpc_server import insecure_channel
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc, searcher_pb2, searcher_pb2_grpc

from tests.cli.conftest import make_video
from tests.indexer.indexer_testlib import GatedClip

pytestmark = pytest.mark.timeout(300)
IN_ACCESS = 0x1  # inotify: the file was read


class ReadWatch:
    """Counts reads of the watched files (inotify IN_ACCESS): opening without reading is not counted."""

    def __init__(self, paths) -> None:
        self._libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self._fd = self._libc.inotify_init1(os.O_NONBLOCK)
        assert self._fd >= 0, "inotify is needed for this test"
        for path in paths:
            assert self._libc.inotify_add_watch(self._fd, os.fsencode(path), IN_ACCESS) >= 0

    def reads(self) -> int:
        try:
            return len(os.read(self._fd, 65536))
        except BlockingIOError:
            return 0

    def close(self) -> None:
        os.close(self._fd)


def _wait(stub, job_id, done, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = stub.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id=job_id), timeout=10).job
        if done(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not get there in {timeout} s: {job}")


def test_a_file_or_folder_swapped_for_a_link_after_submit_is_never_read(tiny_clip_dir, tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    blocker = make_video(root / "blocker.mp4", seed=1)
    victim = make_video(root / "victim.mp4", seed=2)
    nested = make_video(root / "sub" / "clip.mp4", seed=3)
    secret = make_video(outside / "secret.mp4", seed=4)
    secret_in_dir = make_video(outside / "dir" / "clip.mp4", seed=5)
    secret_ids = {hashlib.sha256(p.read_bytes()).hexdigest()[:16] for p in (secret, secret_in_dir)}

    clip = GatedClip(str(tiny_clip_dir), device="cpu", dtype="float32")
    embedder = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32"), clip)
    searcher = serve_searcher(SearcherSettings(port=0, data_dir=str(tmp_path / "searcher"),
                                               embedder_address=embedder.address, ann="none"))
    indexer = IndexerApp.serve(IndexerSettings(
        port=0, allowed_roots=(str(root),), embedder_address=embedder.address, searcher_address=searcher.address,
        workers=1, rpc_timeout_s=30.0))
    watch = ReadWatch([secret, secret_in_dir])
    channel = insecure_channel(indexer.address)
    try:
        stub = indexer_pb2_grpc.IndexerServiceStub(channel)

        def submit(path):
            return stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(path)), timeout=10).job

        clip.gate.clear()  # the first job holds the only worker in its embedding stage
        first = submit(blocker)
        _wait(stub, first.job_id, lambda job: job.stage == indexer_pb2.JOB_STAGE_EMBEDDING)
        swapped_file, swapped_folder = submit(victim), submit(nested)
        assert swapped_file.state == swapped_folder.state == indexer_pb2.JOB_STATE_QUEUED

        victim.unlink()
        victim.symlink_to(secret)  # the file itself becomes a link out of the root
        shutil.rmtree(root / "sub")
        (root / "sub").symlink_to(outside / "dir", target_is_directory=True)  # a folder above it does
        clip.gate.set()

        finished = lambda job: job.state not in (indexer_pb2.JOB_STATE_QUEUED, indexer_pb2.JOB_STATE_RUNNING)  # noqa: E731
        assert _wait(stub, first.job_id, finished).state == indexer_pb2.JOB_STATE_SUCCEEDED
        for job, says in ((swapped_file, "symbolic link"), (swapped_folder, "outside the allowed roots")):
            job = _wait(stub, job.job_id, finished)
            assert job.state == indexer_pb2.JOB_STATE_FAILED
            assert job.error_reason == indexer_pb2.JOB_ERROR_REASON_UNREADABLE
            assert says in job.error and "submit the file itself" in job.error
            assert job.video_id == "" and job.frames_decoded == 0, "a refused job reveals nothing of the file"
        assert watch.reads() == 0, "the Indexer read a file outside its allowed roots"

        searcher_stub = searcher_pb2_grpc.SearcherServiceStub(insecure_channel(searcher.address))
        stored = searcher_stub.ListVideos(searcher_pb2.ListVideosRequest(page_size=100), timeout=10).videos
        assert len(stored) == 1 and stored[0].uri.endswith("blocker.mp4")
        for video_id in secret_ids:
            with pytest.raises(grpc.RpcError) as caught:
                searcher_stub.GetVideo(searcher_pb2.GetVideoRequest(video_id=video_id), timeout=10)
            assert caught.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        clip.gate.set()
        watch.close()
        channel.close()
        indexer.stop(0)
        searcher.stop(0)
        embedder.stop(0)
