"""The sparse decode mode on real H.264 (x264, 3 B-frames, a long GOP): it decodes each
keyframe and the reference frames of the first third of its GOP only, so its samples are at most
max(2 s, 2/3 of the keyframe interval) apart, and cuts and samples fall on decoded frames.

What the decoder may deliver is worked out here with PyAV apart from the code under test: the
keyframes, and the reference frames (PyAV's own ``skip_frame`` NONREF decode) shown within the
documented prefix of their GOP."""

from __future__ import annotations

import subprocess

import av
import cv2
import numpy as np
import pytest

from tests.indexer_media.helpers import clip_preprocessing
from tests.indexer_media.made_videos import ffmpeg_exe, shot_frame
from videosearch.common.errors import InvalidArgument
from videosearch.indexer.media.decode_modes import mode_covers
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.media.facade import iter_scenes
from videosearch.indexer.media.gop_prefix import GopPrefix
from videosearch.indexer.media.scenes import read_frame
from videosearch.indexer.media.video_file import open_video
from videosearch.indexer.types import IndexOptions

FPS, SECONDS, GOP_FRAMES = 25, 12, 150  # keyframes at 0 s and 6 s only
SHOT_STARTS = (0, 38, 100)  # cuts at 1.52 s (inside the first GOP's decoded prefix) and at 4 s (past it)
SPACING_BOUND = 4.0  # max(2 s, G - prefix) for G = 6 s: the prefix is 2 s


def prefix(gop_seconds: float) -> float:
    """The documented rule: min(G / 3, G - 2 s), none for GOPs of 2 s or less."""
    return max(0.0, min(gop_seconds / 3, gop_seconds - 2.0))


@pytest.fixture(scope="module")
def long_gop_video(tmp_path_factory):
    """Three flat-colored shots with a square moving across them, x264 with 3 B-frames (a
    pyramid), a keyframe every 6 s and none at the shot changes (scene-cut keyframes off)."""
    shots = np.searchsorted(SHOT_STARTS, np.arange(FPS * SECONDS), side="right") - 1
    frames = [shot_frame(int(shot), i, 160, 120) for i, shot in enumerate(shots)]
    path = tmp_path_factory.mktemp("sparse") / "long_gop.mp4"
    subprocess.run([ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", "160x120",
                    "-r", str(FPS), "-i", "-", "-c:v", "libx264", "-preset", "medium", "-bf", "3", "-g", str(GOP_FRAMES),
                    "-sc_threshold", "0", "-pix_fmt", "yuv420p", str(path)],
                   input=b"".join(f.tobytes() for f in frames), check=True, timeout=120)
    return path


def allowed_times(path) -> tuple[list[float], set[float], int]:
    """(keyframe times, times the sparse mode may decode, reference frames in the video)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        keyframes = sorted(float(p.pts * stream.time_base) for p in container.demux(stream) if p.is_keyframe and p.size)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.codec_context.skip_frame = "NONREF"
        references = sorted(float(f.pts * stream.time_base) for f in container.decode(stream))
    ends = [*keyframes[1:], references[-1]]  # the last GOP runs to its last frame
    allowed = {round(t, 3) for t in references
               if any(k <= t <= k + prefix(end - k) for k, end in zip(keyframes, ends))}
    return keyframes, allowed | {round(k, 3) for k in keyframes}, len(references)


def decoded_times(path) -> list[float]:
    """Presentation times of the frames the Indexer's decoder delivers in the sparse mode."""
    capture, info, _ = open_video(path, DecoderSettings(decode_mode="sparse"))
    times = [capture.get(cv2.CAP_PROP_POS_MSEC) / 1000]
    try:
        while read_frame(capture, len(times) - 1, info.frame_count) is not None:
            times.append(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000)
    finally:
        capture.release()
    return times


