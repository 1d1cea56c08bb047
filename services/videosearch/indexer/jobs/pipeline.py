"""Indexes one video: check the model, hash, detect scenes and sample frames through time in one
decode pass, embed each scene's frames while the next one decodes, split long
scenes into moments where their frames' embeddings change, make a thumbnail per scene, then
store the whole video (scenes, moments, one embedding per moment, every sampled frame's
embedding and the thumbnails) in the Searcher in one atomic upsert. Talks to the other services only through the
small protocols below, so it can be tested with real in-process servers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Protocol

import numpy as np

from videosearch.common.priority import run_in_background
from videosearch.common.errors import Cancelled, NotFound
from videosearch.embedder.types import ModelInfo
from videosearch.indexer.media import facade as media
from videosearch.indexer.media.decode_modes import mode_covers
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.media.frame_times import FrameTimes
from videosearch.indexer.jobs.failures import Dependency, failing_iter, failures_of
from videosearch.common.resilience import RetryPolicy
from videosearch.indexer.jobs.limits import MediaLimits
from videosearch.indexer.jobs.locations import file_location, record_location
from videosearch.indexer.media.moments import MomentSettings, VideoMoment, join_across_cuts, split_scene, unit_mean
from videosearch.indexer.types import ErrorReason, IndexOptions, Job, JobStage
from videosearch.indexer.jobs.manager import JobFailure
from videosearch.indexer.media.opened_file import OpenedFile
from videosearch.indexer.paths import AllowedRoots
from videosearch.indexer.media.reuse import DEFAULT_MAX_DIFFERENCE, embedding_sources
from videosearch.indexer.media.thumbnails import MAX_SIDE as THUMBNAIL_SIDE
from videosearch.indexer.media.thumbnails import middle_sample, read_back_thumbnails, thumbnail_of
from videosearch.indexer.media.timing import StageClock
from videosearch.indexer.text.on_screen import TextRecognizer
from videosearch.indexer.text.subtitles import Sidecars
from videosearch.indexer.text.video_text import TextChoice, Transcriber, VideoText
from videosearch.searcher.types import (
    MomentRecord,
    SampledFrame,
    SceneRecord,
    SearcherStats,
    Thumbnail,
    VideoExtras,
    VideoRecord,
)

log = logging.getLogger(__name__)

# Share of the progress bar left for storing; the decode pass (embedding runs beside it) has the rest.
_STORE_SHARE = 3.0


class Progress(Protocol):
    """What indexing one video uses of its job: a JobHandle, or a reindex's view of one video."""

    def update(self, **changes) -> None: ...
    def should_stop(self) -> bool: ...
    def check_cancelled(self) -> None: ...


class ImageEmbedder(Protocol):
    def model_info(self) -> ModelInfo: ...
    def embed_images(self, pixels: np.ndarray) -> np.ndarray: ...


class VideoStore(Protocol):
    def stats(self) -> SearcherStats: ...
    def get_video(self, video_id: str) -> tuple[VideoRecord, list[SceneRecord]]: ...
    def upsert_video(
        self,
        video: VideoRecord,
        scenes: list[SceneRecord],
        embeddings: np.ndarray,
        moments: list[MomentRecord] | None = None,
        extras: VideoExtras = VideoExtras(),
    ): ...
    def update_locations(self, video_id: str, locations) -> VideoRecord: ...


def video_id_of(sha256: str, sidecar_key: str = "") -> str:
    """A video's id: its content's SHA-256 (hex, first 16), or, when subtitle files beside it
    hold cues (Sidecars.key), the SHA-256 of both: identical files with other words beside
    them are other videos, each searchable by its own words at its own path."""
    return (hashlib.sha256(f"{sha256}\n{sidecar_key}".encode()).hexdigest() if sidecar_key else sha256)[:16]


def scene_embedding(frame_embeddings: np.ndarray) -> np.ndarray:
    """A scene's embedding: the normalized mean of its frames' normalized embeddings."""
    return unit_mean(frame_embeddings)


@dataclasses.dataclass
class _Decoded:
    """What the decode pass produced: scenes with their frames' embeddings."""

    video_info: media.VideoInfo
    frame_times: FrameTimes  # presentation time of each frame (right on variable frame rate too)
    spans: list[tuple[int, int, int, list[int]]]  # index, start, end, sampled frames
    frame_embeddings: list[np.ndarray]  # per scene: (sampled frames, dim)
    thumbnails: dict[int, Thumbnail]  # scene index -> thumbnail made from the pass's preview (large frames)
    text: VideoText  # the words read beside the pass (subtitles, speech, on-screen text)


