"""The Embedder's speech recognizers: pocketsphinx's shipped English model on espeak-ng speech,
a (tiny random) Hugging Face Whisper through transformers, the one factory, and TranscribeAudio
hosting Whisper over gRPC."""

from __future__ import annotations

import av
import grpc
import numpy as np
import pytest

from tests.indexer_text.talking_videos import speak
from tests.indexer_text.tiny_whisper import build_tiny_random_whisper
from videosearch.common.errors import FailedPrecondition, InvalidArgument
from videosearch.embedder.speech import SpeechHost, make_speech_recognizer, phrases
from videosearch.v1 import embedder_pb2, embedder_pb2_grpc


def pcm_of(wav) -> np.ndarray:
    """A WAV file as 16 kHz mono int16, resampled as the Indexer does."""
    resampler = av.AudioResampler(format="s16", layout="mono", rate=16000)
    with av.open(str(wav)) as container:
        frames = [out for frame in container.decode(audio=0) for out in resampler.resample(frame)]
    frames += resampler.resample(None)
    return np.concatenate([f.to_ndarray().reshape(-1) for f in frames]).astype(np.int16)


@pytest.fixture(scope="module")
def tiny_whisper(tmp_path_factory):
    return build_tiny_random_whisper(tmp_path_factory.mktemp("tiny-whisper"))


def test_phrases_break_at_pauses_and_length():
    words = [("we", 0.0, 0.2), ("will", 0.3, 0.5), ("go", 1.5, 1.7)] + [(f"w{i}", 2 + i, 2.5 + i) for i in range(10)]
    grouped = phrases(words, "en")
    assert [(p.start_seconds, p.text) for p in grouped][:2] == [(0.0, "we will"), (1.5, "go w0 w1 w2 w3 w4 w5 w6 w7")]
    assert all(p.end_seconds - p.start_seconds <= 8.0 for p in grouped)


def test_pocketsphinx_hears_english_with_word_times(tmp_path):
    recognizer = make_speech_recognizer("pocketsphinx")
    pcm = np.concatenate([np.zeros(16000, np.int16), pcm_of(speak(tmp_path / "s.wav", "we will discuss the quarterly budget at the meeting"))])
    heard = recognizer.transcribe(pcm)
    assert heard and heard[0].start_seconds >= 0.9  # after the second of silence put first
    assert heard[-1].end_seconds <= len(pcm) / 16000 + 0.01
    assert "quarterly" in " ".join(s.text for s in heard).split()
    assert recognizer.transcribe(pcm, language="zh") == []  # its only model is English


def test_whisper_loads_and_transcribes_with_times_and_language(tiny_whisper):
    recognizer = make_speech_recognizer(f"whisper:{tiny_whisper}")
    assert recognizer.recognizer_id == f"whisper:{tiny_whisper}"
    pcm = (np.sin(np.arange(16000 * 3) / 7) * 4000).astype(np.int16)
    heard = recognizer.transcribe(pcm, language="zh")
    assert heard, "a random Whisper still says something"
    assert all(0 <= s.start_seconds <= s.end_seconds <= 3.0 and s.language == "zh" for s in heard)


def test_factory_names_what_it_takes():
    assert make_speech_recognizer("none") is None
    with pytest.raises(InvalidArgument, match="pocketsphinx, whisper:"):
        make_speech_recognizer("sphinx3")


def test_a_recognizer_that_cannot_load_is_failed_precondition(tmp_path):
    host = SpeechHost(f"whisper:{tmp_path / 'missing'}")
    try:
        future = host.submit(np.full(16000, 1000, np.int16).tobytes(), 16000)
        with pytest.raises(FailedPrecondition, match="could not be loaded"):
            future.result(timeout=60)
    finally:
        host.close()


def test_transcribe_audio_over_grpc_with_whisper(tiny_clip_dir, tiny_whisper):
    from videosearch.embedder.server import serve
    from videosearch.embedder.settings import EmbedderSettings

    server = serve(EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32",
                                    speech_recognizer=f"whisper:{tiny_whisper}", device="cpu"))
    try:
        with grpc.insecure_channel(server.address) as channel:
            stub = embedder_pb2_grpc.EmbedderServiceStub(channel)
            pcm = (np.sin(np.arange(16000 * 2) / 5) * 4000).astype("<i2")
            response = stub.TranscribeAudio(embedder_pb2.TranscribeAudioRequest(
                pcm_s16le=pcm.tobytes(), sample_rate_hertz=16000, language="en"), timeout=120)
    finally:
        server.stop(0)
    assert response.recognizer_id.startswith("whisper:")
    assert response.segments and all(0 <= s.start_seconds <= s.end_seconds <= 2.0 for s in response.segments)
