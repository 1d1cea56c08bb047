"""JobManager: worker pool, progress, cancellation, failure reasons, paging."""

from __future__ import annotations

import threading

import pytest
from videosearch.common.errors import FailedPrecondition, NotFound, ResourceExhausted
from videosearch.indexer.types import ErrorReason, IndexOptions, JobStage, JobState
from videosearch.indexer.jobs.manager import JobFailure, JobManager

OPTIONS = IndexOptions(detector_threshold=27.0, min_scene_len=15, frames_per_scene=3)


def wait_finished(manager: JobManager, job_id: str):
    *_, last = manager.watch(job_id, is_active=lambda: True, poll_s=0.05)
    return last


def test_progress_is_watched_in_order_until_success():
    def work(job, handle):
        for percent in (10.0, 50.0, 90.0):
            handle.update(stage=JobStage.EMBEDDING, percent=percent)

    manager = JobManager(work, workers=1, max_queued=10, finished_kept=10)
    job = manager.submit("/v.mp4", OPTIONS)
    seen = list(manager.watch(job.job_id, is_active=lambda: True, poll_s=0.05))
    assert seen[-1].state is JobState.SUCCEEDED and seen[-1].percent == 100.0
    percents = [j.percent for j in seen]
    assert percents == sorted(percents), "progress never goes backwards"
    assert [j.version for j in seen] == sorted(set(j.version for j in seen))
    manager.shutdown()


def test_failure_keeps_reason_and_message_and_worker_survives():
    def work(job, handle):
        if job.path == "/bad.mp4":
            raise JobFailure(ErrorReason.NOT_A_VIDEO, "/bad.mp4 is not a video")
        if job.path == "/crash.mp4":
            raise RuntimeError("boom")

    manager = JobManager(work, workers=1, max_queued=10, finished_kept=10)
    bad, crash, good = (manager.submit(p, OPTIONS) for p in ("/bad.mp4", "/crash.mp4", "/good.mp4"))
    bad, crash, good = (wait_finished(manager, j.job_id) for j in (bad, crash, good))
    assert (bad.state, bad.error_reason, bad.error) == (JobState.FAILED, ErrorReason.NOT_A_VIDEO, "/bad.mp4 is not a video")
    assert crash.state is JobState.FAILED and crash.error_reason is ErrorReason.INTERNAL
    assert "boom" not in crash.error, "internal details stay in the log"
    assert good.state is JobState.SUCCEEDED
    manager.shutdown()


def test_cancel_running_and_queued_jobs():
    started, release = threading.Event(), threading.Event()

    def work(job, handle):
        started.set()
        while not release.wait(0.01):
            handle.check_cancelled()

    manager = JobManager(work, workers=1, max_queued=10, finished_kept=10)
    running = manager.submit("/a.mp4", OPTIONS)
    queued = manager.submit("/b.mp4", OPTIONS)
    assert started.wait(5)
    assert manager.cancel(queued.job_id).state is JobState.CANCELLED
    manager.cancel(running.job_id)
    assert wait_finished(manager, running.job_id).state is JobState.CANCELLED
    with pytest.raises(FailedPrecondition):
        manager.cancel(running.job_id)
    manager.shutdown()


def test_queue_limit_unknown_ids_and_paging():
    started, gate = threading.Event(), threading.Event()

    def work(job, handle):
        started.set()
        gate.wait()

    manager = JobManager(work, workers=1, max_queued=2, finished_kept=10)
    try:
        jobs = [manager.submit("/0.mp4", OPTIONS)]
        # The first job counts as queued until the worker picks it up: wait for that.
        assert started.wait(5)
        jobs += [manager.submit(f"/{i}.mp4", OPTIONS) for i in (1, 2)]  # one running, two queued
        with pytest.raises(ResourceExhausted, match="already queued"):
            manager.submit("/overflow.mp4", OPTIONS)
        with pytest.raises(NotFound):
            manager.get("nope")
        first, next_before = manager.list(2)
        # A job submitted between pages is newer than every listed one: it must not
        # shift the next page (an offset would list the first page's last job again).
        manager.cancel(jobs[2].job_id)  # makes room in the queue; a cancelled job is still listed
        jobs.append(manager.submit("/late.mp4", OPTIONS))
        second, after_second = manager.list(2, before=next_before)
        assert next_before is not None and after_second is None
        assert [j.job_id for j in first + second] == [j.job_id for j in reversed(jobs[:3])]
    finally:
        gate.set()
        manager.shutdown()


def test_options_are_validated():
    from videosearch.common.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="frames_per_scene"):
        IndexOptions(27.0, 15, 65).validate()
    with pytest.raises(InvalidArgument, match="seconds_per_sample"):
        IndexOptions(27.0, 15, 0, seconds_per_sample=-1.0).validate()
    with pytest.raises(InvalidArgument, match="min_frames_per_scene"):
        IndexOptions(27.0, 15, 0, min_samples=10, max_samples=5).validate()
    assert IndexOptions(27.0, 15, 0).validate().sampling.max_samples == 160  # 0: sample through time
    with pytest.raises(InvalidArgument, match="detector_threshold"):
        IndexOptions(-1.0, 15, 3).validate()


def test_a_late_watcher_still_sees_every_stage_in_order():
    """The WatchIndexJob contract: a watcher that reads only after the job has run through
    several stages (each shorter than one wake-up) still gets every transition, in order."""
    stages = [JobStage.HASHING, JobStage.DETECTING_SCENES, JobStage.EMBEDDING, JobStage.STORING]
    release = threading.Event()

    def work(job, handle):
        release.wait(5)
        for stage in stages:
            handle.update(stage=stage)
            handle.update(percent=float(stages.index(stage) + 1))  # progress inside the stage

    manager = JobManager(work, workers=1, max_queued=10, finished_kept=10)
    job = manager.submit("/v.mp4", OPTIONS)
    watching = manager.watch(job.job_id, is_active=lambda: True, poll_s=5.0)
    first = next(watching)  # the watcher holds the queued snapshot; nothing is read meanwhile
    release.set()
    done = threading.Event()
    # Wait for the job to finish *before* reading on, so every stage happened unobserved.
    threading.Thread(target=lambda: (wait_finished(manager, job.job_id), done.set()), daemon=True).start()
    assert done.wait(10)
    rest = list(watching)
    seen = [first, *rest]
    assert [j.stage for j in seen if j.stage is not JobStage.NONE] == stages
    states = [s for i, s in enumerate(j.state for j in seen) if i == 0 or s is not seen[i - 1].state]
    assert states[-2:] == [JobState.RUNNING, JobState.SUCCEEDED]  # the first may be QUEUED or RUNNING
    assert [j.version for j in seen] == sorted(set(j.version for j in seen)), "in order, never twice"
    manager.shutdown()
