"""A reindex job: every stored video indexed again with another model, then one switch
(issue 21, part 8; the Searcher's half is videosearch.searcher.collections).

The job asks the new model's Embedder which model it serves, stages a collection for that
model in the Searcher, and runs the ordinary pipeline over each stored video's file with the
new Embedder, writing into the staged collection (UpsertVideo with ``staged``) while searches
keep reading the serving one. When every video is in, it asks the Searcher to switch; the
Searcher refuses while videos indexed meanwhile are missing (the job indexes them and asks
again, up to SWITCH_ROUNDS times) and drops those deleted meanwhile. A
video whose files are all gone, a failure or a cancel drops the staged collection and leaves
the old one serving; nothing is switched half-way.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from videosearch.common.errors import FailedPrecondition, NotFound, VideoSearchError
from videosearch.client.embedder import EmbedderClient
from videosearch.indexer.types import ErrorReason, Job
from videosearch.indexer.jobs.manager import JobFailure, JobHandle
from videosearch.indexer.jobs.pipeline import IndexPipeline, VideoStore
from videosearch.indexer.paths import AllowedRoots
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import SceneRecord, SearcherStats, VideoExtras, VideoRecord

log = logging.getLogger(__name__)

PAGE = 500
SWITCH_ROUNDS = 5  # tries to switch, each after a pass over the videos indexed meanwhile (then the job fails)


class StagedCollection:
    """The pipeline's VideoStore for a reindex: writes go to the Searcher's staged collection of
    ``model_id``; nothing counts as indexed there yet (so every video is decoded again)."""

    def __init__(self, searcher: SearcherClient, model_id: str) -> None:
        self._searcher, self._model_id = searcher, model_id

    def stats(self) -> SearcherStats:
        return SearcherStats(
            video_count=0, scene_count=0, model_id=self._model_id, embedding_dim=0, approximate_index=False
        )

    def get_video(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord]]:
        raise NotFound(f"video {video_id} is not in the staged collection yet")

    def upsert_video(self, video, scenes, embeddings: np.ndarray, moments=None, extras: VideoExtras = VideoExtras()):
        return self._searcher.upsert_video(video, scenes, embeddings, moments, extras, staged=True)

    def update_locations(self, video_id: str, locations) -> VideoRecord:
        raise NotFound(f"video {video_id} is not in the staged collection yet")


class _VideoProgress:
    """The handle one video's pipeline run sees: its stages pass through, its percent becomes
    the share of the whole reindex, and the reindex's cancel stops it."""

    def __init__(self, handle: JobHandle, done: int, total: int) -> None:
        self._handle, self._done, self._total = handle, done, total

    def update(self, **changes) -> None:
        forwarded = {key: value for key, value in changes.items() if key in ("stage", "percent")}
        if "percent" in forwarded:
            forwarded["percent"] = 100.0 * (self._done + forwarded["percent"] / 100.0) / self._total
        if forwarded:
            self._handle.update(**forwarded)

    def should_stop(self) -> bool:
        return self._handle.should_stop()

    def check_cancelled(self) -> None:
        self._handle.check_cancelled()


MakePipeline = Callable[[EmbedderClient, VideoStore], IndexPipeline]


