"""The demo speech recognizer's cheaper parts give what the plain ones give: the CTC scores on
probabilities against the log-space reference, the spelling search's filters against a plain
edit distance over the whole committed vocabulary, the float32 log-mel features against float64
ones, and the network on onnxruntime against torch (the same words heard)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.indexer_text.talking_videos import speak
from tests.indexer_text.test_speech_recognizers import pcm_of
from videosearch.embedder import speech_ctc
from videosearch.embedder.speech_ctc import (
    ALPHABET,
    HOP,
    WINDOW,
    CtcRecognizer,
    Vocabulary,
    ctc_scores,
    ctc_scores_log,
    decode_words,
    edit_distances,
)

DEMO_SPEECH = Path(__file__).resolve().parents[2] / "models" / "demo-speech"


def random_log_probs(rng: np.random.Generator, frames: int, peak: float) -> np.ndarray:
    logits = rng.normal(size=(frames, len(ALPHABET) + 1)) * peak
    return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)


def test_ctc_scores_on_probabilities_match_the_log_space_recursion():
    rng = np.random.default_rng(3)
    for _ in range(150):
        # Peaky frames (up to 60 nats between classes) and long texts: some scores underflow
        # the probabilities and must come from the log-space fallback.
        log_probs = random_log_probs(rng, int(rng.integers(1, 50)), float(rng.uniform(0.5, 60)))
        texts = ["".join(rng.choice(list("ab e'z"), int(rng.integers(1, 14)))) for _ in range(int(rng.integers(1, 25)))]
        fast, reference = ctc_scores(log_probs, texts), ctc_scores_log(log_probs, texts)
        finite = np.isfinite(reference)
        assert (np.isfinite(fast) == finite).all()
        np.testing.assert_allclose(fast[finite], reference[finite], rtol=1e-9, atol=1e-9)
    with pytest.raises(ValueError):
        ctc_scores(random_log_probs(rng, 5, 1.0), ["caf\u00e9"])


def test_ctc_scores_far_under_the_guard_come_from_the_fallback():
    rng = np.random.default_rng(4)
    log_probs = random_log_probs(rng, 40, 80.0)  # every frame sure of one random class
    texts = ["zzzzzzzzzzzz", "qq"]
    scores = ctc_scores(log_probs, texts)
    assert (scores < speech_ctc.UNDERFLOW_GUARD).all()
    np.testing.assert_allclose(scores, ctc_scores_log(log_probs, texts), rtol=1e-9)


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.read(DEMO_SPEECH / "vocabulary.txt")


def misspelt(rng: np.random.Generator, word: str) -> str:
    letters = list(word)
    for _ in range(int(rng.integers(0, 4))):
        kind, at = int(rng.integers(3)), int(rng.integers(len(letters) + 1))
        if kind == 0 and letters:
            del letters[min(at, len(letters) - 1)]
        elif kind == 1:
            letters.insert(at, ALPHABET[int(rng.integers(1, len(ALPHABET)))])
        elif letters:
            letters[min(at, len(letters) - 1)] = ALPHABET[int(rng.integers(1, len(ALPHABET)))]
    return "".join(letters)


def test_spelling_candidates_on_the_committed_vocabulary_are_every_word_within_reach(vocabulary):
    # Near misses of real words and random letter strings, at every reach the decoder uses:
    # the filters must drop no word a plain edit distance over all 64,843 keeps.
    rng = np.random.default_rng(11)
    words = sorted(vocabulary.words, key=lambda w: (len(w), w))
    codes = np.zeros((len(words), max(map(len, words))), np.int32)
    for row, word in enumerate(words):
        codes[row, : len(word)] = [ord(c) for c in word]
    lengths = np.array([len(w) for w in words])
    queries = [misspelt(rng, words[int(rng.integers(len(words)))]) for _ in range(60)]
    queries += ["".join(rng.choice(list("etaoinshrdlu"), int(rng.integers(1, 12)))) for _ in range(20)]
    for query in queries:
        distances = edit_distances(query, codes, lengths)
        for reach in (1, 2, 3):
            expected = [words[i] for i in np.flatnonzero(distances <= reach)]
            assert vocabulary.candidates(query, reach) == expected, (query, reach)


def test_float32_log_mel_features_match_float64_ones():
    rng = np.random.default_rng(5)
    pcm = (rng.normal(size=16000 * 3) * 3000).astype(np.int16)
    audio = pcm.astype(np.float64) / 32768.0
    frames = 1 + (len(audio) - WINDOW) // HOP
    windowed = audio[np.arange(WINDOW)[None, :] + HOP * np.arange(frames)[:, None]] * np.hanning(WINDOW)
    power = np.abs(np.fft.rfft(windowed, axis=1)) ** 2
    reference = np.log(power @ speech_ctc._mel_filters().T.astype(np.float64) + 1e-6)
    reference -= reference.mean(axis=0, keepdims=True)
    features = speech_ctc.log_mel(pcm)
    assert features.dtype == np.float32 and features.shape == reference.shape
    np.testing.assert_allclose(features, reference, atol=1e-4)
    assert speech_ctc.log_mel(np.zeros(10, np.int16)).shape == (1, speech_ctc.MELS)  # shorter than a window


def test_the_network_on_onnxruntime_hears_what_torch_hears(tmp_path):
    fast = CtcRecognizer(DEMO_SPEECH)
    plain = CtcRecognizer(DEMO_SPEECH, runtime="torch")
    assert (fast.runtime, plain.runtime) == ("onnxruntime", "torch")
    speech = pcm_of(speak(tmp_path / "s.wav", "the museum opens early on sunday morning"))
    for pcm in (speech, speech[:4000], np.zeros(300, np.int16)):
        ours, theirs = fast.log_probs(pcm), plain.log_probs(pcm)
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, atol=1e-3)
    vocabulary = fast._vocabulary
    assert decode_words(fast.log_probs(speech), vocabulary) == decode_words(plain.log_probs(speech), vocabulary)
