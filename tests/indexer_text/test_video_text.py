"""A video's words read in its decode pass: subtitle streams of every text codec, sidecar files,
speech and on-screen text, and what bad input costs (a warning, never the video)."""

from __future__ import annotations

import av
import numpy as np
import pytest

from tests.indexer_text.talking_videos import SRT, cjk_font, make_video, speak
from videosearch.embedder.types import Preprocessing
from videosearch.indexer.media import facade as media
from videosearch.indexer.media.decoding import DecoderSettings
from videosearch.indexer.jobs.limits import MediaLimits
from videosearch.indexer.text.video_text import TextChoice, VideoText
from videosearch.indexer.media.timing import StageClock

PREPROCESSING = Preprocessing(32, 32, 32, 1 / 255, (0.5,) * 3, (0.5,) * 3)


class PocketsphinxTranscriber:
    """The Embedder's recognizer called in process (the gRPC path is tested in test_text_jobs)."""

    def __init__(self) -> None:
        from videosearch.embedder.speech import PocketsphinxRecognizer

        self.recognizer = PocketsphinxRecognizer()
        self.seconds_sent = 0.0

    def transcribe_audio(self, pcm, language="", timeout=None):
        self.seconds_sent += len(pcm) / 16000
        return [(s.start_seconds, s.end_seconds, s.text, s.language) for s in self.recognizer.transcribe(pcm, language)]


def read_words(path, choice=TextChoice(), *, library="pyav", limits=MediaLimits(), transcriber=None, recognizer=None):
    """Runs the decode pass over ``path`` with a VideoText beside it: (spans, warnings)."""
    text = VideoText(str(path), choice, limits=limits, roots=None, transcriber=transcriber, recognizer=recognizer,
                     clock=StageClock())
    try:
        side = text.start_apart(library, str(path))
        reader = media.iter_scenes(path, preprocessing=PREPROCESSING, side_streams=side, keep_text_frames=text.reads_frames,
                                   decoder=DecoderSettings(library=library))
        for scene in reader:
            text.add_scene(scene.text_frames, [t.seconds for t in scene.sample_times], scene.end.seconds)
        return text.finish(reader.frame_times.duration_seconds), text.warnings.all()
    finally:
        text.close()


@pytest.fixture()
def srt(tmp_path):
    path = tmp_path / "cues.srt"
    path.write_text(SRT, encoding="utf-8")
    return path


@pytest.mark.parametrize("container, codec", [("mp4", "mov_text"), ("mkv", "subrip"), ("mkv", "ass"), ("mkv", "webvtt")])
def test_each_subtitle_codec_is_read_in_the_decode_pass(tmp_path, srt, container, codec):
    video = make_video(tmp_path / f"clip.{container}", 4, subtitles=((srt, codec, "chi"),))
    spans, warnings = read_words(video)
    assert [(s.start_seconds, s.end_seconds, s.text, s.language, s.source, s.kind) for s in spans] == [
        (0.5, 1.5, "the quarterly budget", "zh", "subtitle_stream", "said"),
        (2.0, 3.0, "我们讨论预算", "zh", "subtitle_stream", "said")]
    assert warnings == []


def test_opencv_decoder_reads_the_streams_in_a_pyav_read_of_their_own(tmp_path, srt):
    chinese = tmp_path / "zh.srt"
    chinese.write_text(SRT.replace("the quarterly budget", "季度预算").replace("我们讨论预算", "会议"))
    video = make_video(tmp_path / "clip.mkv", 4, subtitles=((srt, "subrip", "eng"), (chinese, "ass", "chi")))
    spans, _ = read_words(video, library="opencv")
    assert sorted((s.text, s.language) for s in spans) == sorted([
        ("the quarterly budget", "en"), ("我们讨论预算", "en"), ("季度预算", "zh"), ("会议", "zh")])


def test_the_same_cues_twice_are_kept_once(tmp_path, srt):
    video = make_video(tmp_path / "talk.mkv", 4, subtitles=((srt, "subrip", "eng"),))
    (tmp_path / "talk.srt").write_text(SRT)  # the file that was muxed in, still beside it
    spans, _ = read_words(video)
    assert [s.text for s in spans] == ["the quarterly budget", "我们讨论预算"]


