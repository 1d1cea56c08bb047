"""The typed Python clients against real servers: domain values out, the project's
errors for every failure, the same shape for all three services."""

from __future__ import annotations

import socket

import pytest

from videosearch.common.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied, Unavailable
from videosearch.client.embedder import EmbedderClient
from videosearch.client.indexer import IndexerClient, SubmitOptions
from videosearch.indexer.types import Job, JobStage, JobState
from videosearch.client.searcher import SearcherClient

from tests.cli.conftest import make_video


def test_indexer_client_submits_watches_lists_and_gets_jobs(services):
    path = make_video(services.videos / "client" / "one.mp4", seed=51)
    with IndexerClient(services.indexer) as indexer:
        assert indexer.health() == "SERVING"
        job = indexer.submit(str(path), SubmitOptions(frames_per_scene=2, force=True))
        assert isinstance(job, Job) and job.state is JobState.QUEUED and job.options.frames_per_scene == 2
        snapshots = list(indexer.watch(job.job_id))
        assert snapshots[-1].state is JobState.SUCCEEDED and snapshots[-1].scenes_found == 2
        assert JobStage.EMBEDDING in {s.stage for s in snapshots}, "every stage transition comes through"
        assert snapshots[-1].frames_embedded == 2 * 2
        assert indexer.get(job.job_id) == snapshots[-1]
        again = indexer.submit(str(path))
        last = indexer.wait(again.job_id)
        assert last.skipped and last.video_id == snapshots[-1].video_id
        assert [j.job_id for j in indexer.list(page_size=1)] == [again.job_id, job.job_id], "newest first, every page"
        page, token = indexer.list_page(page_size=1)
        assert [j.job_id for j in page] == [again.job_id] and token
        with pytest.raises(FailedPrecondition, match="already finished"):
            indexer.cancel(job.job_id)


def test_indexer_client_failures_are_the_projects_errors(services, tmp_path):
    with IndexerClient(services.indexer) as indexer:
        with pytest.raises(NotFound, match="no job"):
            indexer.get("nope")
        with pytest.raises(NotFound):
            list(indexer.watch("nope"))
        with pytest.raises(PermissionDenied):
            indexer.submit(str(tmp_path / "elsewhere.mp4"))
        with pytest.raises(InvalidArgument, match="frames_per_scene"):
            indexer.submit(str(services.videos / "client" / "one.mp4"), SubmitOptions(frames_per_scene=500))


def test_every_client_says_when_its_service_is_unreachable():
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{sock.getsockname()[1]}"
        for client_type, call in ((IndexerClient, lambda c: c.get("x")), (SearcherClient, lambda c: c.stats()),
                                  (EmbedderClient, lambda c: c.model_info())):
            with client_type(address, timeout=5) as client, pytest.raises(Unavailable, match=client.service):
                call(client)
            with client_type(address, timeout=5) as client, pytest.raises(Unavailable):
                client.health()
