"""The Indexer's job table on disk: job ids survive a kill -9 of the process, unfinished
jobs run again at the next start, and a shutdown drains running jobs within its grace
period and keeps the rest queued for the next start (issue 7, part 7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading

from videosearch.indexer.jobs.store import JobStore, from_json, to_json
from videosearch.indexer.types import ErrorReason, IndexOptions, Job, JobStage, JobState
from videosearch.indexer.jobs.manager import JobFailure, JobManager

OPTIONS = IndexOptions(detector_threshold=27.0, min_scene_len=15, frames_per_scene=3)
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A process whose first job succeeds, second fails, third hangs in EMBEDDING and fourth
# waits in the queue; it prints the job ids once they are so, then waits to be killed.
_INDEXER = textwrap.dedent(
    f"""
    import sys, threading
    sys.path[:0] = {[os.path.join(REPO, "services"), *sys.path]!r}
    from videosearch.indexer.jobs.store import JobStore
    from videosearch.indexer.types import ErrorReason, IndexOptions, JobStage
    from videosearch.indexer.jobs.manager import JobFailure, JobManager
    hanging = threading.Event()

    def work(job, handle):
        if job.path == "/fails.mp4":
            raise JobFailure(ErrorReason.NOT_A_VIDEO, "not a video")
        if job.path == "/hangs.mp4":
            handle.update(stage=JobStage.EMBEDDING, percent=40.0)
            hanging.set()
            threading.Event().wait()

    manager = JobManager(work, workers=1, max_queued=10, finished_kept=10, store=JobStore(sys.argv[1]))
    options = IndexOptions(detector_threshold=27.0, min_scene_len=15, frames_per_scene=3)
    ids = [manager.submit(path, options).job_id for path in ("/ok.mp4", "/fails.mp4", "/hangs.mp4", "/queued.mp4")]
    hanging.wait()
    print(" ".join(ids), flush=True)
    threading.Event().wait()
    """
)


def wait_finished(manager: JobManager, job_id: str) -> Job:
    *_, last = manager.watch(job_id, is_active=lambda: True, poll_s=0.05)
    return last


def test_job_ids_and_unfinished_jobs_survive_a_kill_9(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", _INDEXER, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    ids = process.stdout.readline().split()
    assert len(ids) == 4, f"the indexer process ended early (exit code {process.poll()})"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    process.stdout.close()

    ran = []
    manager = JobManager(lambda job, handle: ran.append(job.path), workers=1, max_queued=10, finished_kept=10,
                         store=JobStore(tmp_path))
    ok, failed, hung, queued = (wait_finished(manager, job_id) for job_id in ids)
    assert ok.state is JobState.SUCCEEDED and ok.percent == 100.0
    assert (failed.state, failed.error_reason, failed.error) == (JobState.FAILED, ErrorReason.NOT_A_VIDEO, "not a video")
    assert hung.state is JobState.SUCCEEDED and queued.state is JobState.SUCCEEDED
    assert ran == ["/hangs.mp4", "/queued.mp4"], "only the unfinished jobs run again, in submission order"
    newer = manager.submit("/new.mp4", OPTIONS)
    assert newer.job_id > max(ids), "new ids continue after the old ones"
    assert [job.job_id for job in manager.list(10)[0]] == [newer.job_id, *reversed(ids)]
    manager.shutdown()


def test_shutdown_drains_running_jobs_and_keeps_queued_ones_for_the_next_start(tmp_path):
    started, release = threading.Event(), threading.Event()

    def work(job, handle):
        handle.update(stage=JobStage.EMBEDDING)
        started.set()
        release.wait()

    manager = JobManager(work, workers=1, max_queued=10, finished_kept=10, store=JobStore(tmp_path))
    running, waiting = manager.submit("/a.mp4", OPTIONS), manager.submit("/b.mp4", OPTIONS)
    started.wait(30)
    stopper = threading.Thread(target=manager.shutdown, kwargs={"grace_s": 60.0})
    stopper.start()
    release.set()  # the running job finishes within the grace period
    stopper.join(60)
    assert not stopper.is_alive()

    ran = []
    again = JobManager(lambda job, handle: ran.append(job.path), workers=1, max_queued=10, finished_kept=10,
                       store=JobStore(tmp_path))
    assert again.get(running.job_id).state is JobState.SUCCEEDED
    assert wait_finished(again, waiting.job_id).state is JobState.SUCCEEDED and ran == ["/b.mp4"]
    again.shutdown()


def test_a_job_still_running_at_the_end_of_the_grace_period_runs_again_next_time(tmp_path):
    started = threading.Event()

    def work(job, handle):
        started.set()
        while not handle.should_stop():
            handle.cancel_requested.wait(0.01)
        handle.check_cancelled()

    manager = JobManager(work, workers=1, max_queued=10, finished_kept=10, store=JobStore(tmp_path))
    job = manager.submit("/long.mp4", OPTIONS)
    started.wait(30)
    manager.shutdown(grace_s=0.05)

    ran = []
    again = JobManager(lambda job, handle: ran.append(job.path), workers=1, max_queued=10, finished_kept=10,
                       store=JobStore(tmp_path))
    assert wait_finished(again, job.job_id).state is JobState.SUCCEEDED and ran == ["/long.mp4"]
    again.shutdown()


def test_finished_jobs_keep_their_outcome_and_old_ones_are_forgotten_on_disk(tmp_path):
    def work(job, handle):
        if job.path == "/fail.mp4":
            raise JobFailure(ErrorReason.UNREADABLE, "unreadable")

    manager = JobManager(work, workers=1, max_queued=10, finished_kept=2, store=JobStore(tmp_path))
    ids = [manager.submit(f"/{n}.mp4", OPTIONS).job_id for n in ("one", "two", "fail")]
    for job_id in ids:
        wait_finished(manager, job_id)
    last = manager.submit("/four.mp4", OPTIONS)
    wait_finished(manager, last.job_id)
    manager.shutdown()

    store = JobStore(tmp_path)
    kept = {job.job_id: job for job in store.load(Job)}
    store.close()
    # Forgetting happens at submit, as in memory: "four" came when three were finished.
    assert set(kept) == {ids[1], ids[2], last.job_id}, "the oldest finished job is forgotten on disk too"
    assert kept[ids[2]].error_reason is ErrorReason.UNREADABLE and kept[ids[2]].options == OPTIONS


def test_a_job_table_written_before_the_option_renames_reads_the_same_options():
    # Until issue 23 the stored options used the proto's names (min_scene_frames, ...).
    options = IndexOptions(min_scene_len=8, min_samples=4, max_samples=9)
    stored = to_json(Job(job_id="j", path="/v.mp4", options=options))
    stored["options"] = {{"min_scene_len": "min_scene_frames", "min_samples": "min_frames_per_scene",
                          "max_samples": "max_frames_per_scene"}.get(k, k): v for k, v in stored["options"].items()}
    assert "min_scene_frames" in stored["options"] and "min_scene_len" not in stored["options"]
    assert from_json(Job, stored).options == options
