"""Stopping the Indexer gives a running job the grace period to finish (SIGTERM stops it
with --grace-seconds); only what is still running after that is cancelled."""

from __future__ import annotations

import threading

import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from tests.indexer.indexer_testlib import start_indexer, submit
from videosearch.indexer.types import JobState
from videosearch.v1 import indexer_pb2

pytestmark = pytest.mark.timeout(300)


def hold_until_embedding(gated_clip, app, path):
    """Submits a job with the Embedder held shut; returns (job id, the Indexer's channel) once it embeds."""
    gated_clip.gate.clear()
    stub, job, channel = submit(app, path, force=True)
    watch = stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job.job_id), timeout=120)
    next(u for u in watch if u.job.stage == indexer_pb2.JOB_STAGE_EMBEDDING)
    watch.cancel()
    return job.job_id, channel


@pytest.mark.parametrize("grace, expected", [(60.0, JobState.SUCCEEDED), (0.0, JobState.CANCELLED)])
def test_stop_lets_a_running_job_finish_within_the_grace_period(grace, expected, embedder, gated_clip, searcher,
                                                                 shared_videos):
    app = start_indexer([shared_videos], embedder.address, searcher.address)
    try:
        job_id, channel = hold_until_embedding(gated_clip, app, shared_videos / "counter.mp4")
        with channel:
            health = health_pb2_grpc.HealthStub(channel).Watch(health_pb2.HealthCheckRequest(), timeout=120)
            stopping = threading.Thread(target=app.stop, kwargs={"grace": grace})
            stopping.start()
            # NOT_SERVING is the first thing stop() does: the job is now draining, let it go on.
            next(u for u in health if u.status == health_pb2.HealthCheckResponse.NOT_SERVING)
            health.cancel()  # an open stream would hold the server's stop for the whole grace period
            gated_clip.gate.set()
            stopping.join(120)
        assert not stopping.is_alive()
    finally:
        gated_clip.gate.set()
        app.stop(0)
    assert app.jobs.get(job_id).state is expected
