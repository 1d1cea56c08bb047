"""The fast decode modes on the streams their GOP rules did not fit: intra-only video (MJPEG:
every frame a keyframe), where "keyframes only" meant every frame, and a stream whose packets
carry no keyframe flag after the first, which the sparse mode took for one GOP and decoded only
the start of. Real video made with ffmpeg here; what the decoder delivers is read through the
Indexer's own decode pass."""

from __future__ import annotations

import logging
import subprocess

import av
import numpy as np
import pytest

from tests.indexer_media.helpers import clip_preprocessing
from tests.indexer_media.made_videos import ffmpeg_exe, shot_frame
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.media.facade import iter_scenes
from videosearch.indexer.media.keyframe_spacing import KEYFRAME_SPACING_SECONDS

FPS = 25


def made(path, shot_starts: tuple[int, ...], frames: int, codec: list[str]):
    """Flat-colored shots starting at ``shot_starts`` (frame numbers), a square moving across."""
    shots = np.searchsorted(shot_starts, np.arange(frames), side="right") - 1
    pixels = b"".join(shot_frame(int(shot), i, 160, 120).tobytes() for i, shot in enumerate(shots))
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", "160x120",
                    "-r", str(FPS), "-i", "-", *codec, str(path)], input=pixels, check=True, timeout=120)
    return path


def key_packets(path) -> list[float]:
    """Presentation times of the packets marked key, read by PyAV apart from the code under test."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return [float(p.pts * stream.time_base) for p in container.demux(stream) if p.size and p.is_keyframe]


def scenes_in(path, mode: str):
    reader = iter_scenes(path, preprocessing=clip_preprocessing(32), decoder=DecoderSettings(decode_mode=mode))
    return list(reader), reader


INTRA_SECONDS, INTRA_CUT = 6, 88  # a cut at 3.52 s


@pytest.fixture(scope="module")
def mjpeg_video(tmp_path_factory):
    return made(tmp_path_factory.mktemp("intra") / "camera.avi", (0, INTRA_CUT), FPS * INTRA_SECONDS,
                ["-c:v", "mjpeg", "-q:v", "5", "-pix_fmt", "yuvj420p"])


@pytest.mark.parametrize("mode", ["sparse", "keyframes"])
def test_intra_only_video_decodes_keyframes_about_a_second_apart(mjpeg_video, mode):
    assert len(key_packets(mjpeg_video)) == FPS * INTRA_SECONDS  # every frame a keyframe, as the test needs
    everything, full = scenes_in(mjpeg_video, "all")
    scenes, reader = scenes_in(mjpeg_video, mode)
    assert full.frames_decoded == FPS * INTRA_SECONDS
    # A frame per spacing (0.25 s in sparse, 1 s in keyframes mode), not every frame: the
    # keyframes closer than that were dropped unread.
    spacing = KEYFRAME_SPACING_SECONDS[mode]
    assert INTRA_SECONDS / spacing - 1 <= reader.frames_decoded <= INTRA_SECONDS / spacing + 1, reader.frames_decoded
    assert reader.video_info.frame_count == FPS * INTRA_SECONDS  # the video still ends where it does
    samples = [t.seconds for s in scenes for t in s.sample_times]
    assert np.diff([0.0, *samples, INTRA_SECONDS]).max() <= spacing + 2 / FPS + 1.0, samples
    # The cut is found, at the nearest decoded frame (within the spacing), as the default finds it exactly.
    assert [s.start_frame for s in everything] == [0, INTRA_CUT]
    assert len(scenes) == 2 and abs(scenes[1].start_seconds - INTRA_CUT / FPS) <= spacing / 2 + 1 / FPS


FLAGLESS_SECONDS, FLAGLESS_CUT = 30, 22 * FPS  # one cut, at 22 s: past the old first-GOP prefix (10 s)


@pytest.fixture(scope="module")
def flagless_video(tmp_path_factory):
    """H.264 with a keyframe every 2 s, remuxed into NUT with every packet's keyframe flag but
    the first cleared: to a demuxer, one GOP of 30 s (as streams from muxers that write no flags)."""
    folder = tmp_path_factory.mktemp("flagless")
    source = made(folder / "source.mp4", (0, FLAGLESS_CUT), FPS * FLAGLESS_SECONDS,
                  ["-c:v", "libx264", "-preset", "ultrafast", "-g", str(2 * FPS), "-pix_fmt", "yuv420p"])
    path = folder / "flagless.nut"
    with av.open(str(source)) as src, av.open(str(path), "w") as dst:
        stream = src.streams.video[0]
        out = dst.add_stream_from_template(stream)
        for i, packet in enumerate(p for p in src.demux(stream) if p.size):
            packet.is_keyframe = i == 0
            packet.stream = out
            dst.mux(packet)
    return path


def test_a_stream_without_keyframe_flags_is_sampled_to_its_end_in_sparse_mode(flagless_video, caplog):
    assert key_packets(flagless_video) == [0.0]  # the stream is as the test needs it
    with caplog.at_level(logging.WARNING, logger="videosearch.indexer.media.gop_prefix"):
        scenes, reader = scenes_in(flagless_video, "sparse")
    # The cut at 22 s is found (the first GOP's prefix alone ends at 10 s), at its frame.
    assert [s.start_frame for s in scenes] == [0, FLAGLESS_CUT]
    samples = [t.seconds for s in scenes for t in s.sample_times]
    assert samples[-1] >= FLAGLESS_SECONDS - 2, samples  # sampled through to the end
    assert np.diff([0.0, *samples, FLAGLESS_SECONDS]).max() <= 2.5, samples
    assert reader.video_info.frame_count == FPS * FLAGLESS_SECONDS
    # The file is named in a warning saying why it cost more than a sparse decode.
    assert any("no keyframe" in r.getMessage() and str(flagless_video) in r.getMessage() for r in caplog.records)


def test_keyframes_about_a_second_apart_are_all_decoded_in_keyframes_mode(tmp_path):
    """Phone-like H.264 (a keyframe every 29 frames at 30 fps: 0.967 s, under the 1 s spacing by
    less than its slack) is not thinned: every keyframe is decoded, as before the spacing existed."""
    path = tmp_path / "phone.mp4"
    frames = 30 * 6
    pixels = b"".join(shot_frame(0, i, 160, 120).tobytes() for i in range(frames))
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", "160x120",
                    "-r", "30", "-i", "-", "-c:v", "libx264", "-preset", "ultrafast", "-g", "29", "-sc_threshold", "0",
                    "-pix_fmt", "yuv420p", str(path)], input=pixels, check=True, timeout=120)
    keyframes = key_packets(path)
    assert len(keyframes) == 7 and np.diff(keyframes).max() < KEYFRAME_SPACING_SECONDS["keyframes"]
    _, reader = scenes_in(path, "keyframes")
    assert reader.frames_decoded == len(keyframes)
