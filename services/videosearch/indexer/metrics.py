"""The Indexer's own Prometheus metrics: its jobs by state (read from the job table at each
scrape), and for each job that ends, the frames it decoded and the seconds of each stage."""

from __future__ import annotations

import functools

from videosearch.common.metrics import ServiceMetrics
from videosearch.indexer.types import Job, JobState
from videosearch.indexer.jobs.manager import JobManager

STAGE_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)


class IndexerMetrics:
    def __init__(self, metrics: ServiceMetrics, jobs: JobManager) -> None:
        self._jobs = jobs
        by_state = metrics.gauge("videosearch_indexer_jobs", "jobs the Indexer keeps, by state", ("state",))
        for state in JobState:
            by_state.labels(state.value).set_function(functools.partial(self._count, state))
        self._frames = metrics.counter("videosearch_indexer_frames_decoded", "frames decoded by jobs that ended")
        self._stage_seconds = metrics.histogram(
            "videosearch_indexer_stage_seconds",
            "seconds of each stage of a job (as in the job's stage_seconds)",
            STAGE_BUCKETS,
            ("stage",),
        )

    def _count(self, state: JobState) -> int:
        everything, _ = self._jobs.list(1 << 30)
        return sum(job.state is state for job in everything)

    def job_ended(self, job: Job) -> None:
        self._frames.inc(job.frames_decoded)
        for stage, seconds in job.stage_seconds.items():
            self._stage_seconds.labels(stage).observe(seconds)
