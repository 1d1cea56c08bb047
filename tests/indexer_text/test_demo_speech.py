"""The demo speech recognizer (ctc:models/demo-speech, trained on espeak-ng speech) and the gate
that sends recognizers only voiced stretches: a sentence it never heard in training is heard
with its times, and a video whose only clue is that spoken sentence is found first through the
real Indexer, Embedder and Searcher, at the time it is said."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from tests.indexer_text.talking_videos import make_video, speak
from tests.indexer_text.test_found_by_words import first_hit, index_all
from tests.indexer_text.test_speech_recognizers import pcm_of
from videosearch.demo.train_speech import word_errors
from videosearch.embedder.server import serve as serve_embedder
from videosearch.embedder.settings import EmbedderSettings
from videosearch.embedder.speech import make_speech_recognizer, transcribe_chunk
from videosearch.embedder.speech_ctc import ALPHABET, Vocabulary, decode_words, edit_distances, greedy_words
from videosearch.embedder.speech_gate import voiced_stretches
from videosearch.searcher.server import serve as serve_searcher
from videosearch.searcher.settings import SearcherSettings

DEMO_SPEECH = Path(__file__).resolve().parents[2] / "models" / "demo-speech"
SAID = "the bakery sells fresh bread every morning"
ALSO_SAID = "a small boat sails across the quiet lake"
"""Never spoken in the recognizer's training (its sentences are random word sequences; these
are held out by name too). Its word error rate over many such sentences is the WER bench's
(bench/quality/speech_wer.py): it mishears some words of most sentences, more in some sentences
than in others, so the test below counts errors over two sentences, not one."""
OTHER = "the farmer sold his horse at the market"


def test_the_gate_sends_only_voiced_stretches_with_padding():
    rate = 16000
    tone = (np.sin(np.arange(rate) * 2 * np.pi * 220 / rate) * 8000).astype(np.int16)
    pcm = np.zeros(rate * 6, np.int16)
    pcm[rate : 2 * rate] = tone  # 1-2 s
    pcm[4 * rate : 5 * rate] = tone  # 4-5 s
    stretches = [(a / rate, b / rate) for a, b in voiced_stretches(pcm)]
    assert len(stretches) == 2, stretches
    assert stretches[0][0] == pytest.approx(0.75, abs=0.03) and stretches[0][1] == pytest.approx(2.25, abs=0.03)
    assert stretches[1][0] == pytest.approx(3.75, abs=0.03) and stretches[1][1] == pytest.approx(5.25, abs=0.03)
    assert voiced_stretches(np.zeros(rate * 3, np.int16)) == []
    assert voiced_stretches(np.full(rate, 40, np.int16)) == []  # under the silence floor


def frames_saying(text: str) -> np.ndarray:
    """Log-probabilities of frames that say ``text`` letter by letter, a blank between letters;
    at a "|" a blank frame where a space is a close second (the network unsure of a word break)."""
    labels, unsure = [], []
    for char in text:
        if char == "|":
            unsure.append(len(labels) - 1)
            continue
        labels += [ALPHABET.index(char) + 1, 0]
    probs = np.full((len(labels), len(ALPHABET) + 1), 0.05)
    probs[np.arange(len(labels)), labels] = 1.0
    probs[unsure, ALPHABET.index(" ") + 1] = 0.6
    return np.log(probs / probs.sum(axis=1, keepdims=True))


def test_greedy_decoding_gives_words_with_their_frames():
    assert greedy_words(frames_saying("we go")) == [("we", 0, 2), ("go", 6, 8)]


def test_decoded_words_snap_to_likely_known_spellings():
    vocabulary = Vocabulary({"the": 7.7, "river": 4.6, "boat": 4.4, "goat": 3.9, "bat": 4.2})
    assert vocabulary.snap("theriver", frames_saying("the|river")) == "the river"  # a missed space
    assert vocabulary.snap("rivar", frames_saying("rivar")) == "river"  # an unknown word a letter off a known one
    assert vocabulary.snap("boat", frames_saying("boat")) == "boat"  # a clear known word stays
    assert vocabulary.snap("zyxwv", frames_saying("zyxwv")) == "zyxwv"  # nothing close: kept as heard


def test_decoding_rejoins_a_word_the_greedy_path_split_and_keeps_clear_word_breaks():
    vocabulary = Vocabulary({"dinosaur": 3.3, "in": 7.3, "to": 7.4, "into": 6.4, "the": 7.7, "river": 4.6, "or": 6.5})
    # A spurious space in the middle of a known word ("dino saur", as heard for "dinosaur"):
    # rejoined, its time from the first letter of the first piece to the last of the second.
    assert greedy_words(frames_saying("dino saur")) == [("dino", 0, 6), ("saur", 10, 16)]
    assert decode_words(frames_saying("dino saur"), vocabulary) == [("dinosaur", 0, 16)]
    # Beside words that stay apart.
    assert [w for w, _, _ in decode_words(frames_saying("the dino saur or"), vocabulary)] == ["the", "dinosaur", "or"]
    # The opposite: a clear space between two known words that also make a frequent word stays.
    assert decode_words(frames_saying("in to the river"), vocabulary) == [
        ("in", 0, 2),
        ("to", 6, 8),
        ("the", 12, 16),
        ("river", 20, 28),
    ]
    # A missed space inside a piece is still found (two known words), with times split between them.
    assert decode_words(frames_saying("the|river"), vocabulary) == [("the", 0, 4), ("river", 6, 14)]
    # Pieces that make no known word stay as heard.
    assert [w for w, _, _ in decode_words(frames_saying("zyx wvq"), vocabulary)] == ["zyx", "wvq"]


def test_spelling_candidates_are_every_word_within_the_distance_in_order():
    # The search filters on letters before it computes distances: it must find exactly the
    # words a plain edit distance finds, in the order the snap's word splits rely on.
    rng = np.random.default_rng(5)
    letters = list("abcdeor'")
    words = {"".join(rng.choice(letters, int(rng.integers(1, 9)))) for _ in range(400)}
    vocabulary = Vocabulary({word: 3.0 for word in words})
    queries = ["", "a", "road", "'ore", "bead", "decorated", *sorted(words)[:40]]
    for query in queries:
        for reach in (1, 2, 3):
            expected = sorted(
                (w for w in words if word_errors(list(query), list(w)) <= reach), key=lambda w: (len(w), w)
            )
            assert vocabulary.candidates(query, reach) == expected, (query, reach)
    codes = np.array([[ord(c) for c in "kitten"], [ord(c) for c in "sit"] + [0, 0, 0]])
    assert edit_distances("sitting", codes, np.array([6, 3])).tolist() == [3, 4]


def test_the_demo_recognizer_hears_held_out_sentences_at_their_time(tmp_path):
    recognizer = make_speech_recognizer(f"ctc:{DEMO_SPEECH}")
    assert recognizer.recognizer_id == "ctc:demo-speech"
    errors, reference_words, all_heard = 0, 0, []
    for sentence in (SAID, ALSO_SAID):
        speech = pcm_of(speak(tmp_path / "s.wav", sentence))
        pcm = np.concatenate([np.zeros(32000, np.int16), speech, np.zeros(16000, np.int16)])
        heard = transcribe_chunk(recognizer, pcm, "en")
        words = " ".join(s.text for s in heard).split()
        errors += word_errors(sentence.split(), words)
        reference_words += len(sentence.split())
        all_heard.append(words)
        assert 1.8 <= heard[0].start_seconds <= 2.4  # the speech starts 2 s in; times stay the chunk's
        assert heard[-1].end_seconds <= (32000 + len(speech)) / 16000 + 0.3
        assert transcribe_chunk(recognizer, pcm, "zh") == []  # it knows English only
    assert errors <= reference_words * 2 / 7, all_heard  # at most 2 words in 7 wrong


@pytest.fixture(scope="module")
def demo_embedder(tiny_clip_dir):
    server = serve_embedder(
        EmbedderSettings(port=0, model=str(tiny_clip_dir), dtype="float32", speech_recognizer=f"ctc:{DEMO_SPEECH}")
    )
    yield server
    server.stop(0)


def test_a_video_whose_only_clue_is_a_spoken_sentence_is_found_first(tmp_path, demo_embedder):
    searcher = serve_searcher(
        SearcherSettings(
            port=0, data_dir=str(tmp_path / "searcher"), embedder_address=demo_embedder.address, ann="none"
        )
    )
    folder = tmp_path / "videos"
    folder.mkdir()
    try:
        said = speak(tmp_path / "said.wav", SAID)
        # The sentence starts 2 s in: a WAV with 2 s of silence first.
        padded = tmp_path / "padded.wav"
        with wave.open(str(said)) as w:
            rate, frames = w.getframerate(), w.readframes(w.getnframes())
        with wave.open(str(padded), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(bytes(2 * 2 * rate) + frames)
        spoken_end = 2.0 + len(frames) / 2 / rate
        talk = make_video(folder / "talk.mp4", 7, audio=padded, color="0x808080")
        make_video(folder / "other.mp4", 7, audio=speak(tmp_path / "other.wav", OTHER), color="0x828282")
        make_video(folder / "quiet.mp4", 7, silent_audio=True, color="0x848484")
        index_all(folder, demo_embedder, searcher, speech=True)
        hit = first_hit(searcher, SAID)  # what was said, as someone who heard it would type it
        assert hit.open_uri.split("#")[0].endswith(talk.name), hit.open_uri
        assert "said" in hit.matched_kinds
        span = hit.text_matches[0].span
        assert span.start_seconds < spoken_end and span.end_seconds > 2.0, (span.start_seconds, span.end_seconds)
        assert 1.5 <= span.start_seconds <= 3.0
    finally:
        searcher.stop(0)
