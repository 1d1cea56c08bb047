"""The Indexer's protobuf <-> domain conversions and where a job's defaults come from."""

from __future__ import annotations

import dataclasses

import pytest

from videosearch.common.errors import InvalidArgument
from videosearch.indexer.types import ErrorReason, IndexOptions, Job
from videosearch.indexer.settings import IndexerSettings, default_options
from videosearch.indexer.wire import _REASONS, job_to_proto, options_from_proto, options_to_proto
from videosearch.v1 import indexer_pb2


def test_options_travel_unchanged_and_unset_ones_take_the_server_defaults():
    options = IndexOptions(detector_threshold=30.0, min_scene_len=8, frames_per_scene=5, force=True,
                           seconds_per_sample=2.0, min_samples=4, max_samples=9, detector="adaptive")
    message = options_to_proto(options)
    assert (message.min_scene_frames, message.min_frames_per_scene, message.max_frames_per_scene) == (8, 4, 9)
    assert options_from_proto(message, IndexOptions()) == options
    # The names before issue 23 still read (deprecated): videosearch.client exports IndexOptions.
    assert (options.min_scene_frames, options.min_frames_per_scene, options.max_frames_per_scene) == (8, 4, 9)
    server = dataclasses.replace(IndexOptions(), detector="threshold", seconds_per_sample=0.5)
    assert options_from_proto(indexer_pb2.IndexOptions(), server) == server
    with pytest.raises(InvalidArgument, match="frames_per_scene"):
        options_from_proto(indexer_pb2.IndexOptions(frames_per_scene=500), server)


def test_the_settings_defaults_are_the_job_defaults():
    assert default_options(IndexerSettings()) == IndexOptions()
    with pytest.raises(InvalidArgument, match="min_scene_frames"):
        default_options(IndexerSettings(min_scene_frames=-1))


def test_every_failure_reason_has_its_own_proto_value():
    assert set(_REASONS) == set(ErrorReason)
    assert len(set(_REASONS.values())) == len(ErrorReason)
    job = Job(job_id="j", path="/v.mp4", options=IndexOptions(), error_reason=ErrorReason.MODEL_MISMATCH)
    assert job_to_proto(job).error_reason == indexer_pb2.JOB_ERROR_REASON_MODEL_MISMATCH
