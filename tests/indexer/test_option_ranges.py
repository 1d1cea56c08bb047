"""Every documented IndexOptions value works, and every value outside the documented
ranges is refused at submit with INVALID_ARGUMENT: a job never fails INTERNAL on an
option (min_frames_per_scene 97 and max_frames_per_scene 193 or 1024 used to: the
candidate buffer stayed at 384 frames while those samples need more)."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.types import MAX_FIXED_FRAMES_PER_SCENE
from videosearch.indexer.media.sampling import MAX_SAMPLES_LIMIT
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc

from tests.indexer.indexer_testlib import finish, start_indexer

pytestmark = pytest.mark.timeout(300)

# The documented ranges' edges (indexer.proto), each inside and just outside.
VALID = [
    {"frames_per_scene": 1}, {"frames_per_scene": MAX_FIXED_FRAMES_PER_SCENE},
    {"min_frames_per_scene": 1, "max_frames_per_scene": 1},
    {"min_frames_per_scene": 97}, {"min_frames_per_scene": 160, "max_frames_per_scene": 160},
    {"min_frames_per_scene": MAX_SAMPLES_LIMIT, "max_frames_per_scene": MAX_SAMPLES_LIMIT},
    {"max_frames_per_scene": 193}, {"max_frames_per_scene": MAX_SAMPLES_LIMIT},
    {"seconds_per_sample": 0.0001}, {"seconds_per_sample": 3600},
    {"detector_threshold": 0.5}, {"detector_threshold": 255},
    {"min_scene_frames": 1}, {"min_scene_frames": 100_000},
    {"detector": "content+threshold"}, {"detector": "hash"}, {"detector": "adaptive"},
]
INVALID = [
    {"frames_per_scene": -1}, {"frames_per_scene": MAX_FIXED_FRAMES_PER_SCENE + 1},
    {"min_frames_per_scene": -1}, {"min_frames_per_scene": MAX_SAMPLES_LIMIT + 1},
    {"min_frames_per_scene": 5, "max_frames_per_scene": 4}, {"max_frames_per_scene": MAX_SAMPLES_LIMIT + 1},
    {"seconds_per_sample": -1}, {"seconds_per_sample": 3601}, {"seconds_per_sample": float("nan")},
    {"detector_threshold": -1}, {"detector_threshold": 256}, {"detector_threshold": float("inf")},
    {"min_scene_frames": -1}, {"min_scene_frames": 100_001},
    {"detector": "nonsense"}, {"detector": "content+"},
]


def _name(options: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in options.items())


@pytest.fixture(scope="module")
def indexer(tiny_clip_dir, tmp_path_factory):
    from videosearch.demo.videos import generate_demo_video

    folder = tmp_path_factory.mktemp("option-ranges")
    video = folder / "two-scenes.webm"
    generate_demo_video(video, ["a red circle", "a blue square"], np.random.default_rng(5), size=(64, 48),
                        frames_per_scene=(20, 24))
    embedder = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32"))
    searcher = serve_searcher(SearcherSettings(port=0, data_dir=str(folder / "searcher"),
                                               embedder_address=embedder.address, ann="none"))
    app = start_indexer([folder], embedder.address, searcher.address)
    with grpc.insecure_channel(f"127.0.0.1:{app.port}") as channel:
        yield indexer_pb2_grpc.IndexerServiceStub(channel), video
    app.stop(0)
    searcher.stop(0)
    embedder.stop(0)


@pytest.mark.parametrize("options", VALID, ids=_name)
def test_a_documented_option_value_indexes(indexer, options):
    stub, video = indexer
    job = stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(
        path=str(video), options=indexer_pb2.IndexOptions(force=True, **options))).job
    final = finish(stub, job.job_id)
    assert final.state == indexer_pb2.JOB_STATE_SUCCEEDED, final
    assert final.scenes_found >= 1 and final.frames_embedded >= 1


@pytest.mark.parametrize("options", INVALID, ids=_name)
def test_an_option_outside_its_range_is_refused_at_submit(indexer, options):
    stub, video = indexer
    with pytest.raises(grpc.RpcError) as refused:
        stub.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(video),
                                                              options=indexer_pb2.IndexOptions(**options)))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
    assert "use" in refused.value.details() or "must" in refused.value.details() or "default" in refused.value.details()