def test_sparse_mode_decodes_each_gops_prefix_within_its_spacing_bound(long_gop_video):
    keyframes, allowed, reference_count = allowed_times(long_gop_video)
    assert keyframes == pytest.approx([0.0, GOP_FRAMES / FPS])  # the video is as the test needs it
    decoded = decoded_times(long_gop_video)
    # Only keyframes and reference frames inside their GOP's prefix, fewer than half the
    # reference frames, and more than the keyframes.
    assert {round(t, 3) for t in decoded} <= allowed
    assert len(keyframes) < len(decoded) < reference_count / 2
    # The spacing bound: max(2 s, G - prefix) = 4 s for these 6 s GOPs, to the video's end too,
    # give or take the spacing of reference frames (at most 4 frames with 3 B-frames).
    gaps = np.diff([*decoded, SECONDS])
    assert decoded[0] == 0.0 and gaps.max() <= SPACING_BOUND + 4 / FPS, decoded
    assert gaps.max() > 2.0  # (the GOPs' ends are skipped: this is not a full decode)


def test_sparse_mode_samples_and_cuts_only_decoded_frames(long_gop_video):
    _, allowed, _ = allowed_times(long_gop_video)
    reader = iter_scenes(long_gop_video, preprocessing=clip_preprocessing(32),
                         decoder=DecoderSettings(decode_mode="sparse"))
    scenes = list(reader)
    assert reader.video_info.frame_count == FPS * SECONDS  # the video still ends where it does
    samples = [t.seconds for s in scenes for t in s.sample_times]
    starts = [s.start_seconds for s in scenes]
    # Every sample and every cut is a frame the mode may decode (a keyframe or a reference
    # frame inside its GOP's prefix), never a frame it skipped.
    assert {round(t, 3) for t in samples} <= allowed
    assert {round(t, 3) for t in starts} <= allowed
    # Samples are the decoded frames nearest the one-per-second positions: apart by at most the
    # decoded frames' bound plus one sampling step.
    assert np.diff([0.0, *samples, SECONDS]).max() <= SPACING_BOUND + 1.0, samples
    # The cut inside the first prefix is found at its frame (the nearest decoded one); the one
    # past it at the next decoded frame, the 6 s keyframe.
    assert starts[0] == 0.0 and len(starts) == 3
    assert starts[1] == pytest.approx(SHOT_STARTS[1] / FPS, abs=2 / FPS)
    assert starts[2] == pytest.approx(GOP_FRAMES / FPS)


def test_the_prefix_rule_and_which_stored_mode_serves_which_request():
    rule = GopPrefix()
    # Keyframes 2 s apart or closer are samples enough; longer GOPs get their first third,
    # never so much that less than 2 s is left undecoded.
    assert [round(rule.prefix_seconds(g), 3) for g in (1.0, 2.0, 2.5, 3.0, 6.0, 10.0)] == [0, 0, 0.5, 1.0, 2.0, 3.333]
    # A sparse entry serves a keyframes request; a default or reference request indexes it again.
    assert mode_covers("sparse", "keyframes") and mode_covers("reference", "sparse")
    assert not mode_covers("sparse", "all") and not mode_covers("sparse", "reference")
    assert not mode_covers("keyframes", "sparse")
    assert IndexOptions(decode_mode="sparse").validate() is not None
    with pytest.raises(InvalidArgument, match="sparse"):
        IndexOptions(decode_mode="sparser").validate()


def test_a_sparse_buffer_keeps_a_candidate_for_a_scene_ending_at_the_next_decoded_frame():
    from videosearch.indexer.media.sampling import CandidateBuffer, SamplingPolicy

    # Keyframes at 50 and 100 only (25 fps): when 100 is added the scene from 50 may still end
    # at 100 (a cut there, reported later by the detector's flash filter), so 50 must stay.
    buffer = CandidateBuffer(50, SamplingPolicy().in_frames(25), capacity=384, max_lag=15, sparse=True)
    for frame in (50, 100):
        buffer.add(frame, frame)
    buffer.split(100)
    assert buffer.pick(100) == ([50], [50])
