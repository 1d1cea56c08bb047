"""The fast decode modes on the streams their GOP rules did not fit: intra-only video (MJPEG:
every frame a keyframe), where "keyframes only" meant every frame; a stream whose packets
carry no keyframe flag after the first, which the sparse mode took for one GOP and decoded only
the start of; x264 ``keyint=infinite`` (one keyframe), where keyframes mode decoded one frame;
a short clip with one keyframe; intra refresh, whose recovery points MP4 flags as keyframes;
open GOPs (H.264 I-frames with recovery points, HEVC CRA), whose keyframes came out of order
after skipped frames. Real video made with ffmpeg here; what the decoder delivers is read
through the Indexer's own decode pass, and compared with a full decode by PyAV apart from it."""

from __future__ import annotations

import logging
import subprocess

import av
import cv2
import numpy as np
import pytest

from tests.indexer_media.helpers import clip_preprocessing
from tests.indexer_media.made_videos import ffmpeg_exe, shot_frame
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.media.facade import iter_scenes
from videosearch.indexer.media.keyframe_kinds import INNER, RESET, RESTART, KeyframeKinds
from videosearch.indexer.media.keyframe_spacing import KEYFRAME_SPACING_SECONDS
from videosearch.indexer.media.scenes import read_frame
from videosearch.indexer.media.video_file import open_video

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


ENDLESS_SECONDS, ENDLESS_CUT = 30, 24 * FPS  # one cut at 24 s, past the 20 s a GOP is held for


@pytest.fixture(scope="module")
def endless_gop_video(tmp_path_factory):
    """x264 with one keyframe (``keyint=infinite``, no scene-cut keyframes): what the codec's
    keyframes-only setting decodes is the first frame alone."""
    return made(tmp_path_factory.mktemp("endless") / "endless.mp4", (0, ENDLESS_CUT), FPS * ENDLESS_SECONDS,
                ["-c:v", "libx264", "-preset", "ultrafast", "-x264-params", "keyint=infinite:scenecut=0",
                 "-pix_fmt", "yuv420p"])


def test_keyframes_mode_covers_a_video_with_one_keyframe_to_its_end(endless_gop_video, caplog):
    assert key_packets(endless_gop_video) == [0.0]  # the stream is as the test needs it
    with caplog.at_level(logging.WARNING, logger="videosearch.indexer.media.gop_prefix"):
        scenes, reader = scenes_in(endless_gop_video, "keyframes")
    # A frame about a second apart all through (the run-on's reference frames, thinned, give or
    # take the spacing's tolerance), not one frame.
    spacing = KEYFRAME_SPACING_SECONDS["keyframes"]
    assert ENDLESS_SECONDS / spacing - 2 <= reader.frames_decoded <= ENDLESS_SECONDS / spacing + 3, reader.frames_decoded
    samples = [t.seconds for s in scenes for t in s.sample_times]
    assert samples[-1] >= ENDLESS_SECONDS - 2, samples
    assert np.diff([0.0, *samples, ENDLESS_SECONDS]).max() <= spacing + 1.0 + 2 / FPS, samples
    # The cut at 24 s is found, at the nearest decoded frame.
    assert len(scenes) == 2 and abs(scenes[1].start_seconds - ENDLESS_CUT / FPS) <= spacing / 2 + 1 / FPS
    assert any("no keyframe" in r.getMessage() and "keyframes mode" in r.getMessage() for r in caplog.records)


SHORT_SECONDS, SHORT_CUT = 15, 12 * FPS  # one keyframe; the sparse prefix of 15 s alone ends at 5 s


@pytest.mark.parametrize("mode", ["sparse", "keyframes"])
def test_a_short_clip_with_one_keyframe_is_covered_to_its_end(tmp_path, mode):
    path = made(tmp_path / "short.mp4", (0, SHORT_CUT), FPS * SHORT_SECONDS,
                ["-c:v", "libx264", "-preset", "ultrafast", "-x264-params", "keyint=infinite:scenecut=0",
                 "-pix_fmt", "yuv420p"])
    assert key_packets(path) == [0.0]
    scenes, _ = scenes_in(path, mode)
    samples = [t.seconds for s in scenes for t in s.sample_times]
    assert samples[-1] >= SHORT_SECONDS - 2, samples
    # The cut at 12 s is found: at its frame in sparse (every reference frame of the last GOP),
    # within half a second in keyframes mode (a frame a second).
    tolerance = 0.0 if mode == "sparse" else KEYFRAME_SPACING_SECONDS["keyframes"] / 2 + 1 / FPS
    assert len(scenes) == 2 and abs(scenes[1].start_seconds - SHORT_CUT / FPS) <= tolerance + 1e-6


def pattern_clip(path, seconds: int, codec: list[str]):
    """FFmpeg's ``testsrc2`` pattern (moving shapes, a counter): every frame differs from the last."""
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "lavfi", "-i",
                    f"testsrc2=s=160x120:r={FPS}:d={seconds}", *codec, "-pix_fmt", "yuv420p", str(path)],
                   check=True, timeout=120)
    return path