def test_sidecars_with_their_languages_and_encodings(tmp_path):
    video = make_video(tmp_path / "talk.mp4", 4)
    (tmp_path / "talk.srt").write_text(SRT, encoding="utf-8-sig")
    (tmp_path / "talk.zh.srt").write_bytes(SRT.replace("the quarterly budget", "季度预算").encode("gbk"))
    (tmp_path / "talk.en-US.vtt").write_bytes(("WEBVTT\n\n00:01.000 --> 00:02.000\nvtt words\n").encode("utf-16"))
    (tmp_path / "talk.ass").write_text("[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, "
                                       "Effect, Text\nDialogue: 0,0:00:03.00,0:00:03.50,Default,,0,0,0,,ass words\n")
    (tmp_path / "talk.final.srt").write_text(SRT)  # another video's ("talk.final.mp4"): not read
    (tmp_path / "other.srt").write_text(SRT)
    spans, warnings = read_words(video)
    found = {(s.text, s.language, s.source) for s in spans}
    # The cue in both talk.srt and talk.zh.srt is kept once, with the language one of them names.
    assert found == {("the quarterly budget", "", "sidecar"),
                     ("季度预算", "zh", "sidecar"), ("我们讨论预算", "zh", "sidecar"),
                     ("vtt words", "en-US", "sidecar"), ("ass words", "", "sidecar")}
    assert warnings == []


def test_subtitles_off_reads_none(tmp_path, srt):
    video = make_video(tmp_path / "talk.mkv", 3, subtitles=((srt, "subrip", "eng"),))
    (tmp_path / "talk.srt").write_text(SRT)
    assert read_words(video, TextChoice(subtitles=False)) == ([], [])


def test_broken_and_odd_sidecars_warn_and_the_rest_is_kept(tmp_path):
    video = make_video(tmp_path / "talk.mp4", 4)
    (tmp_path / "talk.en.srt").write_bytes(bytes(range(256)) * 50)  # not subtitles at all
    (tmp_path / "talk.zh.srt").write_text(  # out of order, one cue after the end, one across it, one bad timing
        "1\n00:00:03,000 --> 00:00:03,500\nthird\n\n2\n00:00:00,500 --> 00:00:01,000\nfirst\n\n"
        "3\n00:00:09,000 --> 00:00:10,000\nafter the end\n\n4\n00:00:03,800 --> 00:00:07,000\nacross the end\n\n"
        "5\n00:00:0x,000 --> 00:00:01,000\nbad\n", encoding="utf-8")
    spans, warnings = read_words(video)
    assert [(s.start_seconds, s.end_seconds, s.text) for s in spans] == [
        (0.5, 1.0, "first"), (3.0, 3.5, "third"), (3.8, 4.0, "across the end")]
    text = "\n".join(warnings)
    assert "talk.en.srt has no cue" in text
    assert "out of time order" in text and "outside the video" in text and "cut at it" in text
    assert "timings that do not parse" in text


def test_cue_count_and_length_limits_warn_and_keep_the_first(tmp_path):
    video = make_video(tmp_path / "talk.mp4", 4)
    cues = "".join(f"{i}\n00:00:0{i},000 --> 00:00:0{i},500\n{'word ' * 40}{i}\n\n" for i in range(1, 4))
    (tmp_path / "talk.srt").write_text(cues)
    spans, warnings = read_words(video, limits=MediaLimits(max_text_spans=2, max_span_chars=50))
    assert len(spans) == 2 and all(len(s.text) == 50 for s in spans)
    assert any("over the limit of 2" in w for w in warnings) and any("longer than 50" in w for w in warnings)


def test_oversized_subtitle_file_is_not_read(tmp_path):
    video = make_video(tmp_path / "talk.mp4", 2)
    (tmp_path / "talk.srt").write_text(SRT * 10)
    spans, warnings = read_words(video, limits=MediaLimits(max_subtitle_file_bytes=100))
    assert spans == [] and "over the limit of 100" in warnings[0]


@pytest.fixture(scope="module")
def transcriber():
    pytest.importorskip("pocketsphinx")
    return PocketsphinxTranscriber()


def test_speech_is_transcribed_with_times(tmp_path, transcriber):
    audio = speak(tmp_path / "talk.wav", "we will discuss the quarterly budget at the meeting")
    video = make_video(tmp_path / "talk.mkv", 6, audio=audio)
    spans, warnings = read_words(video, TextChoice(speech=True), transcriber=transcriber)
    assert spans and all(s.source == "speech" and s.kind == "said" and s.language == "en" for s in spans)
    words = " ".join(s.text for s in spans).split()
    assert "quarterly" in words  # pocketsphinx's shipped model hears this word of espeak-ng's sentence
    assert 0 <= spans[0].start_seconds < spans[-1].end_seconds <= 6
    assert warnings == []


