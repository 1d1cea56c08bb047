"""End to end through real services: the Indexer in-process on port 0 with real Embedder
(tiny CLIP) and Searcher (LevelDB) servers stores presentation times for a variable-frame-rate
video and the display size for a video with non-square pixels."""

from __future__ import annotations

from fractions import Fraction

import grpc
import pytest
from videosearch.common.timecode import format_seconds
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.indexer.server import IndexerApp
from videosearch.indexer.settings import IndexerSettings
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings
from videosearch.v1 import indexer_pb2, indexer_pb2_grpc, searcher_pb2, searcher_pb2_grpc

from .made_videos import make_anamorphic_video, make_vfr_video

pytestmark = pytest.mark.timeout(300)
MS = 1e-3


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    folder = tmp_path_factory.mktemp("made")
    # The middle shot is 8 s and fades to another color: long enough, and changing enough,
    # to be split into moments.
    vfr = make_vfr_video(folder / "dropped-frames.mp4", shot_lengths=(60, 240, 60), fading_shot=1)
    return folder, vfr, make_anamorphic_video(folder / "pal-16x9.mp4")


@pytest.fixture(scope="module")
def services(tiny_clip_dir, tmp_path_factory, made):
    folder = made[0]
    embedder = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32"))
    searcher = serve_searcher(SearcherSettings(
        port=0, data_dir=str(tmp_path_factory.mktemp("searcher")), embedder_address=embedder.address, ann="none"))
    indexer = IndexerApp(IndexerSettings(
        port=0, allowed_roots=(str(folder),), embedder_address=embedder.address,
        searcher_address=searcher.address, workers=1, rpc_timeout_s=30.0,
        moment_penalty=0.01, moment_merge_cosine=0.9999)).start()  # split wherever the tiny CLIP sees a change
    with grpc.insecure_channel(f"127.0.0.1:{indexer.port}") as to_indexer, grpc.insecure_channel(searcher.address) as to_searcher:
        yield indexer_pb2_grpc.IndexerServiceStub(to_indexer), searcher_pb2_grpc.SearcherServiceStub(to_searcher)
    indexer.stop(0)
    searcher.stop(0)
    embedder.stop(0)


def index(services, path) -> searcher_pb2.GetVideoResponse:
    indexer, searcher = services
    job = indexer.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(path))).job
    *_, last = indexer.WatchIndexJob(indexer_pb2.WatchIndexJobRequest(job_id=job.job_id), timeout=240)
    assert last.job.state == indexer_pb2.JOB_STATE_SUCCEEDED, last.job.error_message
    return searcher.GetVideo(searcher_pb2.GetVideoRequest(video_id=last.job.video_id))


def test_a_variable_frame_rate_video_is_stored_with_presentation_times(services, made):
    _, vfr, _ = made
    stored = index(services, vfr.path)
    video = stored.video
    fps = Fraction(video.fps_numerator, video.fps_denominator)
    assert video.frame_count == len(vfr.kept)
    assert video.duration_seconds == pytest.approx(vfr.duration_seconds, abs=MS)
    assert [s.start_frame for s in stored.scenes] == [0, *vfr.decoded_cuts], "frame numbers are stored too"
    for scene in stored.scenes:
        assert scene.start_seconds == pytest.approx(vfr.pts_seconds(scene.start_frame), abs=MS)
        assert scene.start_timecode == format_seconds(scene.start_seconds)
    for scene, following in zip(stored.scenes, stored.scenes[1:]):
        assert scene.end_seconds == following.start_seconds
        # Frame number / average rate, what was stored before, is far off after the dropped frames.
        assert abs(float(scene.end_frame / fps) - scene.end_seconds) > 0.05
    assert stored.scenes[-1].end_seconds == pytest.approx(vfr.duration_seconds, abs=MS)
    cuts = {s.start_frame for s in stored.scenes}
    assert any(m.start_frame not in cuts for m in stored.moments), "the fading scene is split into moments"
    for moment in stored.moments:
        assert moment.start_seconds == pytest.approx(vfr.pts_seconds(moment.start_frame), abs=MS)
        end = vfr.duration_seconds if moment.end_frame == video.frame_count else vfr.pts_seconds(moment.end_frame)
        assert moment.end_seconds == pytest.approx(end, abs=MS)


def test_a_video_with_non_square_pixels_is_stored_with_its_display_size(services, made):
    *_, anamorphic = made
    video = index(services, anamorphic).video
    assert (video.width, video.height) == (1024, 576)
