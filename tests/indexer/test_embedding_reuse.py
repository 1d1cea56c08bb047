"""Embedding reuse through the real services: a sampled frame that looks like its scene's last
embedded one takes that embedding, so the Embedder runs fewer forward passes and the stored
scenes, moments and embeddings stay what a forward pass per frame gives."""

from __future__ import annotations

import numpy as np
import pytest

from tests.indexer.indexer_testlib import finish, start_indexer, submit
from videosearch.common.errors import InvalidArgument
from videosearch.indexer.media.reuse import DEFAULT_MAX_DIFFERENCE
from videosearch.indexer.settings import load, reuse_max_difference
from videosearch.client.searcher import SearcherClient
from videosearch.v1 import indexer_pb2


def index(path, embedder, searcher, gated_clip, reuse_difference: float):
    """Indexes ``path`` (forced) on a fresh Indexer; returns (job, forward passes, stored video)."""
    app = start_indexer([path.parent], embedder.address, searcher.address, embedding_reuse_difference=reuse_difference)
    try:
        before = gated_clip.images_forwarded
        stub, job, channel = submit(app, path, force=True)
        with channel:
            job = finish(stub, job.job_id)
        passes = gated_clip.images_forwarded - before
    finally:
        app.stop(0)
    assert job.error == "" and job.state == indexer_pb2.JOB_STATE_SUCCEEDED, job.error
    with SearcherClient(searcher.address) as client:
        _, scenes, moments = client.get_video_moments(job.video_id)
        moment_vectors, scene_vectors = client.get_video_embeddings(job.video_id)
    return job, passes, scenes, moments, moment_vectors, scene_vectors


def test_reuse_saves_forward_passes_and_keeps_the_index(shared_videos, embedder, searcher, gated_clip):
    path = shared_videos / "testvideo.mp4"
    off = index(path, embedder, searcher, gated_clip, 0.0)
    on = index(path, embedder, searcher, gated_clip, DEFAULT_MAX_DIFFERENCE)
    job_off, passes_off, scenes_off, moments_off, moment_vectors_off, scene_vectors_off = off
    job_on, passes_on, scenes_on, moments_on, moment_vectors_on, scene_vectors_on = on
    assert passes_off == job_off.frames_to_embed  # one forward pass per sampled frame
    assert 0 < passes_on < passes_off  # testvideo.mp4 holds still for seconds at a time
    assert job_on.frames_embedded == job_off.frames_embedded == job_on.frames_to_embed  # every sample has a vector
    assert [(s.start_frame, s.end_frame, s.sampled_frames) for s in scenes_on] == [
        (s.start_frame, s.end_frame, s.sampled_frames) for s in scenes_off]
    assert [(m.start_frame, m.end_frame) for m in moments_on] == [(m.start_frame, m.end_frame) for m in moments_off]
    assert np.einsum("ij,ij->i", scene_vectors_on, scene_vectors_off).min() >= 0.99
    assert np.einsum("ij,ij->i", moment_vectors_on, moment_vectors_off).min() >= 0.99


@pytest.mark.parametrize("value", ["-1", "256", "nan"])
def test_a_bad_reuse_difference_fails_at_start_saying_what_to_use(value):
    with pytest.raises(InvalidArgument, match="embedding-reuse-difference.*0 \\(off\\) to 255"):
        reuse_max_difference(load(["--embedding-reuse-difference", value]))