def test_the_audio_track_language_is_the_recognizers_hint(tmp_path, transcriber):
    audio = speak(tmp_path / "talk.wav", "we will discuss the quarterly budget at the meeting")
    video = make_video(tmp_path / "talk.mkv", 5, audio=audio, audio_language="chi")
    spans, warnings = read_words(video, TextChoice(speech=True), transcriber=transcriber)
    assert spans == [] and warnings == []  # an English-only recognizer hears nothing in a track marked Chinese


def test_speech_is_not_transcribed_where_subtitles_exist(tmp_path, transcriber, srt):
    audio = speak(tmp_path / "talk.wav", "we will discuss the quarterly budget")
    video = make_video(tmp_path / "talk.mkv", 4, audio=audio, subtitles=((srt, "subrip", "eng"),))
    sent = transcriber.seconds_sent
    spans, _ = read_words(video, TextChoice(speech=True), transcriber=transcriber)
    assert {s.source for s in spans} == {"subtitle_stream"} and transcriber.seconds_sent == sent


def test_silence_is_no_speech_and_no_warning(tmp_path, transcriber):
    video = make_video(tmp_path / "quiet.mkv", 3, silent_audio=True)
    assert read_words(video, TextChoice(speech=True), transcriber=transcriber) == ([], [])


def test_no_audio_track_is_a_warning(tmp_path, transcriber):
    spans, warnings = read_words(make_video(tmp_path / "mute.mp4", 2), TextChoice(speech=True), transcriber=transcriber)
    assert spans == [] and "no audio track" in warnings[0]


def test_long_audio_is_transcribed_up_to_the_limit(tmp_path, transcriber):
    video = make_video(tmp_path / "long.mkv", 6, silent_audio=True)
    sent = transcriber.seconds_sent
    _, warnings = read_words(video, TextChoice(speech=True), transcriber=transcriber,
                             limits=MediaLimits(max_speech_seconds=2.0))
    assert transcriber.seconds_sent - sent == pytest.approx(2.0, abs=0.01)
    assert "longer than the limit of 2 s" in warnings[0]


def test_audio_that_fails_to_decode_warns_and_the_picture_is_indexed(tmp_path, transcriber):
    audio = speak(tmp_path / "talk.wav", "we will discuss the quarterly budget at the meeting")
    video = make_video(tmp_path / "broken.mp4", 4, audio=audio)
    with av.open(str(video)) as container:  # where each AAC packet's bytes lie in the file (mp4: exact offsets)
        places = [(p.pos, p.size) for p in container.demux(container.streams.audio[0]) if p.size and p.pos is not None]
    data = bytearray(video.read_bytes())
    rng = np.random.default_rng(0)
    for pos, size in places:
        data[pos : pos + size] = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
    video.write_bytes(bytes(data))
    spans, warnings = read_words(video, TextChoice(speech=True), transcriber=transcriber)
    assert not any(s.source == "speech" and "quarterly" in s.text for s in spans)
    assert any("audio track could not be decoded" in w for w in warnings), warnings


def test_on_screen_text_is_read_merged_and_boxed(tmp_path):
    pytest.importorskip("rapidocr")
    from videosearch.indexer.text.on_screen import make_text_recognizer

    video = make_video(tmp_path / "sign.mp4", 5, drawn="QUARTERLY BUDGET", size="640x360")
    spans, warnings = read_words(video, TextChoice(on_screen_text=True), recognizer=make_text_recognizer())
    assert warnings == []
    assert [(s.kind, s.source, s.text) for s in spans] == [("written", "ocr", "QUARTERLY BUDGET")]
    span = spans[0]
    assert span.start_seconds < 1.0 and span.end_seconds == pytest.approx(5.0, abs=0.15)  # one span over the frames
    box = span.box
    assert 0 < box.x < 0.1 and 0.05 < box.y < 0.25 and 0.3 < box.width < 0.8 and 0 < box.height < 0.2


def test_chinese_on_screen_text_is_read(tmp_path):
    pytest.importorskip("rapidocr")
    from videosearch.indexer.text.on_screen import make_text_recognizer

    video = make_video(tmp_path / "sign.mp4", 3, drawn="季度预算会议", size="640x360", font=cjk_font())
    spans, _ = read_words(video, TextChoice(on_screen_text=True), recognizer=make_text_recognizer())
    assert [(s.text, s.language, s.source) for s in spans] == [("季度预算会议", "zh", "ocr")]
