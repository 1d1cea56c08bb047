"""Issue 9 through the three real services in this process (tiny CLIP Embedder, Searcher on a
real LevelDB, Indexer decoding a real video): the Indexer's thumbnails and per-frame
embeddings arrive in the Searcher's one write; an image query is prepared exactly like an
indexed frame (a sampled frame sent back as a PNG matches its own stored embedding); explained
hits, open URIs and GetVideo's embeddings over gRPC."""

from __future__ import annotations

import io
import time

import cv2
import numpy as np
import pytest
from PIL import Image
from videosearch.common.tensors import from_tensor
from videosearch.demo.videos import generate_demo_video
from videosearch.v1 import indexer_pb2, searcher_pb2

pytestmark = pytest.mark.timeout(300)
CAPTIONS = ["a red circle", "a blue square", "a green star", "a yellow cross"]


def index_new_video(live_services, name: str, size: tuple[int, int], captions=CAPTIONS, frames=(30, 40)):
    path = live_services.root / name
    generate_demo_video(path, captions, np.random.default_rng(3), size=size, frames_per_scene=frames)
    job = live_services.indexer.SubmitIndexJob(indexer_pb2.SubmitIndexJobRequest(path=str(path)), timeout=30).job
    deadline = time.monotonic() + 240
    while job.state not in (indexer_pb2.JOB_STATE_SUCCEEDED, indexer_pb2.JOB_STATE_FAILED):
        assert time.monotonic() < deadline
        time.sleep(0.2)
        job = live_services.indexer.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id=job.job_id), timeout=30).job
    assert job.state == indexer_pb2.JOB_STATE_SUCCEEDED, job.error
    return path, job.video_id


@pytest.fixture(scope="module")
def video(live_services):
    return index_new_video(live_services, "features.mp4", (480, 270))


@pytest.fixture(scope="module")
def large_video(live_services):
    """720p: the decode pass keeps shrunk copies of its frames, and thumbnails come from them."""
    return index_new_video(live_services, "features_720p.mp4", (1280, 720), CAPTIONS[:2], (16, 16))


def frame_at(path, number: int) -> np.ndarray:
    capture = cv2.VideoCapture(str(path))
    for _ in range(number + 1):
        ok, frame = capture.read()
        assert ok
    capture.release()
    return frame


@pytest.mark.parametrize("which", ["video", "large_video"])
def test_every_scene_has_a_thumbnail_of_its_middle_sampled_frame(live_services, which, request):
    path, video_id = request.getfixturevalue(which)
    got = live_services.searcher.GetVideo(searcher_pb2.GetVideoRequest(video_id=video_id), timeout=30)
    for scene in got.scenes:
        thumb = live_services.searcher.GetSceneThumbnail(
            searcher_pb2.GetSceneThumbnailRequest(video_id=video_id, scene_index=scene.index), timeout=30).thumbnail
        with Image.open(io.BytesIO(thumb.image_jpeg)) as image:
            assert image.format == "JPEG" and image.size == (thumb.width, thumb.height) == (320, 180)
            shown = np.asarray(image.convert("RGB"), np.float32)
        # The thumbnail is the frame it names, shrunk: compare with that frame and with the scene's neighbours'.
        original = cv2.resize(frame_at(path, thumb.frame), (320, 180), interpolation=cv2.INTER_AREA)[:, :, ::-1]
        assert np.abs(shown - original).mean() < 6
        assert scene.start_frame <= thumb.frame < scene.end_frame
    with pytest.raises(Exception) as missing:
        live_services.searcher.GetSceneThumbnail(
            searcher_pb2.GetSceneThumbnailRequest(video_id=video_id, scene_index=len(got.scenes)), timeout=30)
    assert missing.value.code().name == "NOT_FOUND"


def test_a_sampled_frame_sent_as_an_image_finds_its_own_stored_embedding(live_services, video):
    path, video_id = video
    only_this = searcher_pb2.SearchFilter(path_prefix=str(path))  # the module indexes other videos too
    request = searcher_pb2.SearchRequest(text="a green star", mode=searcher_pb2.SEARCH_MODE_SCENES, top_k=1, explain=True,
                                         filter=only_this)
    hit = live_services.searcher.Search(request, timeout=30).scenes[0]
    frames = hit.explanation.frames
    assert len(frames) == hit.moment.sampled_frames >= 3
    assert hit.explanation.best_frame == frames[hit.explanation.best_frame_index].frame
    assert hit.open_uri == f"file://{path}#t={hit.moment.start_seconds:.3f}".rstrip("0").rstrip(".")
    target = frames[1].frame
    png = io.BytesIO()
    Image.fromarray(frame_at(path, target)[:, :, ::-1]).save(png, "PNG")
    by_image = live_services.searcher.Search(searcher_pb2.SearchRequest(
        terms=[searcher_pb2.QueryTerm(image=png.getvalue())], mode=searcher_pb2.SEARCH_MODE_SCENES, top_k=1,
        explain=True, filter=only_this), timeout=30).scenes[0]
    best = by_image.explanation.frames[by_image.explanation.best_frame_index]
    assert (by_image.video_id, best.frame) == (video_id, target)
    assert best.score == pytest.approx(1.0, abs=2e-3)  # the same pixels, the same embedding (stored as float16)
    assert by_image.moment.index == hit.moment.index


def test_get_video_returns_moment_and_scene_embeddings_on_request(live_services, video):
    _, video_id = video
    got = live_services.searcher.GetVideo(searcher_pb2.GetVideoRequest(video_id=video_id, include_embeddings=True),
                                          timeout=30)
    moments = from_tensor(got.moment_embeddings, name="moment_embeddings")
    scenes = from_tensor(got.scene_embeddings, name="scene_embeddings")
    assert moments.shape == (len(got.moments), live_services.dim) and scenes.shape == (len(got.scenes), live_services.dim)
    assert np.allclose(np.linalg.norm(scenes, axis=1), 1.0, atol=1e-5)
    plain = live_services.searcher.GetVideo(searcher_pb2.GetVideoRequest(video_id=video_id), timeout=30)
    assert not plain.HasField("moment_embeddings")
    hit = live_services.searcher.Search(searcher_pb2.SearchRequest(
        embedding=searcher_pb2.QueryEmbedding(vector=got.moment_embeddings.__class__(
            dtype=got.moment_embeddings.dtype, shape=[live_services.dim],
            data=moments[2].astype("<f4").tobytes())), mode=searcher_pb2.SEARCH_MODE_SCENES, top_k=1,
        filter=searcher_pb2.SearchFilter(path_prefix=got.video.uri)), timeout=30).scenes[0]
    assert hit.moment.index == 2 and hit.score == pytest.approx(1.0, abs=1e-5)


def test_a_thumbnail_shows_non_square_pixels_as_players_do():
    from fractions import Fraction

    from videosearch.indexer.media.thumbnails import MAX_SIDE, thumbnail_image
    from videosearch.indexer.media.video_file import PixelAspect

    frame = np.zeros((576, 704, 3), np.uint8)  # PAL widescreen: 704x576 stored, 1024x576 shown
    assert thumbnail_image(frame, PixelAspect(Fraction(16, 11))).shape == (180, MAX_SIDE, 3)
    assert thumbnail_image(np.zeros((90, 160, 3), np.uint8)).shape == (90, 160, 3)  # never enlarged