def full_decode(path) -> dict[float, np.ndarray]:
    """Every frame as BGR by presentation time, decoded by PyAV apart from the code under test."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        start = stream.start_time or 0
        return {round(float((f.pts - start) * stream.time_base), 3): f.to_ndarray(format="bgr24")
                for f in container.decode(stream)}


def delivered(path, mode: str) -> list[tuple[float, np.ndarray]]:
    """(seconds, BGR) of the frames the Indexer's decoder delivers in ``mode``, in order."""
    capture, info, first = open_video(path, DecoderSettings(decode_mode=mode, shrink=False))
    frames = [(round(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000, 3), first)]
    try:
        while (read := read_frame(capture, len(frames) - 1, info.frame_count)) is not None:
            frames.append((round(read[1] / 1000, 3), read[0]))
    finally:
        capture.release()
    return frames


def assert_true_pixels_in_order(path, mode: str, seconds: float, longest_gap: float):
    full = full_decode(path)
    frames = delivered(path, mode)
    times = [t for t, _ in frames]
    assert times == sorted(times) and len(set(times)) == len(times), times  # in order, none twice
    differences = [float(np.abs(pixels.astype(int) - full[t].astype(int)).mean()) for t, pixels in frames]
    assert max(differences) < 0.5, (mode, max(differences))  # the full decode's pixels
    assert np.diff([*times, seconds]).max() <= longest_gap, (mode, times)  # covered to the end
    return times


@pytest.mark.parametrize("mode", ["sparse", "keyframes"])
def test_intra_refresh_decodes_to_a_full_decodes_pixels(tmp_path, mode):
    """x264 ``intra-refresh`` (no I-frame after the first; recovery points every 2 s that MP4
    flags as keyframes, P-frames that refer to the frames before): the recovery points are not
    jumped to, the clip (12 s, one true keyframe) is decoded on, at a full decode's pixels."""
    path = pattern_clip(tmp_path / "refresh.mp4", 12, ["-c:v", "libx264", "-preset", "ultrafast",
                                                   "-x264-params", "intra-refresh=1:keyint=50"])
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        kinds = KeyframeKinds(stream.codec_context)
        flagged = [kinds.kind(p) for p in container.demux(stream) if p.size and p.is_keyframe]
    assert len(flagged) >= 5 and flagged[0] == RESET and set(flagged[1:]) == {INNER}  # as the test needs
    times = assert_true_pixels_in_order(path, mode, 12, 1.0 + 2 / FPS)
    assert times[-1] >= 11


@pytest.mark.parametrize(
    ("codec", "seconds", "keyframe_seconds"),
    [
        (["-c:v", "libx264", "-preset", "veryfast", "-x264-params", "open-gop=1:keyint=50:scenecut=0"], 12, 2.0),
        (["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=error:open-gop=1:keyint=200:scenecut=0"], 24, 8.0),
    ],
    ids=["h264-open-gop", "hevc-cra"],
)
@pytest.mark.parametrize("mode", ["sparse", "keyframes"])
def test_open_gop_keyframes_are_delivered_in_order_at_true_pixels(tmp_path, codec, seconds, keyframe_seconds, mode):
    """Open GOPs: keyframes that decode on their own but do not reset the decoder (H.264 I-frames
    with a recovery point; HEVC CRA, x265's default). The decoder is restarted before each, so
    each comes out once, in order, at a full decode's pixels."""
    path = pattern_clip(tmp_path / "open.mp4", seconds, codec)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        kinds = KeyframeKinds(stream.codec_context)
        flagged = [(float(p.pts * stream.time_base), kinds.kind(p)) for p in container.demux(stream) if p.size and p.is_keyframe]
    assert [k for _, k in flagged] == [RESET] + [RESTART] * (len(flagged) - 1) and len(flagged) >= 3
    times = assert_true_pixels_in_order(path, mode, seconds, keyframe_seconds + 1e-3)
    assert {round(t, 3) for t, _ in flagged} <= set(times)  # every keyframe delivered


def flagged_kinds(path) -> list[str]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        kinds = KeyframeKinds(stream.codec_context)
        return [kinds.kind(p) for p in container.demux(stream) if p.size and p.is_keyframe]


def test_keyframe_kinds_are_read_from_start_codes_too(tmp_path):
    """MPEG-TS carries H.264 with start codes (Annex B), not MP4's length fields: the same kinds."""
    mp4 = pattern_clip(tmp_path / "refresh.mp4", 6, ["-c:v", "libx264", "-preset", "ultrafast",
                                                      "-x264-params", "intra-refresh=1:keyint=50"])
    ts = tmp_path / "refresh.ts"
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-i", str(mp4), "-c", "copy", "-f", "mpegts", str(ts)],
                   check=True, timeout=60)
    assert flagged_kinds(mp4) == flagged_kinds(ts) and flagged_kinds(ts)[:2] == [RESET, INNER]


def test_closed_gop_keyframes_reset_the_decoder(tmp_path):
    """x264's default (IDR keyframes): every flagged packet is a keyframe the modes jump to freely."""
    path = pattern_clip(tmp_path / "closed.mp4", 6, ["-c:v", "libx264", "-preset", "ultrafast", "-g", "25"])
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        kinds = KeyframeKinds(stream.codec_context)
        assert {kinds.kind(p) for p in container.demux(stream) if p.size and p.is_keyframe} == {RESET}
