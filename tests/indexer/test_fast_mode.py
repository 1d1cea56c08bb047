"""The fast decode modes through the real services: a job in keyframes mode decodes only the
keyframes, places its cuts at decoded frames' presentation times and records its mode; the same
file asked for in the default mode later is indexed again (not skipped as unchanged), and
replaces the fast entry."""

from __future__ import annotations

import json
from fractions import Fraction

import av
import pytest

from tests.indexer.indexer_testlib import finish, start_indexer, submit
from tests.indexer_media.helpers import clip_preprocessing
from tests.indexer_media.made_videos import encode, shot_frame
from videosearch.client.searcher import SearcherClient
from videosearch_cli.main import main as cli_main
from videosearch.common.errors import InvalidArgument
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.media.facade import iter_scenes
from videosearch.indexer.types import IndexOptions
from videosearch.v1 import indexer_pb2

SHOT_FRAMES, SHOTS = 50, 3  # 2 s shots at 25 fps


@pytest.fixture(scope="module")
def shots_video(tmp_path_factory):
    """Three flat-colored 2 s shots, H.264 with B-frames; x264 puts keyframes only where its
    scene-cut detection sees a shot start (keyframe interval 250): at 0 and at 2 s, not at 4 s."""
    frames = [shot_frame(shot, i, 160, 120) for shot in range(SHOTS) for i in range(SHOT_FRAMES)]
    return encode(tmp_path_factory.mktemp("fast") / "shots.mp4", frames, rate=Fraction(25))


def keyframe_times(path) -> list[float]:
    """Presentation times of the keyframes, read by PyAV apart from the code under test."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return sorted(float(p.pts * stream.time_base) for p in container.demux(stream) if p.is_keyframe and p.pts is not None)


def test_keyframes_mode_decodes_fewer_frames_and_cuts_at_keyframes(shots_video):
    reader = iter_scenes(shots_video, preprocessing=clip_preprocessing(32), decoder=DecoderSettings(decode_mode="keyframes"))
    scenes = list(reader)
    keyframes = keyframe_times(shots_video)
    assert reader.frames_decoded == len(keyframes) < SHOTS * SHOT_FRAMES
    assert reader.video_info.frame_count == SHOTS * SHOT_FRAMES  # the video still ends where it does
    assert len(keyframes) >= 2 and all(t % 2 == 0 for t in keyframes)  # some shots start with a keyframe
    # Each keyframe starts a scene (the cut to a shot with no keyframe falls inside one).
    assert [s.start_seconds for s in scenes] == pytest.approx(keyframes)
    assert [s.start_frame for s in scenes] == [round(t * 25) for t in keyframes]
    # Frames for CLIP are decoded ones: each scene's sample is its keyframe.
    assert [len(s.sample_times) for s in scenes] == [1] * len(keyframes)
    assert [s.sample_times[0].seconds for s in scenes] == pytest.approx(keyframes)


def test_a_fast_job_records_its_mode_and_the_default_mode_replaces_it(shots_video, embedder, searcher, capsys):
    app = start_indexer([shots_video.parent], embedder.address, searcher.address)
    addresses = ["--indexer-address", f"127.0.0.1:{app.port}", "--searcher-address", searcher.address]
    try:
        capsys.readouterr()
        assert cli_main([*addresses, "index", "--decode-mode", "keyframes", "--json", str(shots_video)]) == 0  # the CLI's fastest mode
        (fast,) = json.loads(capsys.readouterr().out)["jobs"]
        assert fast["state"] == "succeeded" and fast["options"]["decode_mode"] == "keyframes", fast
        with SearcherClient(searcher.address) as client:
            video, scenes, _ = client.get_video_moments(fast["video_id"])
        assert video.decode_mode == "keyframes"
        assert [s.start_seconds for s in scenes] == pytest.approx(keyframe_times(shots_video))
        assert cli_main([*addresses, "videos", "show", video.video_id]) == 0
        assert "decoded keyframes only" in capsys.readouterr().out
        # Unchanged on disk, but asked for every frame (the default): indexed again, not skipped.
        stub, job, channel = submit(app, shots_video)
        with channel:
            full = finish(stub, job.job_id)
            assert full.state == indexer_pb2.JOB_STATE_SUCCEEDED and not full.skipped and not full.unchanged, full.error
            with SearcherClient(searcher.address) as client:
                video, scenes, _ = client.get_video_moments(full.video_id)
            assert video.decode_mode == "all" and len(scenes) == SHOTS

            # Every frame serves a keyframes request: that one is skipped.
            again = finish(stub, submit(app, shots_video, decode_mode="keyframes")[1].job_id)
            assert again.state == indexer_pb2.JOB_STATE_SUCCEEDED and again.skipped
    finally:
        app.stop(0)


def test_an_unknown_decode_mode_is_refused_saying_which_there_are():
    with pytest.raises(InvalidArgument, match="use all .* reference .* keyframes"):
        IndexOptions(decode_mode="fastest").validate()


def test_skipped_frames_get_times_between_their_decoded_neighbours():
    from videosearch.indexer.media.frame_times import FrameTimes

    times = FrameTimes(Fraction(25))
    times.append_at(0, 0.0)
    times.append_at(4, 160.0)  # frames 1..3 skipped
    times.extend_to(6)  # two more after the last decoded one
    assert [times.seconds(f) for f in range(7)] == pytest.approx([0, 0.04, 0.08, 0.12, 0.16, 0.2, 0.24])
    assert times.nominal_frame(400.0, 0.0) == 10 and times.nominal_frame(0.0, 0.0) == len(times)


def test_a_sparse_buffer_keeps_candidates_when_it_coarsens():
    from videosearch.indexer.media.sampling import CandidateBuffer

    # Reference frames of x264's B-pyramid fall on every other frame number, offset by one from
    # the scene start: a grid of multiples of the stride would keep none of them.
    buffer = CandidateBuffer(0, 3, capacity=12, sparse=True)
    for frame in range(1, 200, 2):
        if buffer.wants(frame):
            buffer.add(frame, frame)
    assert buffer.stride > 2 and len(buffer) >= 6
    frames, _ = buffer.pick(200)
    assert len(frames) == 3 and frames == sorted(frames)
