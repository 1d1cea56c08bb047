"""OpenCV decoder settings (threads, hardware decoding) change how fast frames come, never which.
(The PyAV decoder, the default, has its own tests: test_pyav_decoder.py.)"""

from __future__ import annotations

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


def frames(path, decoder: DecoderSettings) -> list[np.ndarray]:
    capture, info, first = media.open_video(path, decoder)
    out = [first]
    try:
        while (item := read_frame(capture, len(out) - 1, info.frame_count)) is not None:
            out.append(item[0])
    finally:
        capture.release()
    return out


OPENCV = DecoderSettings(library="opencv")


@pytest.mark.parametrize("decoder", [replace(OPENCV, threads=1), replace(OPENCV, threads=3),
                                     replace(OPENCV, hw_acceleration="any")])
def test_decoder_settings_decode_the_same_frames(videos, decoder):
    reference = frames(videos / "testvideo.mp4", OPENCV)
    decoded = frames(videos / "testvideo.mp4", decoder)
    assert len(decoded) == len(reference)
    assert all(np.array_equal(a, b) for a, b in zip(decoded, reference))


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
    ({"library": "opencv", "hw_acceleration": "cuda"}, "unknown hardware acceleration"),
])
def test_bad_decoder_settings_say_what_to_use(settings, message):
    with pytest.raises(InvalidArgument, match=message):
        DecoderSettings(**settings)


def test_indexer_flags_set_the_decoder():
    settings = load(["--decoder-library", "opencv", "--decoder-threads", "1", "--decoder-hw-acceleration", "any"])
    assert decoder_settings(settings) == replace(OPENCV, threads=1, hw_acceleration="any")
    assert decoder_settings(load([])) == DecoderSettings()