class IndexPipeline:
    """Indexes one video in named steps, each a method below:

    1. ``_check_model``: the Embedder's model must be the one of the Searcher's collection
       (checked before anything is decoded: a mismatch would be refused at the end anyway)
    2. ``_start_hashing``: hash the file beside decoding, then ask whether it is indexed already
    3. ``_decode_and_embed``: one decode pass (scenes, sampled frames), embeddings in flight
    4. ``_scenes_and_moments``: scene records, moments and one embedding per moment
    5. ``_extras``: each sampled frame's place and embedding, and one thumbnail per scene
    6. ``_store_video``: one atomic upsert into the Searcher

    Errors of the Embedder, the Searcher and the file become the job's failure reason
    through the one table in :mod:`videosearch.indexer.jobs.failures`."""

    def __init__(
        self,
        embedder: ImageEmbedder,
        store: VideoStore,
        *,
        embed_requests_in_flight: int,  # default: IndexerSettings
        moments: MomentSettings = MomentSettings(),
        limits: MediaLimits = MediaLimits(),
        retry: RetryPolicy = RetryPolicy(),
        roots: AllowedRoots | None = None,
        decoder: DecoderSettings = DecoderSettings(),
        reuse_max_difference: float = DEFAULT_MAX_DIFFERENCE,
        transcriber: Transcriber | None = None,
        text_recognizer: TextRecognizer | None = None,
        nice: int = 0,
        speech_timeout_s: float | None = None,
    ) -> None:
        self._nice = nice  # of the threads indexing runs on (decode, hash), see common/priority.py
        self._speech_timeout_s = speech_timeout_s
        self._embedder = embedder
        self._transcriber = transcriber  # speech (IndexOptions.speech): the Embedder's TranscribeAudio
        self._text_recognizer = text_recognizer  # on-screen text (IndexOptions.on_screen_text)
        self._reuse_max_difference = reuse_max_difference  # see videosearch.indexer.media.reuse
        self._roots = roots  # checked again on the opened file (None: tests that index anything)
        self._decoder = decoder
        self._retry = retry
        self._limits = limits
        self._store = store
        self._moments = moments
        self._in_flight = max(1, embed_requests_in_flight)
        self._embed_pool = ThreadPoolExecutor(max_workers=self._in_flight, thread_name_prefix="embed-call")
        self._hash_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hash")

    def close(self) -> None:
        self._embed_pool.shutdown(wait=False, cancel_futures=True)
        self._hash_pool.shutdown(wait=False, cancel_futures=True)

    def __call__(self, job: Job, handle: Progress, *, video_id: str = "") -> None:
        """Indexes ``job.path``; ``video_id``: the id to store it under (a reindex keeps each
        stored video's id, its sidecar may have changed since), by default video_id_of its content."""
        run_in_background(self._nice)  # searches first; the decoder's threads, started below, inherit it
        clock = StageClock()
        try:
            self._index(job, handle, clock, video_id)
        finally:
            seconds = {stage: round(value, 4) for stage, value in sorted(clock.seconds.items())}
            handle.update(stage_seconds=seconds)
            log.info("job %s stage seconds: %s", job.job_id, seconds)

    def _index(self, job: Job, handle: Progress, clock: StageClock, video_id: str) -> None:
        started = time.perf_counter()
        info = self._check_model(handle)
        with failures_of(Dependency.VIDEO_FILE):
            opened = OpenedFile.open(job.path, self._roots)
        with opened:  # held for the job's life: everything below reads this descriptor
            self._index_opened(job, opened, handle, info, clock, video_id)
        clock.add("total_wall", time.perf_counter() - started)

    def _index_opened(
        self, job: Job, opened: OpenedFile, handle: Progress, info: ModelInfo, clock: StageClock, video_id: str
    ) -> None:
        self._check_limits(job, opened)
        handle.update(stage=JobStage.HASHING)
        # The subtitles beside this path are part of what identifies the video (video_id_of).
        sidecars = Sidecars.read(job.path, self._limits, self._roots) if job.options.subtitles else Sidecars()
        hashing = self._start_hashing(job, opened, info.model_id, video_id, sidecars.key, clock)
        try:
            decoded = self._decode_and_embed(job, sidecars, opened, handle, info, hashing, clock)
        except BaseException:
            hashing.cancel()  # not started yet: never starts on a descriptor about to be closed
            raise
        sha256, already_indexed, video_id = hashing.result()
        # Only now, the file having proved a video, does the job show what its content hashes to.
        handle.update(video_id=video_id)
        if already_indexed:
            # A copy, move or rename of indexed content (the same sidecar words too): note the path,
            # decode nothing more.
            record_location(self._store, video_id, job.path)
            handle.update(skipped=True)
            return
        assert decoded is not None, "the decode pass gives up only on content the hash found indexed"
        scenes, moments, matrix = self._scenes_and_moments(
            decoded.spans, decoded.frame_embeddings, decoded.video_info.fps, decoded.frame_times, clock
        )
        handle.update(moments_found=len(moments))
        extras = self._extras(opened, decoded, moments, clock)
        extras = dataclasses.replace(extras, text_spans=tuple(self._text_spans(decoded, handle)))
        self._store_video(
            job,
            handle,
            clock,
            self._video_record(job, info, sha256, video_id, decoded, scenes, moments, matrix),
            scenes,
            moments,
            matrix,
            extras,
        )

    # -- 1. the model ------------------------------------------------------------------
    def _check_model(self, handle: Progress) -> ModelInfo:
        """The Embedder's model, once it is known to be the collection's (or the collection is empty).
        A dependency that is briefly away is waited for (see RetryPolicy), not failed at once."""
        with failures_of(Dependency.EMBEDDER):
            info = self._retry.call(self._embedder.model_info, should_stop=handle.should_stop)
        with failures_of(Dependency.SEARCHER):
            collection_model = self._retry.call(self._store.stats, should_stop=handle.should_stop).model_id
        if collection_model and collection_model != info.model_id:
            raise JobFailure(
                ErrorReason.MODEL_MISMATCH,
                f"the searcher's collection was embedded by model {collection_model!r} but the embedder runs "
                f"{info.model_id!r}; start the embedder with --model {collection_model}, or give the searcher "
                "another --data-dir for a collection of the new model",
            )
        return info

    def _check_limits(self, job: Job, opened: OpenedFile) -> None:
        """Before hashing or decoding: the file's size, and its frame size and duration as the
        container states them (opening it reads one frame)."""
        with failures_of(Dependency.VIDEO_FILE), opened.named():
            self._limits.check_file(job.path, opened.size)
            info = media.probe(opened.reader_path)
            self._limits.check_video(job.path, info.width, info.height, info.duration_seconds)

    # -- 2. the hash -------------------------------------------------------------------
    def _start_hashing(
        self, job: Job, opened: OpenedFile, model_id: str, video_id: str, sidecar_key: str, clock: StageClock
    ) -> Future:
        """Hashes while decoding starts: both read the whole file, and only the skip decision
        (same content and sidecar words already indexed by the same model) waits for the hash.
        The future's result is (content SHA-256, whether the Searcher holds it already, the
        video's id: ``video_id`` if given, else video_id_of the content and ``sidecar_key``)."""
        return self._hash_pool.submit(self._hash_and_check, job, opened, model_id, video_id, sidecar_key, clock)

    def _hash_and_check(
        self, job: Job, opened: OpenedFile, model_id: str, video_id: str, sidecar_key: str, clock: StageClock
    ) -> tuple[str, bool, str]:
        run_in_background(self._nice)
        with clock.timing("hash"), failures_of(Dependency.VIDEO_FILE), opened.named():
            sha256 = media.sha256_file(opened.reader_path)
        video_id = video_id or video_id_of(sha256, sidecar_key)
        indexed = not job.options.force and self._already_indexed(video_id, model_id, job.options.decode_mode)
        return sha256, indexed, video_id

    def _already_indexed(self, video_id: str, model_id: str, decode_mode: str) -> bool:
        """Whether the Searcher holds this content embedded by the same model, from at least the
        frames asked for: a video a fast decode mode made is indexed again when every frame is
        asked for (the old entry serves searches until the new one replaces it in one write)."""
        with failures_of(Dependency.SEARCHER):
            try:
                stored, _ = self._retry.call(lambda: self._store.get_video(video_id))  # a Searcher restarting: wait
            except NotFound:
                return False
        return stored.model_id == model_id and mode_covers(stored.decode_mode, decode_mode)

    # -- 3. decode and embed -----------------------------------------------------------
    def _decode_and_embed(
        self,
        job: Job,
        sidecars: Sidecars,
        opened: OpenedFile,
        handle: Progress,
        info: ModelInfo,
        hashing: Future,
        clock: StageClock,
    ) -> _Decoded | None:
        """One decode pass: scenes are detected and their frames sampled and sent to the
        Embedder while the next scene decodes (``sidecars``: the subtitle files beside the job's
        file, read before). Stops early, returning None, once the hash shows the video is
        indexed already."""
        options: IndexOptions = job.options

        def already_indexed() -> bool:
            return hashing.done() and hashing.result()[1]

        def should_stop() -> bool:
            return handle.should_stop() or already_indexed()

        detecting = [False]  # shared with _decode_pass, which moves the stage on

        def on_decode_progress(decoded: int, total: int) -> None:
            changes = {}
            if not detecting[0]:  # the first frames are decoded: the job is past its start
                detecting[0], changes["stage"] = True, JobStage.DETECTING_SCENES
            share = 100.0 - _STORE_SHARE
            handle.update(
                frames_decoded=decoded,
                frames_total=total,
                percent=share * min(decoded / total, 1.0) if total else 0.0,
                **changes,
            )

        text = VideoText(
            job.path,
            TextChoice(options.subtitles, options.speech, options.on_screen_text),
            limits=self._limits,
            roots=self._roots,
            transcriber=self._transcriber,
            recognizer=self._text_recognizer,
            clock=clock,
            should_stop=should_stop,
            speech_timeout_s=self._speech_timeout_s,
            sidecars=sidecars,
        )
        try:
            return self._decode_pass(
                job,
                opened,
                handle,
                info,
                hashing,
                clock,
                text,
                should_stop,
                already_indexed,
                on_decode_progress,
                detecting,
            )
        except BaseException:
            text.close()
            raise

    def _decode_pass(
        self,
        job: Job,
        opened: OpenedFile,
        handle: Progress,
        info: ModelInfo,
        hashing: Future,
        clock: StageClock,
        text: VideoText,
        should_stop,
        already_indexed,
        on_decode_progress,
        detecting: list[bool],
    ) -> _Decoded | None:
        options: IndexOptions = job.options
        decoder = self._decoder.for_mode(options.decode_mode)  # a fast mode decodes with PyAV
        side_streams = text.start_apart(decoder.library, opened.reader_path)  # (every mode demuxes every packet)
        scenes = media.iter_scenes(
            opened.reader_path,
            side_streams=side_streams,
            keep_text_frames=text.reads_frames,
            detector=options.detector_settings,
            sampling=options.sampling,
            preprocessing=info.preprocessing,
            on_progress=on_decode_progress,
            should_stop=should_stop,
            decoder=decoder,
        )
        pending: deque[Future] = deque()
        thumbnails: dict[int, Thumbnail] = {}
        spans: list[tuple[int, int, int, list[int]]] = []
        frame_embeddings: list[np.ndarray] = []
        frames_embedded = frames_to_embed = reused = 0
        decode_started = time.perf_counter()

        def embed(pixels: np.ndarray, sources: list[int]) -> np.ndarray:
            # Only the samples that are their own source run CLIP; the others take their anchor's vector.
            embedded = sorted(set(sources))
            with clock.timing("embed"):
                # An Embedder that goes away mid-job (a restart) is waited for like one that is away
                # at the start; only this request is sent again: the scenes already embedded are kept.
                vectors = np.asarray(
                    self._retry.call(
                        lambda: self._embedder.embed_images(pixels[embedded]), should_stop=handle.should_stop
                    )
                )
            row = {sample: i for i, sample in enumerate(embedded)}
            return vectors[[row[source] for source in sources]]

        def collect_oldest() -> None:
            nonlocal frames_embedded
            with failures_of(Dependency.EMBEDDER):
                frame_vectors = pending.popleft().result()
            frame_embeddings.append(np.asarray(frame_vectors, dtype=np.float32))
            frames_embedded += len(frame_vectors)
            handle.update(frames_embedded=frames_embedded)

        try:
            for scene in failing_iter(Dependency.VIDEO_FILE, opened.named_iter(scenes)):
                handle.check_cancelled()
                with failures_of(Dependency.VIDEO_FILE):
                    self._limits.check_scene_count(job.path, scene.index + 1)
                frames_to_embed += len(scene.sample_frames)
                detecting[0] = True  # a later progress report must not step the stage back
                handle.update(stage=JobStage.EMBEDDING, scenes_found=scene.index + 1, frames_to_embed=frames_to_embed)
                # Send this scene's frames now and go on decoding; bound what is in flight.
                sources = embedding_sources(scene.pixels, self._reuse_max_difference)
                reused += len(sources) - len(set(sources))
                pending.append(self._embed_pool.submit(embed, scene.pixels, sources))
                text.add_scene(scene.text_frames, [t.seconds for t in scene.sample_times], scene.end.seconds)
                spans.append((scene.index, scene.start_frame, scene.end_frame, list(scene.sample_frames)))
                if scene.preview is not None and max(scene.preview.shape[:2]) >= THUMBNAIL_SIDE:  # else read back
                    assert scenes.video_info is not None, "known once the file is open"
                    with clock.timing("thumbnails"):
                        middle = len(scene.sample_frames) // 2
                        thumbnails[scene.index] = thumbnail_of(
                            scene.preview,
                            scene.sample_frames[middle],
                            scene.sample_times[middle].seconds,
                            scenes.video_info.pixel_aspect,
                        )
                while len(pending) > self._in_flight:
                    collect_oldest()
        except Cancelled:  # the decode stopped: a cancel, or the hash found the video indexed already
            if handle.should_stop() or not already_indexed():
                raise
        if hashing.result()[1]:  # waits for the hash
            for future in pending:
                future.cancel()
            text.close()
            return None
        while pending:
            collect_oldest()
            handle.check_cancelled()
        for stage, seconds in scenes.clock.seconds.items():
            clock.add(stage, seconds)
        if scenes.hardware_decoded:  # the same seconds again, under a name that says the GPU decoded them
            clock.add("decode_hardware", scenes.clock.seconds.get("decode", 0.0))
        clock.add("decode_pass_wall", time.perf_counter() - decode_started)
        log.info(
            "job %s: %d of %d sampled frames reused an embedding (no forward pass)", job.job_id, reused, frames_to_embed
        )
        assert scenes.video_info is not None and scenes.frame_times is not None, "complete after the last scene"
        return _Decoded(scenes.video_info, scenes.frame_times, spans, frame_embeddings, thumbnails, text)

    # -- 3b. the video's words ---------------------------------------------------------
    @staticmethod
    def _text_spans(decoded: _Decoded, handle: Progress) -> list:
        """What was said and written, once the readers beside the pass are done; what could not
        be read is the job's warnings, never its failure."""
        stages = {"transcribing": JobStage.TRANSCRIBING, "reading_text": JobStage.READING_TEXT}
        try:
            spans = decoded.text.finish(
                decoded.frame_times.duration_seconds, on_stage=lambda stage: handle.update(stage=stages[stage])
            )
        finally:
            decoded.text.close()
        handle.update(warnings=tuple(decoded.text.warnings.all()), text_spans_found=len(spans))
        return spans

    # -- 4. scenes and moments ---------------------------------------------------------
    def _scenes_and_moments(
        self,
        spans: list[tuple[int, int, int, list[int]]],
        frame_embeddings: list[np.ndarray],
        fps,
        times: FrameTimes,
        clock: StageClock,
    ) -> tuple[list[SceneRecord], list[MomentRecord], np.ndarray]:
        """Scene records, the moments (long scenes split where the frames change, moments on
        either side of a cut joined where they did not) and one embedding per moment, in the
        order the Searcher stores them."""
        scenes: list[SceneRecord] = []
        placed: list[VideoMoment] = []
        with clock.timing("moments"):
            for (index, start, end, sampled), frames in zip(spans, frame_embeddings):
                scenes.append(
                    SceneRecord(
                        index=index,
                        start_frame=start,
                        end_frame=end,
                        start_seconds=times.seconds(start),
                        end_seconds=times.seconds(end),
                        sampled_frames=len(sampled),
                    )
                )
                placed += [
                    VideoMoment(index, m.start_frame, m.end_frame, frames[m.first_sample : m.end_sample])
                    for m in split_scene(
                        frames,
                        sampled,
                        start,
                        end,
                        float(fps),
                        self._moments,
                        seconds=float(times.exact_seconds(end) - times.exact_seconds(start)),
                    )
                ]
            placed = join_across_cuts(
                placed,
                self._moments.join_cosine,
                max_seconds=self._moments.join_max_seconds,
                seconds=times.exact_seconds,
            )
            moments = [
                MomentRecord(
                    index=i,
                    scene_index=m.scene_index,
                    start_frame=m.start_frame,
                    end_frame=m.end_frame,
                    start_seconds=times.seconds(m.start_frame),
                    end_seconds=times.seconds(m.end_frame),
                    sampled_frames=len(m.frame_embeddings),
                )
                for i, m in enumerate(placed)
            ]
            vectors = np.stack([m.embedding for m in placed]).astype(np.float32)
        return scenes, moments, vectors

    # -- 5. sampled frames and thumbnails ------------------------------------------------
    @staticmethod
    def _extras(opened: OpenedFile, decoded: _Decoded, moments: list[MomentRecord], clock: StageClock) -> VideoExtras:
        """Where each moment's sampled frames lie (moments tile the video and take the sampled
        frames in order, as many as each averaged) with their embeddings, and the thumbnails.
        A thumbnail that cannot be made costs the video its thumbnails, never the job."""
        samples = [frame for _index, _start, _end, sampled in decoded.spans for frame in sampled]
        times = decoded.frame_times
        frames: list[SampledFrame] = []
        for moment in moments:
            at = len(frames)
            frames += [
                SampledFrame(moment.index, f, times.seconds(f)) for f in samples[at : at + moment.sampled_frames]
            ]
        made = dict(decoded.thumbnails)
        missing = [span for span in decoded.spans if span[0] not in made]
        with clock.timing("thumbnails"):
            try:
                with opened.named():  # the job's one descriptor, as the decode pass read it
                    read = (
                        read_back_thumbnails(opened.reader_path, [middle_sample(span[3]) for span in missing], times)
                        if missing
                        else []
                    )
            except Exception:  # thumbnails are a convenience; the index must not depend on them
                log.warning("no thumbnails for %s", opened.path, exc_info=True)
                read = []
        made.update(zip((span[0] for span in missing), read))
        thumbnails = tuple(made[span[0]] for span in decoded.spans) if len(made) == len(decoded.spans) else ()
        return VideoExtras(tuple(frames), np.concatenate(decoded.frame_embeddings).astype(np.float32), thumbnails)

    # -- 6. store ----------------------------------------------------------------------
    @staticmethod
    def _video_record(
        job: Job,
        info: ModelInfo,
        sha256: str,
        video_id: str,
        decoded: _Decoded,
        scenes: list[SceneRecord],
        moments: list[MomentRecord],
        matrix: np.ndarray,
    ) -> VideoRecord:
        video_info = decoded.video_info
        return VideoRecord(
            video_id=video_id,
            uri=job.path,
            duration_seconds=decoded.frame_times.duration_seconds,  # presentation times, right on VFR too
            fps=video_info.fps,
            frame_count=video_info.frame_count,
            width=video_info.display_width,  # as players show it (non-square pixels stretched)
            height=video_info.display_height,
            content_sha256=sha256,
            model_id=info.model_id,
            embedding_dim=int(matrix.shape[1]),
            indexed_at=dt.datetime.now(dt.timezone.utc),
            scene_count=len(scenes),
            moment_count=len(moments),
            locations=(file_location(job.path),),
            decode_mode=job.options.decode_mode,
        )

    def _store_video(
        self,
        job: Job,
        handle: Progress,
        clock: StageClock,
        video: VideoRecord,
        scenes: list[SceneRecord],
        moments: list[MomentRecord],
        matrix: np.ndarray,
        extras: VideoExtras,
    ) -> None:
        handle.update(stage=JobStage.STORING, percent=100.0 - _STORE_SHARE)
        handle.check_cancelled()
        with clock.timing("store"), failures_of(Dependency.SEARCHER):
            # Safe to retry: the Searcher replaces a video in one atomic write.
            self._retry.call(
                lambda: self._store.upsert_video(video, scenes, matrix, moments, extras), should_stop=handle.should_stop
            )