class Reindexer:
    """Runs reindex jobs (JobManager work for jobs with ``reindex_embedder_address``)."""

    def __init__(
        self,
        searcher: SearcherClient,
        roots: AllowedRoots,
        make_pipeline: MakePipeline,
        make_embedder: Callable[[str], EmbedderClient],
        switched: Callable[[str], None] = lambda address: None,
    ) -> None:
        self._searcher, self._roots = searcher, roots
        self._make_pipeline, self._make_embedder = make_pipeline, make_embedder
        self._switched = switched  # told the new Embedder's address once the Searcher serves the new model

    def __call__(self, job: Job, handle: JobHandle) -> None:
        embedder = self._make_embedder(job.reindex_embedder_address)
        try:
            model_id = self._new_model(job, embedder)
            handle.update(reindex_model_id=model_id)
            plan = self._plan()
            handle.update(videos_total=len(plan))
            self._searcher.stage_collection(model_id, job.reindex_embedder_address)
            try:
                done = self._build_and_switch(job, handle, embedder, model_id, plan)
            except BaseException:
                with contextlib.suppress(VideoSearchError):
                    self._searcher.drop_staged_collection(model_id)
                raise
            log.info("job %s: reindexed %d videos with %s and switched to it", job.job_id, len(done), model_id)
            handle.update(percent=100.0)
            self._switched(job.reindex_embedder_address)
        finally:
            embedder.close()

    def _build_and_switch(
        self, job: Job, handle: JobHandle, embedder: EmbedderClient, model_id: str, plan: list[tuple[VideoRecord, str]]
    ) -> set[str]:
        """Indexes ``plan`` into the staged collection and switches; returns the videos indexed.
        The Searcher switches only when the staged collection holds every video the serving one
        holds (it drops those deleted meanwhile itself); while videos indexed meanwhile are
        missing it refuses, and they are indexed in another round."""
        done: set[str] = set()
        for attempt in range(1, SWITCH_ROUNDS + 1):
            todo = [(video, path) for video, path in plan if video.video_id not in done]
            if todo:
                handle.update(videos_total=len(done) + len(todo))
                self._build(job, handle, embedder, model_id, todo, len(done))
                done |= {video.video_id for video, _ in todo}
            handle.check_cancelled()
            try:
                self._searcher.switch_collection(model_id)
                return done
            except FailedPrecondition as refused:
                plan = self._plan()
                if not any(video.video_id not in done for video, _ in plan):
                    raise  # not videos indexed meanwhile: the Searcher's reason stands
                if attempt == SWITCH_ROUNDS:
                    raise JobFailure(
                        ErrorReason.SEARCHER_REFUSED,
                        f"videos kept being indexed with the old model "
                        f"during {SWITCH_ROUNDS} rounds of catching up ({refused}); the old collection "
                        "keeps serving: reindex again when less is being indexed",
                    ) from refused
                log.info("job %s: the Searcher refused the switch (%s); catching up", job.job_id, refused)
        raise AssertionError("unreachable")

    def _new_model(self, job: Job, embedder: EmbedderClient) -> str:
        try:
            served = embedder.model_info().model_id
        except VideoSearchError as exc:
            raise JobFailure(
                ErrorReason.EMBEDDER_UNAVAILABLE,
                f"the Embedder at {job.reindex_embedder_address} did not "
                f"answer ({exc}); start it with the new model and reindex again",
            ) from exc
        wanted = job.reindex_model_id
        if wanted and served != wanted and served.split("@", 1)[0] != Path(wanted).name:
            raise JobFailure(
                ErrorReason.MODEL_MISMATCH,
                f"the Embedder at {job.reindex_embedder_address} serves "
                f"{served}, not {wanted}; point --embedder-address at the Embedder of the new model",
            )
        current = self._searcher.stats().model_id
        if served == current:
            raise JobFailure(ErrorReason.MODEL_MISMATCH, f"the collection already serves {served}; nothing to reindex")
        return served

    def _plan(self) -> list[tuple[VideoRecord, str]]:
        """Every stored video with a file to read it from; fails naming the videos without one."""
        videos, token = [], ""
        while True:
            page, token, _ = self._searcher.list_videos(PAGE, token)
            videos += page
            if not token:
                break
        plan, gone = [], []
        for video in videos:
            present = [
                location.path
                for location in video.locations
                if not location.missing and Path(location.path).is_file() and self._readable(location.path)
            ]
            if present:
                plan.append((video, present[0]))
            else:
                gone.append(video.uri or video.video_id)
        if gone:
            raise JobFailure(
                ErrorReason.UNREADABLE,
                f"{len(gone)} stored videos have no readable file (e.g. "
                f"{', '.join(gone[:3])}); restore them, or forget them with `videosearch index --prune`, "
                "then reindex",
            )
        if not plan:
            raise JobFailure(ErrorReason.UNREADABLE, "no video is stored; index some with the new model instead")
        return plan

    def _readable(self, path: str) -> bool:
        try:
            self._roots.resolve(path)
        except VideoSearchError:
            return False
        return True

    def _build(
        self,
        job: Job,
        handle: JobHandle,
        embedder: EmbedderClient,
        model_id: str,
        plan: list[tuple[VideoRecord, str]],
        before: int,
    ) -> None:
        """Indexes ``plan`` into the staged collection; ``before`` videos were done in earlier rounds."""
        pipeline = self._make_pipeline(embedder, StagedCollection(self._searcher, model_id))
        total = before + len(plan)
        try:
            for done, (video, path) in enumerate(plan, before):
                handle.check_cancelled()
                one = Job(job_id=f"{job.job_id}.{done}", path=path, options=job.options)
                # The video keeps its id: the switch checks the staged collection holds every stored one.
                pipeline(one, _VideoProgress(handle, done, total), video_id=video.video_id)
                handle.update(videos_done=done + 1, percent=100.0 * (done + 1) / total)
        finally:
            pipeline.close()
