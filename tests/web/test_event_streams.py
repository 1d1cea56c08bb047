"""The job progress stream over a real HTTP server (uvicorn): when the browser goes away,
the gateway cancels its WatchIndexJob calls at once (no thread left waiting on a job), and
more streams than --max-event-streams are refused with 429 while /healthz still answers."""

from __future__ import annotations

import threading
import time

import httpx
import numpy as np
import pytest
from videosearch.client.indexer import IndexerClient

from tests.web.conftest import running_web, web_settings

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def long_jobs(live_services):
    """Two slow jobs on the Indexer's one worker: the second waits queued behind the first."""
    from videosearch.demo.videos import generate_demo_video

    first = live_services.root / "long" / "long-0.mp4"
    generate_demo_video(first, ["a red star", "a blue circle", "a green cross"], np.random.default_rng(40),
                        size=(320, 180), frames_per_scene=(300, 300))
    # The same frames with other bytes at the end: other content, so it is indexed in full too.
    second = first.with_name("long-1.mp4")
    second.write_bytes(first.read_bytes() + bytes(64))
    paths = [first, second]
    indexer = IndexerClient(live_services.addresses["indexer"])
    jobs = [indexer.submit(str(path)) for path in paths]
    yield indexer, jobs
    for job in jobs:
        try:
            indexer.cancel(job.job_id)
        except Exception:  # noqa: BLE001 - finished already
            pass
    indexer.close()


@pytest.fixture(scope="module")
def server(live_services):
    with running_web(web_settings(live_services, max_event_streams=1)) as url:
        yield url


def watch_threads(job_id: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"web-watch-{job_id}"]


def test_leaving_the_page_cancels_the_watch(server, long_jobs):
    indexer, (_, queued) = long_jobs
    with httpx.Client(base_url=server, timeout=30) as client:
        with client.stream("GET", "/index/events", params={"job": queued.job_id}) as stream:
            lines = stream.iter_lines()
            assert next(lines) == "event: job"
            deadline = time.monotonic() + 10
            while not watch_threads(queued.job_id):
                assert time.monotonic() < deadline, "the stream follows the job with a watch"
                time.sleep(0.05)
            busy = client.get("/index/events", params={"job": queued.job_id})
            assert busy.status_code == 429 and "progress streams are open" in busy.text
            assert client.get("/healthz").status_code == 200
        deadline = time.monotonic() + 10
        while watch_threads(queued.job_id):
            assert time.monotonic() < deadline, "the watch ends when the browser goes away"
            time.sleep(0.05)
        assert not indexer.get(queued.job_id).state.finished, "it ended because it was cancelled, not done"
        again = client.get("/index/events", params={"job": "000000-nosuchjob"})
        assert again.status_code == 200 and "job-error" in again.text, "the slot is free again"
