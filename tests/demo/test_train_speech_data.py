"""What the demo speech recognizer trains on (videosearch.demo.train_speech, everyday_sentences):
the everyday sentences are drawn deterministically, spell only what the network can emit, and
never include a sentence the WER bench, the spoken probe or the demo measures it on."""

from __future__ import annotations

import numpy as np

from videosearch.demo.everyday_sentences import NOUNS, EverydaySentences
from videosearch.demo.train_speech import EVERYDAY_SHARE, FUNCTION_WORDS, held_out_sentences, sentences
from videosearch.embedder.speech_ctc import ALPHABET

POOL = ["zebra", "quartz", "lantern", "pebble", "meadow"]
COMMON = ["table", "window", "yesterday", "beautiful", "river", "museum", "kitchen"]


def test_everyday_sentences_are_deterministic_and_spell_only_the_alphabet():
    first = sentences(300, POOL, COMMON, np.random.default_rng(7), "everyday")
    assert first == sentences(300, POOL, COMMON, np.random.default_rng(7), "everyday")
    assert first != sentences(300, POOL, COMMON, np.random.default_rng(8), "everyday")
    assert all(set(s) <= set(ALPHABET) and s == " ".join(s.split()) for s in first)
    # About EVERYDAY_SHARE of them come from the grammar (words of its own lists); the rest are
    # word sequences drawn from the word lists as before.
    listed = set(POOL) | set(COMMON) | set(FUNCTION_WORDS)
    grammatical = [s for s in first if not set(s.split()) <= listed]
    assert EVERYDAY_SHARE - 0.12 < len(grammatical) / len(first) < EVERYDAY_SHARE + 0.08
    assert any(w in NOUNS for s in grammatical for w in s.split())
    assert not any(" a a" in f" {s}" or " a an " in f" {s} " for s in first)


def test_the_random_kind_draws_as_before():
    # The first two training runs (--sentences random, the default) must stay reproducible: the
    # everyday option may not change what they draw.
    drawn = sentences(50, POOL, COMMON, np.random.default_rng(0))
    words = {w for s in drawn for w in s.split()}
    assert words <= set(POOL) | set(COMMON) | set(FUNCTION_WORDS)
    assert all(3 <= len(s.split()) <= 12 for s in drawn)


def test_measured_sentences_are_held_out_of_training(monkeypatch):
    held = held_out_sentences()
    assert "we will discuss the quarterly budget at the meeting" in held  # the WER bench's
    assert "the fossil collection is on the second floor" in held  # its development sentences
    assert "could you bring some milk and eggs from the shop tonight" in held  # the spoken probe's
    assert "a small boat sails across the quiet lake" in held  # tests/indexer_text/test_demo_speech.py
    # A sentence the generator happens to make that is one of them is dropped, never trained on.
    said = iter(["could you bring some milk and eggs from the shop tonight", "the dog sleeps"] * 400)
    monkeypatch.setattr(EverydaySentences, "sentence", lambda self: next(said))
    drawn = sentences(40, POOL, COMMON, np.random.default_rng(3), "everyday")
    assert "the dog sleeps" in drawn and not set(drawn) & held


def test_codec_round_trip_keeps_the_speech_band_and_is_lossy():
    # What --codec-share trains on: a clip through each lossy codec comes back at 16 kHz, about as
    # long (a codec adds its priming delay), its speech band kept, yet not the samples that went in.
    from videosearch.demo.train_speech import CODECS, codec_round_trip

    rng = np.random.default_rng(0)
    t = np.arange(16000) / 16000
    clip = (0.3 * np.sin(2 * np.pi * 440 * t) * (1 + np.sin(2 * np.pi * 3 * t)) / 2).astype(np.float32)
    clip += rng.normal(0, 0.01, len(clip)).astype(np.float32)
    for codec in CODECS:
        back = codec_round_trip(clip, codec, 64, 44100)
        assert back.dtype == np.float32 and 16000 <= len(back) < 16000 + 2400, codec
        # Aligned on the codec's delay, the tone is there; the noise floor is not kept sample for sample.
        lag = int(np.argmax(np.correlate(back[:4000], clip[:2000], mode="valid")))
        same = back[lag : lag + 15000]
        assert np.corrcoef(same, clip[:15000])[0, 1] > 0.95, codec
        assert not np.allclose(same, clip[:15000], atol=1e-3), codec
