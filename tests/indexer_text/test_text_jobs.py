"""Index jobs that read a video's words, through real servers: subtitles on by default, speech
transcribed by the Embedder's recognizer (TranscribeAudio), on-screen text; spans stored with
the video; what cannot be read is a warning on the job, never its failure."""

from __future__ import annotations

import shutil

import grpc
import numpy as np
import pytest

from tests.indexer.indexer_testlib import finish, start_indexer, submit
from tests.indexer_text.talking_videos import SRT, make_video, speak
from videosearch.client.searcher import SearcherClient
from videosearch.searcher.types import SearchParams
from videosearch.v1 import embedder_pb2, embedder_pb2_grpc, indexer_pb2


def stored_spans(searcher, video_id):
    with SearcherClient(searcher.address) as client:
        return client.get_text_spans(video_id)


def test_a_job_stores_sidecar_and_stream_subtitles_by_default(tmp_path, embedder, searcher):
    srt = tmp_path / "cues.srt"
    srt.write_text(SRT)
    video = make_video(tmp_path / "talk.mkv", 4, subtitles=((srt, "subrip", "chi"),))
    (tmp_path / "talk.en.vtt").write_text("WEBVTT\n\n00:00:03.000 --> 00:00:03.800\nsidecar line\n")
    app = start_indexer([tmp_path], embedder.address, searcher.address)
    try:
        stub, job, channel = submit(app, video)
        with channel:
            done = finish(stub, job.job_id)
    finally:
        app.stop(0)
    assert done.state == indexer_pb2.JOB_STATE_SUCCEEDED, done.error
    assert done.options.subtitles and not done.options.speech and not done.options.on_screen_text
    assert done.text_spans_found == 3 and list(done.warnings) == []
    spans = stored_spans(searcher, done.video_id)
    assert [(s.text, s.source, s.language) for s in spans] == [
        ("the quarterly budget", "subtitle_stream", "zh"), ("我们讨论预算", "subtitle_stream", "zh"),
        ("sidecar line", "sidecar", "en")]


def test_a_broken_sidecar_is_a_warning_not_a_failure(tmp_path, embedder, searcher):
    audio = speak(tmp_path / "talk.wav", "we will discuss the quarterly budget at the meeting")
    video = make_video(tmp_path / "talk.mkv", 5, audio=audio)
    (tmp_path / "talk.vtt").write_bytes(b"\xff\xfe\x00garbage that is no subtitle")
    app = start_indexer([tmp_path], embedder.address, searcher.address)
    try:
        stub, job, channel = submit(app, video, speech=True)
        with channel:
            stages = [update.job.stage for update in stub.WatchIndexJob(
                indexer_pb2.WatchIndexJobRequest(job_id=job.job_id), timeout=120)]
            done = stub.GetIndexJob(indexer_pb2.GetIndexJobRequest(job_id=job.job_id)).job
    finally:
        app.stop(0)
    assert done.state == indexer_pb2.JOB_STATE_SUCCEEDED, done.error
    assert any("talk.vtt has no cue" in w for w in done.warnings), list(done.warnings)
    # A sidecar that holds no cue does not count as subtitles: the speech is transcribed.
    assert "quarterly" in " ".join(s.text for s in stored_spans(searcher, done.video_id) if s.source == "speech").split()
    assert indexer_pb2.JOB_STAGE_STORING in stages


def test_speech_is_transcribed_through_the_embedder(tmp_path, embedder, searcher):
    audio = speak(tmp_path / "talk.wav", "we will discuss the quarterly budget at the meeting")
    video = make_video(tmp_path / "talk.mkv", 5, audio=audio)
    app = start_indexer([tmp_path], embedder.address, searcher.address)
    try:
        stub, job, channel = submit(app, video, speech=True, subtitles=False)
        with channel:
            done = finish(stub, job.job_id)
    finally:
        app.stop(0)
    assert done.state == indexer_pb2.JOB_STATE_SUCCEEDED, done.error
    spans = stored_spans(searcher, done.video_id)
    assert spans and {s.source for s in spans} == {"speech"}
    assert "quarterly" in " ".join(s.text for s in spans).split()
    assert done.stage_seconds["speech"] > 0


