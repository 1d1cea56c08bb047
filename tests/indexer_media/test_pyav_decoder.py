"""The PyAV decoder (videosearch.indexer.media.pyav_capture): OpenCV's frames, times and cuts on real
videos, frames shrunk only as far as the decode pass allows, and the same errors for bad files."""

from __future__ import annotations

import functools

import cv2
import numpy as np
import pytest
from videosearch.common.errors import InvalidArgument
from videosearch.indexer.media import facade as media
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.embedder.preprocessing import FramePreprocessor
from videosearch.indexer.media.pyav_capture import lowres_level
from videosearch.indexer.media.scenes import decoder_shrink, detect_cuts, read_frame
from videosearch.indexer.settings import decoder_settings, load

from .helpers import clip_preprocessing, golden_cuts

SHARED = ["testvideo.mp4", "counter.mp4", "fades.mp4", "delayed_start.mp4", "issue-134-rotate.mp4"]
OPENCV = DecoderSettings(library="opencv")
PYAV = DecoderSettings(library="pyav", shrink=False)
SHRINKING = DecoderSettings(library="pyav", shrink=True, lowres=True)
CLIP = clip_preprocessing(224)


def decoded(path, decoder: DecoderSettings, shrink=None):
    """(info, frames, presentation times in ms) of every frame."""
    capture, info, first = media.open_video(path, decoder, shrink)
    frames, times = [first], [capture.get(cv2.CAP_PROP_POS_MSEC)]
    try:
        while (item := read_frame(capture, len(frames) - 1, info.frame_count)) is not None:
            frames.append(item[0])
            times.append(item[1])
    finally:
        capture.release()
    return info, frames, times


@pytest.mark.parametrize("name", SHARED)
def test_pyav_gives_opencvs_frames_and_times(videos, name):
    info, frames, times = decoded(videos / name, OPENCV)
    pyav_info, pyav_frames, pyav_times = decoded(videos / name, PYAV)
    assert pyav_info == info  # size after rotation, rate, container count, pixel aspect
    assert len(pyav_frames) == len(frames)
    assert all(np.array_equal(a, b) for a, b in zip(pyav_frames, frames))
    np.testing.assert_allclose(pyav_times, times, atol=1e-6)


def test_pyav_rotates_as_players_show(videos):
    info, frames, _ = decoded(videos / "issue-134-rotate.mp4", PYAV)
    assert (info.width, info.height) == (544, 1280) and frames[0].shape == (1280, 544, 3)


@functools.cache
def reference_cuts(path) -> list[int]:
    """detect_cuts' cuts (checked against PySceneDetect in test_scenes), found once a video for both decoders."""
    return detect_cuts(path)


@pytest.mark.parametrize("decoder", [PYAV, SHRINKING], ids=["pyav", "pyav-shrink-lowres"])
@pytest.mark.parametrize("name", SHARED)
def test_pyav_cuts_equal_the_goldens(videos, name, decoder):
    cuts = [s.start_frame for s in list(media.iter_scenes(videos / name, preprocessing=CLIP, decoder=decoder))[1:]]
    assert cuts == reference_cuts(videos / name)  # OpenCV's decode, checked against PySceneDetect in test_scenes
    golden = golden_cuts(videos, name)
    if golden is not None:
        assert cuts == golden


