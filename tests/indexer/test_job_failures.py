"""Why a job fails, from real servers: one table maps each dependency's error to a
reason (refused is not unavailable), and a model mismatch is found before decoding."""

from __future__ import annotations

import numpy as np
import pytest

from tests.indexer.indexer_testlib import GatedClip, finish, index_to_the_end, start_indexer, submit
from tests.searcher.searcher_testlib import make_scenes, make_video, random_unit
from videosearch.common.errors import InvalidArgument
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.client.searcher import SearcherClient
from videosearch.v1 import indexer_pb2

pytestmark = pytest.mark.timeout(300)
OTHER_MODEL = "someone/another-clip"


class BrokenClip(GatedClip):
    """A CLIP that, once loaded, raises ``error`` on every image batch: pixels of the wrong shape
    (a refusal), or a bug or a lost GPU (the Embedder answers INTERNAL). The load's own probe
    forward must pass, or it would never serve."""

    def __init__(self, error: Exception, *args, **kwargs) -> None:
        self.error: Exception | None = None
        super().__init__(*args, **kwargs)
        self.error = error

    def preprocess(self, pixels):
        if self.error is not None:
            raise self.error
        return super().preprocess(pixels)


def store_video_of_another_model(searcher_address: str) -> None:
    rng = np.random.default_rng(0)
    with SearcherClient(searcher_address) as client:
        client.upsert_video(make_video("0123456789abcdef", 2, model_id=OTHER_MODEL), make_scenes(2), random_unit(rng, 2))


def test_a_model_mismatch_fails_before_anything_is_decoded(embedder, searcher, shared_videos):
    store_video_of_another_model(searcher.address)
    final = index_to_the_end(embedder.address, searcher.address, shared_videos / "counter.mp4")
    assert final.state == indexer_pb2.JOB_STATE_FAILED
    assert final.error_reason == indexer_pb2.JOB_ERROR_REASON_MODEL_MISMATCH, final
    assert OTHER_MODEL in final.error and embedder.engine.model_info().model_id in final.error
    assert "--model" in final.error and "--data-dir" in final.error, "the message says what to do"
    assert final.frames_decoded == 0 and final.scenes_found == 0 and final.frames_embedded == 0
    assert not any(stage.startswith("decode") for stage in final.stage_seconds), final.stage_seconds


def test_a_searcher_refusal_at_store_time_is_not_unavailability(embedder, gated_clip, searcher, shared_videos):
    """The collection changes model while the job embeds (another Indexer won the race):
    the Searcher answers FAILED_PRECONDITION, which is a refusal, not an outage."""
    app = start_indexer([shared_videos], embedder.address, searcher.address)
    gated_clip.gate.clear()
    try:
        stub, job, channel = submit(app, shared_videos / "counter.mp4", force=True)
        with channel:
            watch = stub.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job.job_id), timeout=120)
            for update in watch:
                if update.job.stage == indexer_pb2.JOB_STAGE_EMBEDDING:
                    break
            watch.cancel()
            store_video_of_another_model(searcher.address)
            gated_clip.gate.set()
            final = finish(stub, job.job_id)
    finally:
        gated_clip.gate.set()
        app.stop(0)
    assert final.state == indexer_pb2.JOB_STATE_FAILED
    assert final.error_reason == indexer_pb2.JOB_ERROR_REASON_SEARCHER_REFUSED, final
    assert "searcher" in final.error and OTHER_MODEL in final.error


def job_with_an_embedder_raising(error, tiny_clip_dir, searcher, shared_videos):
    """The last snapshot of a job whose real Embedder raises ``error`` on every image batch;
    (snapshot, the Embedder's address)."""
    broken = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32"),
                            BrokenClip(error, str(tiny_clip_dir), device="cpu", dtype="float32"))
    try:
        return index_to_the_end(broken.address, searcher.address, shared_videos / "counter.mp4"), broken.address
    finally:
        broken.stop(0)


def test_an_embedder_refusal_is_not_unavailability(tiny_clip_dir, searcher, shared_videos):
    wrong_shape = InvalidArgument("pixel_values has shape [3, 3, 32, 32]; expected (N, 3, 224, 224)")
    final, _ = job_with_an_embedder_raising(wrong_shape, tiny_clip_dir, searcher, shared_videos)
    assert final.state == indexer_pb2.JOB_STATE_FAILED
    assert final.error_reason == indexer_pb2.JOB_ERROR_REASON_EMBEDDER_REFUSED, final
    assert "embedder refused" in final.error and "expected (N, 3, 224, 224)" in final.error


def test_an_embedder_breaking_on_the_frames_fails_the_job_with_a_message_naming_it(tiny_clip_dir, searcher,
                                                                                   shared_videos):
    lost_gpu = RuntimeError("CUDA error: an illegal memory access was encountered")
    final, address = job_with_an_embedder_raising(lost_gpu, tiny_clip_dir, searcher, shared_videos)
    assert final.state == indexer_pb2.JOB_STATE_FAILED
    assert final.error_reason == indexer_pb2.JOB_ERROR_REASON_EMBEDDER_REFUSED, final
    # Not "refused" (nothing was wrong with the frames): the Embedder broke, and its log says why.
    assert "the embedder failed on the frames" in final.error and "INTERNAL" in final.error, final.error
    assert address in final.error and "log" in final.error, final.error