def test_speech_without_a_recognizer_is_a_warning(tmp_path, tiny_clip_dir, searcher):
    from videosearch.embedder.server import serve as serve_embedder
    from videosearch.embedder.settings import EmbedderSettings

    deaf = serve_embedder(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32", speech_recognizer="none"))
    audio = speak(tmp_path / "talk.wav", "hello there")
    video = make_video(tmp_path / "talk.mkv", 3, audio=audio)
    app = start_indexer([tmp_path], deaf.address, searcher.address)
    try:
        stub, job, channel = submit(app, video, speech=True)
        with channel:
            done = finish(stub, job.job_id)
    finally:
        app.stop(0)
        deaf.stop(0)
    assert done.state == indexer_pb2.JOB_STATE_SUCCEEDED, done.error
    assert any("hosts no speech recognizer" in w for w in done.warnings), list(done.warnings)


@pytest.fixture()
def embedder_stub(embedder):
    with grpc.insecure_channel(embedder.address) as channel:
        yield embedder_pb2_grpc.EmbedderServiceStub(channel)


@pytest.mark.parametrize("request_fields, code", [
    ({"pcm_s16le": b"\0\0" * 100, "sample_rate_hertz": 44100}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"pcm_s16le": b"\0\0\0", "sample_rate_hertz": 16000}, grpc.StatusCode.INVALID_ARGUMENT),
    ({"pcm_s16le": b"\0\0" * 16000 * 121, "sample_rate_hertz": 16000}, grpc.StatusCode.INVALID_ARGUMENT),
])
def test_transcribe_audio_refuses_bad_requests(embedder_stub, request_fields, code):
    with pytest.raises(grpc.RpcError) as raised:
        embedder_stub.TranscribeAudio(embedder_pb2.TranscribeAudioRequest(**request_fields), timeout=30)
    assert raised.value.code() == code and raised.value.details()


def test_transcribe_audio_hears_nothing_in_silence(embedder_stub):
    response = embedder_stub.TranscribeAudio(embedder_pb2.TranscribeAudioRequest(
        pcm_s16le=np.zeros(32000, np.int16).tobytes(), sample_rate_hertz=16000), timeout=30)
    assert list(response.segments) == [] and response.recognizer_id == "pocketsphinx-en-us"


def test_subtitles_are_read_in_a_fast_decode_mode_on_an_opencv_indexer(tmp_path, embedder, searcher):
    srt = tmp_path / "cues.srt"
    srt.write_text(SRT)
    video = make_video(tmp_path / "talk.mkv", 4, subtitles=((srt, "ass", "eng"),))
    app = start_indexer([tmp_path], embedder.address, searcher.address, decoder_library="opencv")
    try:
        stub, job, channel = submit(app, video, decode_mode="keyframes")
        with channel:
            done = finish(stub, job.job_id)
    finally:
        app.stop(0)
    assert done.state == indexer_pb2.JOB_STATE_SUCCEEDED, done.error
    assert [s.text for s in stored_spans(searcher, done.video_id)] == ["the quarterly budget", "我们讨论预算"]


def test_identical_files_keep_their_own_sidecars(tmp_path, embedder, searcher):
    """Two byte-identical videos in two folders with different subtitles beside them, and a third
    copy with none: each path's words are its own. Searching one sidecar's line finds its own
    path at its own time, never the other copy (which used to share the first one's transcript)."""
    copies = {folder: tmp_path / folder / "clip.mp4" for folder in ("harbour", "mountain", "quiet", "again")}
    for path in copies.values():
        path.parent.mkdir()
    make_video(copies["harbour"], 4)
    for folder in ("mountain", "quiet", "again"):
        shutil.copyfile(copies["harbour"], copies[folder])
    lines = {"harbour": ("00:00:00,500 --> 00:00:01,500", "the harbour ferry leaves at noon"),
             "mountain": ("00:00:02,000 --> 00:00:03,000", "the mountain railway climbs slowly")}
    for folder, (timing, text) in [*lines.items(), ("again", lines["harbour"])]:
        (tmp_path / folder / "clip.srt").write_text(f"1\n{timing}\n{text}\n")
    app = start_indexer([tmp_path], embedder.address, searcher.address)
    try:
        jobs = {}
        for folder, path in copies.items():  # one after another: each sees the ones before it stored
            stub, job, channel = submit(app, path)
            with channel:
                jobs[folder] = finish(stub, job.job_id)
    finally:
        app.stop(0)
    assert all(job.state == indexer_pb2.JOB_STATE_SUCCEEDED for job in jobs.values()), jobs
    assert len({job.video_id for job in jobs.values()}) == 3, "the same content with other words is its own video"
    # The same content with the same words beside it is the same video: only its path is recorded.
    assert jobs["again"].skipped and jobs["again"].video_id == jobs["harbour"].video_id
    assert stored_spans(searcher, jobs["quiet"].video_id) == ()
    with SearcherClient(searcher.address) as client:
        for folder, (timing, text) in lines.items():
            hits = client.search(text=text, params=SearchParams(mode="scenes", kinds=("said",), top_k=5)).scenes
            assert [hit.video_id for hit in hits] == [jobs[folder].video_id], (folder, hits)
            video = client.get_video(hits[0].video_id)[0]
            assert video.uri == str(copies[folder])
            assert {location.path for location in video.locations} == (
                {str(copies["harbour"]), str(copies["again"])} if folder == "harbour" else {str(copies[folder])})
            span = hits[0].text_matches[0].span
            assert (span.start_seconds, span.end_seconds, span.text) == (
                (0.5, 1.5, text) if folder == "harbour" else (2.0, 3.0, text))
