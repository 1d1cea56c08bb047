"""OpenCV decoder settings (threads, hardware decoding) change how fast frames come, never which.
(The PyAV decoder, the default, has its own tests: test_pyav_decoder.py.)"""

from __future__ import annotations

import hashlib
from dataclasses import replace

import cv2
import numpy as np
import pytest
from videosearch.common.errors import InvalidArgument
from videosearch.indexer.media import facade as media
from videosearch.indexer.media.decoding import DecoderSettings, hardware_decoding
from videosearch.indexer.media.scenes import read_frame
from videosearch.indexer.settings import decoder_settings, load

from .helpers import clip_preprocessing


def frames(path, decoder: DecoderSettings) -> list[str]:
    """A digest of every decoded frame (its shape, type and bytes): the frames compared exactly
    without holding 720 frames of 1280x720 (2 GB) in memory."""
    capture, info, first = media.open_video(path, decoder)
    out = [digest(first)]
    try:
        while (item := read_frame(capture, len(out) - 1, info.frame_count)) is not None:
            out.append(digest(item[0]))
    finally:
        capture.release()
    return out


def digest(frame: np.ndarray) -> str:
    return f"{frame.shape} {frame.dtype} {hashlib.sha256(np.ascontiguousarray(frame).data).hexdigest()}"


OPENCV = DecoderSettings(library="opencv")


@pytest.fixture(scope="module")
def reference(videos) -> list[str]:
    """testvideo.mp4 decoded once with the default OpenCV settings, for every setting to match."""
    return frames(videos / "testvideo.mp4", OPENCV)


@pytest.mark.parametrize("decoder", [replace(OPENCV, threads=1), replace(OPENCV, threads=3),
                                     replace(OPENCV, hw_acceleration="any")])
def test_decoder_settings_decode_the_same_frames(videos, reference, decoder):
    decoded = frames(videos / "testvideo.mp4", decoder)
    assert len(decoded) == len(reference) == 720
    assert decoded == reference


def test_decoder_threads_reach_the_capture(videos):
    capture, _, _ = media.open_video(videos / "testvideo.mp4", replace(OPENCV, threads=1))
    try:
        assert capture.get(cv2.CAP_PROP_N_THREADS) == 1
        assert not hardware_decoding(capture)  # the default decodes in software
    finally:
        capture.release()


def test_scene_reader_with_one_decoder_thread_finds_the_same_scenes(videos):
    def scenes(decoder):
        reader = media.iter_scenes(videos / "testvideo.mp4", preprocessing=clip_preprocessing(32), decoder=decoder)
        return [(s.start_frame, s.end_frame, s.sample_frames, s.pixels.tobytes()) for s in reader]

    assert scenes(replace(OPENCV, threads=1)) == scenes(OPENCV)


@pytest.mark.parametrize("settings, message", [
    ({"threads": -1}, "decoder threads"), ({"threads": 17}, "decoder threads"),
    ({"library": "opencv", "hw_acceleration": "cuda"}, "cuda \\(NVDEC\\) needs the pyav decoder library"),
    ({"library": "opencv", "hw_acceleration": "vaapi"}, "unknown hardware acceleration 'vaapi'; use none, any or cuda"),
])
def test_bad_decoder_settings_say_what_to_use(settings, message):
    with pytest.raises(InvalidArgument, match=message):
        DecoderSettings(**settings)


def test_indexer_flags_set_the_decoder():
    settings = load(["--decoder-library", "opencv", "--decoder-threads", "1", "--decoder-hw-acceleration", "any"])
    assert decoder_settings(settings) == replace(OPENCV, threads=1, hw_acceleration="any")
    assert decoder_settings(load([])) == DecoderSettings()
