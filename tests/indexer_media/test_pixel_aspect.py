"""Non-square pixels: a 704x576 video with 16:11 pixels shows as 1024x576, and CLIP is given
its frames as they are shown. The test makes the video: a disc that is round only when shown."""

from __future__ import annotations

from fractions import Fraction

import logging

import numpy as np
import pytest
from PIL import Image
from videosearch.indexer.media import facade as media
from videosearch.embedder.preprocessing import FramePreprocessor, ReducedFrame, normalize
from videosearch.indexer.media.video_file import PixelAspect

from .helpers import clip_preprocessing, decode_all
from .made_videos import bright_extent, make_anamorphic_video

logging.getLogger("transformers").setLevel(logging.ERROR)  # "torchvision missing, using the PIL backend"


@pytest.fixture(scope="module")
def anamorphic(tmp_path_factory):
    return make_anamorphic_video(tmp_path_factory.mktemp("sar") / "pal-16x9.mp4")


def test_probe_reports_the_display_size(anamorphic, tmp_path):
    info = media.probe(anamorphic)
    assert (info.width, info.height) == (704, 576), "decoded pixels as stored"
    assert info.pixel_aspect == PixelAspect(Fraction(16, 11))
    assert (info.display_width, info.display_height) == (1024, 576)


def test_square_pixel_videos_are_unchanged(videos):
    info = media.probe(videos / "testvideo.mp4")
    assert info.pixel_aspect.square and (info.display_width, info.display_height) == (1280, 720)


@pytest.mark.parametrize("backend", ["pillow", "torch"])
@pytest.mark.parametrize("size", [224, 64])  # 64: candidates are shrunk first (ReducedFrame)
def test_frames_reach_clip_as_displayed(anamorphic, backend, size):
    reader = media.iter_scenes(anamorphic, preprocessing=clip_preprocessing(size), resize_backend=backend)
    (scene,) = list(reader)
    assert scene.pixels.shape[1:] == (3, size, size)
    for crop in scene.pixels:
        height, width = bright_extent(crop)
        # The disc is 400 of 576 display rows tall: round when shown, so as wide as tall.
        assert height == pytest.approx(400 / 576 * size, abs=3)
        assert width == pytest.approx(height, abs=2), f"the disc is {width}x{height}: not shown as displayed"


@pytest.mark.parametrize("backend", ["pillow", "torch"])
@pytest.mark.parametrize("size", [224, 64])
def test_one_resize_matches_clip_image_processor_on_the_displayed_frame(anamorphic, backend, size):
    import transformers
    frame = decode_all(anamorphic)[0]
    # What a player shows (a high-quality stretch to 1024x576), then what CLIP's own processor makes of it.
    shown = np.asarray(Image.fromarray(np.ascontiguousarray(frame[:, :, ::-1])).resize((1024, 576), Image.Resampling.LANCZOS))
    processor = transformers.CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
    expected = processor(images=[shown], return_tensors="np")["pixel_values"][0]
    pre = FramePreprocessor(clip_preprocessing(size), backend=backend, pixel_aspect=PixelAspect(Fraction(16, 11)))
    difference = np.abs(normalize(pre.finish(pre.candidate(frame)), clip_preprocessing(size)) - expected)
    # Measured: at most 0.15 (on the disc's edge, two resamplings against one) and 0.003 on average.
    assert difference.max() < 0.3 and difference.mean() < 0.006


def test_without_the_pixel_aspect_the_disc_would_be_an_ellipse(anamorphic):
    # The check above can fail: the stored pixels alone give CLIP an ellipse 11/16 as wide.
    frame = decode_all(anamorphic)[0]
    height, width = bright_extent(FramePreprocessor(clip_preprocessing(224))(frame))
    assert width == pytest.approx(height * 11 / 16, abs=3)


def test_the_stretch_is_folded_into_the_one_resize(anamorphic):
    frame = decode_all(anamorphic)[0]
    pre = FramePreprocessor(clip_preprocessing(64), pixel_aspect=PixelAspect(Fraction(16, 11)))
    candidate = pre.candidate(frame)
    # Shrunk by an integer factor on the stored pixels (no full-size stretched copy is made).
    assert isinstance(candidate, ReducedFrame) and candidate.pixels.shape[:2] == (576 // 4, 704 // 4)
    np.testing.assert_array_equal(pre.finish(candidate).shape, (3, 64, 64))


def test_a_rotated_video_stretches_its_stored_width_which_is_now_vertical(tmp_path):
    rotated = make_anamorphic_video(tmp_path / "upright.mp4", rotation=90)
    info = media.probe(rotated)
    assert (info.width, info.height) == (576, 704), "OpenCV rotated the decoded frames"
    assert (info.display_width, info.display_height) == (576, 1024)
    (scene,) = list(media.iter_scenes(rotated, preprocessing=clip_preprocessing(224)))
    height, width = bright_extent(scene.pixels[0])
    assert width == pytest.approx(height, abs=2) and height == pytest.approx(400 / 576 * 224, abs=3)


def test_display_size_stretches_the_stored_width_even_when_rotated():
    assert PixelAspect(Fraction(16, 11)).display_size(576, 704) == (576, 1024)
    assert PixelAspect(Fraction(8, 9)).display_size(480, 720) == (480, 640)
    assert PixelAspect(Fraction(4, 3)).display_size(1440, 1080) == (1440, 1440)
    # A stream rotated by 90 degrees decodes as 576 wide, 704 tall: the stored width is now vertical.
    assert PixelAspect(Fraction(16, 11), vertical=True).display_size(704, 576) == (1024, 576)
    assert PixelAspect().display_size(75, 101) == (75, 101), "square pixels keep odd sizes"