def test_shrunk_frames_keep_the_headroom_clip_needs(videos):
    shrink = decoder_shrink(FramePreprocessor(CLIP))
    info, frames, _ = decoded(videos / "counter.mp4", SHRINKING, shrink)
    factor = shrink(info.height, info.width)
    assert factor == 3  # 1080p for a 224-px CLIP: 360 px high, still 1.5x 224
    assert (info.width, info.height) == (1920, 1080)  # the video's size, not the frames'
    assert frames[0].shape == (1080 // factor, 1920 // factor, 3)
    # The shrunk frame is the full frame shrunk: a box filter in either order, a few levels apart.
    _, full, _ = decoded(videos / "counter.mp4", PYAV)
    reference = cv2.resize(full[0], (640, 360), interpolation=cv2.INTER_AREA)
    assert np.abs(frames[0].astype(int) - reference.astype(int)).mean() < 2


def test_shrunk_decode_pass_samples_the_same_frames_with_close_crops(videos):
    def scenes(decoder):
        return list(media.iter_scenes(videos / "testvideo.mp4", preprocessing=CLIP, decoder=decoder))

    full, shrunk = scenes(None), scenes(SHRINKING)
    assert [(s.start_frame, s.end_frame, s.sample_frames) for s in shrunk] == [
        (s.start_frame, s.end_frame, s.sample_frames) for s in full]
    for a, b in zip(full, shrunk):
        assert np.abs(a.pixels.astype(int) - b.pixels.astype(int)).mean() < 2
        assert b.preview is not None  # thumbnails still come from the pass


def test_frames_never_shrink_below_the_detectors_size():
    """A model with tiny inputs (32 px) would let candidates shrink by 4; the detector works
    on 256 px wide frames, so a 640x360 video shrinks only by 2."""
    shrink = decoder_shrink(FramePreprocessor(clip_preprocessing(32)))
    assert FramePreprocessor(clip_preprocessing(32)).reduction_factor(360, 640) == 4
    assert shrink(360, 640) == 2 and shrink(320, 480) == 1


def test_lowres_only_where_the_codec_has_it_and_the_frame_allows():
    assert lowres_level("mpeg4", 2) == 1 and lowres_level("mpeg4", 4) == 2 and lowres_level("mpeg4", 3) == 1
    assert lowres_level("h264", 4) == 0  # H.264 decoders cannot decode at reduced size
    assert lowres_level("mpeg4", 1) == 0  # the frame may not shrink at all


@pytest.mark.parametrize("name, content", [("random.mp4", np.random.default_rng(0).bytes(100_000)),
                                           ("notes.txt", b"just some text\n" * 100), ("empty.mp4", b"")])
def test_not_a_video_is_the_same_error_as_with_opencv(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(media.NotAVideoError, match="not a video PyAV can decode.*ffmpeg") as caught:
        media.open_video(path, PYAV)
    assert caught.value.reason == "NOT_A_VIDEO" and caught.value.status == "INVALID_ARGUMENT"


def test_a_truncated_video_is_not_a_video_to_either_decoder(videos, tmp_path):
    """Half of testvideo.mp4: its index (moov) is at the end, so neither decoder can open it."""
    data = (videos / "testvideo.mp4").read_bytes()
    path = tmp_path / "half.mp4"
    path.write_bytes(data[: len(data) // 2])
    for decoder in (OPENCV, PYAV):
        with pytest.raises(media.NotAVideoError) as caught:
            media.open_video(path, decoder)
        assert caught.value.status == "INVALID_ARGUMENT"


def test_corrupt_packets_are_decoded_past_as_opencv_does(videos, tmp_path):
    """testvideo.mp4 with 64 KB of its frame data overwritten: both decoders go on to the end
    (frames after the damage are concealed or skipped, never an error or a hang)."""
    data = bytearray((videos / "testvideo.mp4").read_bytes())
    middle = len(data) // 2
    data[middle : middle + 65_536] = np.random.default_rng(1).bytes(65_536)
    path = tmp_path / "damaged.mp4"
    path.write_bytes(bytes(data))
    _, frames, _ = decoded(path, OPENCV)
    _, pyav_frames, _ = decoded(path, PYAV)
    assert len(pyav_frames) == len(frames) > 600
    assert [s.start_frame for s in media.iter_scenes(path, preprocessing=CLIP, decoder=PYAV)][0] == 0


@pytest.mark.parametrize("settings, message", [
    ({"library": "gstreamer"}, "unknown decoder library"),
    ({"library": "opencv", "lowres": True}, "need the pyav decoder library"),
    ({"library": "opencv", "skip_loop_filter": True}, "need the pyav decoder library"),
    ({"library": "pyav", "thread_type": "tile"}, "unknown decoder thread type"),
    ({"hw_acceleration": "any", "lowres": True}, "lowres act in FFmpeg's software decoder only"),
    ({"hw_acceleration": "cuda", "skip_loop_filter": True}, "skip_loop_filter act in FFmpeg's software decoder only"),
])
def test_bad_pyav_settings_say_what_to_use(settings, message):
    with pytest.raises(InvalidArgument, match=message):
        DecoderSettings(**settings)


def test_indexer_flags_choose_pyav():
    settings = load(["--decoder-library", "pyav", "--decoder-thread-type", "frame", "--decoder-lowres", "--decoder-shrink"])
    assert decoder_settings(settings) == DecoderSettings(library="pyav", thread_type="frame", lowres=True, shrink=True)
