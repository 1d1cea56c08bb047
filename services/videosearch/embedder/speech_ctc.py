"""The demo speech recognizer: a small CTC model the project trains on espeak-ng speech
(``python -m videosearch.demo.train_speech``, committed under models/demo-speech), like the
demo CLIP. Spec ``ctc:<directory>`` in :func:`videosearch.embedder.speech.make_speech_recognizer`.

Audio -> 64 log-mel bands every 10 ms -> two 1-D convolutions (the second strides 3 in time:
30 ms frames) -> a 2-layer bidirectional GRU -> a softmax over ``ALPHABET`` plus the CTC blank.
Decoding starts greedy (best class per frame, repeats merged, blanks dropped); each character
keeps the frame it was emitted at, so words come out with their times. The greedy spaces are then
only a first guess at word boundaries: :func:`decode_words` regroups the decoded pieces (up to
MAX_JOIN of them run together: "dines or" -> "dinosaur") and respells each group as the likeliest of
itself, the vocabulary words (``vocabulary.txt``, with word frequencies) within a small edit
distance and, for an unknown word, two known words run together ("theriver" -> "the river"):
likeliest by the network's own CTC score over the group's frames plus a weighted word prior, the
grouping with the best total chosen by a small dynamic programme. Spellings so stay consistent for
the lexical index ("meting" -> "meeting"). No weights were retrained for this.

Cost (bench/index/speech_path.py, a minute of text_cost's speech, CPU s of the worker on a shared
machine): 0.50-0.58 on a fresh worker and 0.31-0.36 with its caches warm before, 0.28-0.36 and
0.15-0.23 now, the same words heard: the network on onnxruntime (:func:`onnx_session`), the CTC
scores on rescaled probabilities (:func:`ctc_scores`), float32 log-mel features, a cheaper first
filter of the spelling search (letter counts and letter pairs as bits) and the word priors computed once.

Knows English spoken by espeak-ng only: it never heard a human.
"""

from __future__ import annotations

import json
import logging
import math
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
ALPHABET = " abcdefghijklmnopqrstuvwxyz'"
"""Class 0 is the CTC blank; class i (1-based) is ALPHABET[i - 1]."""
MELS = 64
WINDOW = 400  # 25 ms
HOP = 160  # 10 ms
STRIDE = 3
"""Output frames are STRIDE hops long (30 ms)."""
FRAME_SECONDS = HOP * STRIDE / SAMPLE_RATE
PRIOR_WEIGHT = 0.8
"""Weight of the word prior (unigram log-probability) against the network's CTC score."""
WORD_BONUS = 2.0
"""Added (nats) per word of a spelling: with the prior alone fewer, longer words win too often
("on the" -> "other"). Tuned on development sentences, never on the WER bench's."""
MAX_JOIN = 2
"""Most consecutive greedy pieces one word may be re-joined from ("dines or" -> "dinosaur"):
three measured no better on the development sentences and cost more."""


def unknown_word_reach(length: int) -> int:
    """Edit distance searched around an unknown decoded word (a known one: 1, or 2 from 6 letters)."""
    return 1 if length < 4 else 2 if length < 7 else 3


KEEP_MARGIN = 6.0
"""An unknown word stays as heard when every respelling scores this much (nats) worse on its frames."""
CACHED_WORDS = 50_000
"""Decoded words (and pieces of them) whose near vocabulary words are remembered, at most."""
RARE_ZIPF = 1.0
"""Zipf frequency given to known words rarer than that (once per 100 million words)."""
UNKNOWN_ZIPF = -1.0
"""Zipf frequency of a word not in the vocabulary: what the network heard may be no English word."""
_UNKNOWN_PRIOR = (UNKNOWN_ZIPF - 9.0) * math.log(10)


@lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    """(MELS, WINDOW // 2 + 1) triangular filters from 60 Hz to 7.6 kHz on the HTK mel scale."""

    def mel(hz):
        return 2595.0 * np.log10(1.0 + hz / 700.0)

    def hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1.0)

    bins = np.linspace(0, SAMPLE_RATE / 2, WINDOW // 2 + 1)
    edges = hz(np.linspace(mel(60.0), mel(7600.0), MELS + 2))
    filters = np.zeros((MELS, len(bins)), np.float32)
    for i in range(MELS):
        left, centre, right = edges[i], edges[i + 1], edges[i + 2]
        filters[i] = np.clip(np.minimum((bins - left) / (centre - left), (right - bins) / (right - centre)), 0, None)
    return filters


def log_mel(pcm: np.ndarray) -> np.ndarray:
    """(frames, MELS) float32 log-mel energies of int16 (or float in [-1, 1]) mono 16 kHz audio,
    each band's mean over the clip removed (so loudness and channel colour do not matter).
    In float32 throughout, the frames a strided view of the audio (no copy): the same features
    as float64 to 2e-6, in two thirds of the time."""
    audio = np.asarray(pcm)
    audio = audio.astype(np.float32) / 32768.0 if np.issubdtype(audio.dtype, np.integer) else audio.astype(np.float32)
    if len(audio) < WINDOW:
        audio = np.pad(audio, (0, WINDOW - len(audio)))
    frames = np.lib.stride_tricks.sliding_window_view(audio, WINDOW)[::HOP]
    spectrum = np.fft.rfft(frames * np.hanning(WINDOW).astype(np.float32), axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    features = np.log(power @ _mel_filters().T + np.float32(1e-6))
    return features - features.mean(axis=0, keepdims=True)


def build_model(config: dict):
    """The network (a torch Module) that ``config`` (config.json) describes."""
    import torch
    from torch import nn

    class CtcSpeechModel(nn.Module):
        def __init__(self, mels: int, channels: int, hidden: int, layers: int, classes: int) -> None:
            super().__init__()
            self.front = nn.Sequential(
                nn.Conv1d(mels, channels, 5, padding=2),
                nn.GELU(),
                nn.Conv1d(channels, channels, 5, stride=STRIDE, padding=2),
                nn.GELU(),
            )
            self.rnn = nn.GRU(channels, hidden, num_layers=layers, batch_first=True, bidirectional=True)
            self.head = nn.Linear(2 * hidden, classes)

        def forward(self, features: torch.Tensor) -> torch.Tensor:
            """(batch, frames, MELS) -> (batch, frames // STRIDE (rounded up), classes) log-probabilities."""
            x = self.front(features.transpose(1, 2)).transpose(1, 2)
            x, _ = self.rnn(x)
            return self.head(x).log_softmax(-1)

    return CtcSpeechModel(config["mels"], config["channels"], config["hidden"], config["layers"], len(ALPHABET) + 1)


def output_frames(input_frames: int) -> int:
    return (input_frames - 1) // STRIDE + 1


def greedy_words(log_probs: np.ndarray) -> list[tuple[str, int, int]]:
    """Words of the best path of (frames, classes) log-probabilities: (word, first frame, last frame)."""
    return [(word, frames[0], frames[-1]) for word, frames in greedy_pieces(log_probs)]


def greedy_pieces(log_probs: np.ndarray) -> list[tuple[str, list[int]]]:
    """Words of the best path with the frame each of their letters was emitted at."""
    best = log_probs.argmax(axis=1)
    pieces: list[tuple[str, list[int]]] = []
    letters: list[str] = []
    frames: list[int] = []
    previous = 0
    for frame, label in enumerate(best.tolist()):
        if label != previous and label != 0:
            char = ALPHABET[label - 1]
            if char == " ":
                if letters:
                    pieces.append(("".join(letters), frames))
                letters, frames = [], []
            else:
                letters.append(char)
                frames.append(frame)
        previous = label
    if letters:
        pieces.append(("".join(letters), frames))
    return pieces


def decode_words(log_probs: np.ndarray, vocabulary: Vocabulary) -> list[tuple[str, int, int]]:
    """The words of (frames, classes) log-probabilities: (word, first frame, last frame).

    The greedy decode's spaces are a first guess at the word boundaries; this re-segments. The
    frames are cut between consecutive greedy pieces (halfway through the gap between them), so
    every way of grouping the pieces covers each frame exactly once and their scores compare: a
    group of up to MAX_JOIN consecutive pieces is read as one spelling (:meth:`Vocabulary.best_spelling`
    of the pieces run together; a single piece may also become two known words), scored by the CTC
    log-probability of that spelling over the group's frames plus the weighted word prior. On a
    group's outer gap frames a space is as good as a blank (a word boundary belongs there); inside
    a joined group the space the network heard must be explained as a blank, which is the evidence
    against joining. A small dynamic programme picks the grouping with the highest total
    ("dines or" -> "dinosaur" when the frames say so). Times come from the letters' frames."""
    pieces = greedy_pieces(log_probs)
    if not pieces:
        return []
    count = len(pieces)
    cuts = [max(0, pieces[0][1][0] - 2)]
    cuts += [(pieces[k - 1][1][-1] + 1 + pieces[k][1][0]) // 2 for k in range(1, count)]
    cuts.append(min(len(log_probs), pieces[-1][1][-1] + 3))
    space = ALPHABET.index(" ") + 1
    edge = log_probs.copy()
    edge[:, 0] = np.logaddexp(log_probs[:, 0], log_probs[:, space])
    best = [0.0] + [-math.inf] * count
    choice: list[tuple[int, str]] = [(0, "")] * (count + 1)
    for end in range(1, count + 1):
        for start in range(max(0, end - MAX_JOIN), end):
            if best[start] == -math.inf:
                continue
            text = "".join(piece for piece, _ in pieces[start:end])
            a, b = cuts[start], cuts[end]
            first, last = pieces[start][1][0], pieces[end - 1][1][-1]
            span = np.concatenate([edge[a:first], log_probs[first : last + 1], edge[last + 1 : b]])
            spelling, score = vocabulary.best_spelling(text, span, joined=end - start > 1)
            if best[start] + score > best[end]:
                best[end], choice[end] = best[start] + score, (start, spelling)
    words: list[tuple[str, int, int]] = []
    end = count
    while end > 0:
        start, spelling = choice[end]
        frames = [frame for _, piece_frames in pieces[start:end] for frame in piece_frames]
        parts = spelling.split()
        if len(parts) == 1:
            words.append((spelling, frames[0], frames[-1]))
        else:  # two words: split the letters' frames in proportion to the spellings' lengths
            at = min(len(frames) - 1, max(1, round(len(frames) * len(parts[0]) / (len(parts[0]) + len(parts[1])))))
            words += [(parts[1], frames[at], frames[-1]), (parts[0], frames[0], frames[at - 1])]
        end = start
    return words[::-1]


def ctc_scores(log_probs: np.ndarray, texts: list[str]) -> np.ndarray:
    """log P(text | frames) under CTC (blank = class 0) of each of ``texts`` for a slice of
    (frames, classes) log-probabilities: all texts at once, one array step per frame.

    The forward recursion runs on probabilities, not their logarithms (no logaddexp: 2x faster
    a frame), rescaled by the largest after every frame, the scales' logarithms summed. What
    underflows to zero there is under e^-709 of a probability of at most 1, so any text scoring
    above UNDERFLOW_GUARD is exact to rounding; the others are scored again in log space
    (:func:`ctc_scores_log`)."""
    labels, skip, ends = _ctc_labels(texts)
    emit = np.exp(log_probs.astype(np.float64))[:, labels]  # (frames, texts, states)
    rows, states = labels.shape
    alpha = np.zeros((rows, states + 2))  # two columns of zeros ahead: the shifted views below
    alpha[:, 2:4] = emit[0, :, :2]
    now, step, jump = alpha[:, 2:], alpha[:, 1:-1], alpha[:, :-2]
    scales = []
    for t in range(1, len(log_probs)):
        updated = (now + step + jump * skip) * emit[t]
        largest = updated.max()
        if largest > 0:
            updated *= 1.0 / largest
            scales.append(largest)
        now[:] = updated
    index = np.arange(rows)
    with np.errstate(divide="ignore"):
        scores = np.log(now[index, ends] + now[index, ends - 1]) + float(np.log(scales).sum() if scales else 0.0)
    low = np.flatnonzero(~(scores > UNDERFLOW_GUARD))
    if len(low):
        scores[low] = ctc_scores_log(log_probs, [texts[i] for i in low.tolist()])
    return scores


_CLASS_OF = np.full(256, -1, np.int64)
_CLASS_OF[[ord(c) for c in ALPHABET]] = np.arange(1, len(ALPHABET) + 1)
"""The CTC class of each character code (-1: not in ALPHABET)."""
UNDERFLOW_GUARD = -600.0
"""A text ctc_scores finds less likely than this (nats) is scored again in log space."""


def _ctc_labels(texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each text's CTC states (blank-letter-blank-...; padding stays blank), where a state may
    be reached by skipping the blank before it (1.0, else 0.0), and each text's last state."""
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    labels = np.zeros((len(texts), 2 * int(lengths.max()) + 1), np.int64)
    rows = np.repeat(np.arange(len(texts)), lengths)
    within = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    classes = _CLASS_OF[np.frombuffer("".join(texts).encode("latin-1"), np.uint8)]
    if (classes < 0).any():
        raise ValueError(f"a spelling outside the alphabet {ALPHABET!r}: {texts}")
    labels[rows, 1 + 2 * within] = classes
    skip = np.zeros(labels.shape)
    skip[:, 2:] = (labels[:, 2:] != 0) & (labels[:, 2:] != labels[:, :-2])
    return labels, skip, 2 * lengths


def ctc_scores_log(log_probs: np.ndarray, texts: list[str]) -> np.ndarray:
    """:func:`ctc_scores` in log space throughout (the reference, and the fallback for texts far
    too unlikely for the probabilities to hold)."""
    labels, skip_mask, ends = _ctc_labels(texts)
    skip = skip_mask > 0
    alpha = np.full(labels.shape, -np.inf)
    alpha[:, :2] = log_probs[0][labels[:, :2]]
    for t in range(1, len(log_probs)):
        step = np.concatenate([np.full((len(texts), 1), -np.inf), alpha[:, :-1]], axis=1)
        jump = np.concatenate([np.full((len(texts), 2), -np.inf), alpha[:, :-2]], axis=1)
        alpha = np.logaddexp(np.logaddexp(alpha, step), np.where(skip, jump, -np.inf)) + log_probs[t][labels]
    index = np.arange(len(texts))
    return np.logaddexp(alpha[index, ends], alpha[index, ends - 1])


class Vocabulary:
    """The words decoded words snap to, with their Zipf frequencies (see the module doc)."""

    def __init__(self, zipf: dict[str, float]) -> None:
        self.words = set(zipf)
        self._zipf = zipf
        self._parts: dict[str, list[str]] = {}
        self._near: dict[tuple[str, int], list[str]] = {}
        # Each word's log prior, once (a spelling search scores about 40 spellings).
        self._word_prior = {word: (max(z, RARE_ZIPF) - 9.0) * math.log(10) for word, z in zipf.items()}
        # Every word ordered by length, then spelling (the order candidates come out in), with what
        # the search below filters on: letters present (a bit each), letter counts, and the
        # letters themselves as codes for the edit distance, padded with 0.
        self._ordered = sorted(self.words, key=lambda w: (len(w), w))
        self._lengths = np.array([len(w) for w in self._ordered], np.int64)
        self._counts = (
            np.stack([_letter_counts(w) for w in self._ordered]) if self._ordered else np.zeros((0, 27), np.int16)
        )
        self._once, self._twice = _letter_bits(self._counts)
        self._pairs = np.array([_pair_bits(w) for w in self._ordered], np.uint64)
        self._codes = np.zeros((len(self._ordered), int(self._lengths.max(initial=0))), np.int32)
        for row, word in enumerate(self._ordered):
            self._codes[row, : len(word)] = [ord(c) for c in word]

    @classmethod
    def read(cls, path: Path) -> Vocabulary:
        """vocabulary.txt: a word a line, with its Zipf frequency after a tab (or none: unknown)."""
        zipf: dict[str, float] = {}
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                word, _, frequency = line.partition("\t")
                if word:
                    zipf[word] = float(frequency or 0.0)
        return cls(zipf)

    def log_prior(self, text: str) -> float:
        """Natural log of the words' unigram probability (Zipf z: 10**(z - 9) per word)."""
        prior = self._word_prior.get(text)
        if prior is None:
            prior = sum(self._word_prior.get(word, _UNKNOWN_PRIOR) for word in text.split())
        return prior

    def candidates(self, word: str, max_distance: int) -> list[str]:
        """The vocabulary words within ``max_distance`` edits (Levenshtein) of ``word``, by length
        then spelling. Two cheap lower bounds of the distance leave few words to check exactly:
        an edit changes which letters occur for at most two letters, and takes away at most one
        letter and adds at most one (letter counts); the survivors' distances are computed
        together (edit_distances). Remembered: the same words recur from utterance to utterance."""
        found = self._near.get((word, max_distance))
        if found is None:
            if len(self._near) >= CACHED_WORDS:  # a worker runs for days: keep the cache bounded
                self._near.clear()
            found = self._near[word, max_distance] = self._find_candidates(word, max_distance)
        return found

    def _find_candidates(self, word: str, max_distance: int) -> list[str]:
        lo = int(np.searchsorted(self._lengths, len(word) - max_distance, "left"))
        hi = int(np.searchsorted(self._lengths, len(word) + max_distance, "right"))
        counts = _letter_counts(word)
        once, twice = _letter_bits(counts)
        # The letter counts capped at 2, compared a bit a letter (present; present twice): a lower
        # bound of the exact count difference below, for the whole length window in three cheap
        # array operations; the exact one then runs on the few left (reach 3: 35% of a lookup saved).
        capped = np.bitwise_count(self._once[lo:hi] ^ once) + np.bitwise_count(self._twice[lo:hi] ^ twice)
        close = capped + np.abs(self._lengths[lo:hi] - len(word)) <= 2 * max_distance
        # Letter pairs (with the word's ends), hashed to 64 bits: an edit adds or removes at most 4
        # pairs, and a bit differs only where a pair does, so more than 4 per edit rules a word
        # out (half of those left at reach 3 go).
        close &= np.bitwise_count(self._pairs[lo:hi] ^ np.uint64(_pair_bits(word))) <= 4 * max_distance
        near = lo + np.flatnonzero(close)
        diff = self._counts[near] - counts
        # max(letters added, letters taken away) = (sum |diff| + |length difference|) / 2
        changed = np.abs(diff).sum(axis=1) + np.abs(self._lengths[near] - len(word))
        near = near[changed <= 2 * max_distance]
        if not len(near):
            return []
        lengths = self._lengths[near]
        distances = edit_distances(word, self._codes[near, : int(lengths.max())], lengths)
        return [self._ordered[i] for i in near[distances <= max_distance].tolist()]

    def snap(self, word: str, log_probs: np.ndarray) -> str:
        """The likeliest spelling of a decoded ``word`` (``log_probs``: its frames): of itself, the
        vocabulary words close to it and, for an unknown word, two known words run together
        ("theriver" -> "the river"), the one whose CTC score plus word prior is highest."""
        return self.best_spelling(word, log_probs)[0]

    def best_spelling(self, word: str, log_probs: np.ndarray, joined: bool = False) -> tuple[str, float]:
        """:meth:`snap`'s choice and its score (CTC log-probability on the frames plus the weighted
        prior). ``joined``: ``word`` is several decoded pieces run together, so it is never kept
        as heard unless it is a known word, known words near it are searched as for an unknown
        word, and it is not split in two again (measured no better on the development sentences,
        and slower)."""
        known = word in self.words
        if joined:
            reach = unknown_word_reach(len(word))
        else:
            reach = (1 if len(word) < 6 else 2) if known else unknown_word_reach(len(word))
        options = set(self.candidates(word, reach))
        if known or not joined:
            options.add(word)
        if not known and not joined:
            for cut in range(1, len(word)):
                firsts, seconds = self._part(word[:cut]), self._part(word[cut:])
                options.update(f"{a} {b}" for a in firsts[:8] for b in seconds[:8])
        if not options:
            return word, -math.inf
        texts = sorted(options)
        heard = ctc_scores(log_probs, texts)
        scores = heard + np.array([PRIOR_WEIGHT * self.log_prior(t) + WORD_BONUS * (t.count(" ") + 1) for t in texts])
        best = int(np.argmax(scores))
        # An unknown word stays as heard when no known word fits the frames nearly as well (a name, a new word).
        if not known and not joined and heard[best] < heard[texts.index(word)] - KEEP_MARGIN:
            best = texts.index(word)
        return texts[best], float(scores[best])

    def _part(self, piece: str) -> list[str]:
        """Known words a piece of a run-together word may be: itself, or (3 letters or more) the
        words a letter off it, likeliest first."""
        found = self._parts.get(piece)
        if found is None:
            if len(self._parts) >= CACHED_WORDS:  # a worker runs for days: keep the cache bounded
                self._parts.clear()
            found = self._parts[piece] = self._find_part(piece)
        return found

    def _find_part(self, piece: str) -> list[str]:
        if piece in self.words and (len(piece) > 1 or piece in ("a", "i")):
            return [piece]
        if len(piece) < 3:
            return []
        return sorted(self.candidates(piece, 1), key=lambda w: -self._zipf[w])  # the likeliest first


def _pair_bits(word: str) -> int:
    """The word's consecutive letter pairs, its ends included ("^a", "z$"), a bit each of 64 (hashed)."""
    padded = "^" + word + "$"
    bits = 0
    for first, second in zip(padded, padded[1:], strict=False):
        bits |= 1 << ((ord(first) * 31 + ord(second) * 7) % 64)
    return bits


def _letter_bits(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Letters present, and present twice or more, a bit each (uint32) of letter counts (27,) or (n, 27)."""
    bits = np.uint32(1) << np.arange(27, dtype=np.uint32)
    return (counts > 0).astype(np.uint32) @ bits, (counts > 1).astype(np.uint32) @ bits


def _letter_counts(word: str) -> np.ndarray:
    """(27,) int16: how often each of a-z occurs in ``word``, and any other character (the last)."""
    codes = np.frombuffer(word.encode("latin-1", errors="replace"), np.uint8)
    return np.bincount(_LETTER_SLOT[codes], minlength=27).astype(np.int16)


_LETTER_SLOT = np.full(256, 26, np.int64)
_LETTER_SLOT[ord("a") : ord("z") + 1] = np.arange(26)


def edit_distances(word: str, codes: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Levenshtein distance of ``word`` to each of many words at once: ``codes`` (n, columns)
    their letters as ord() codes, 0-padded, ``lengths`` (n,) theirs. The dynamic programme goes
    a row (a letter of ``word``) at a time for all words together; within a row, the insertion
    chain (a cell from its left neighbour) is a running minimum of row[k] - k, plus j."""
    n, columns = codes.shape
    steps = np.arange(columns + 1, dtype=np.int32)
    row = np.broadcast_to(steps, (n, columns + 1)).copy()
    best = np.empty_like(row)
    for i, char in enumerate(word, 1):
        best[:, 0] = i
        np.minimum(row[:, 1:] + 1, row[:, :-1] + (codes != ord(char)), out=best[:, 1:])
        row = np.minimum.accumulate(best - steps, axis=1) + steps
    return row[np.arange(n), lengths]


def onnx_session(model, threads: int):
    """An onnxruntime session running ``model`` (exported in memory), or None (logged) when
    onnxruntime or onnx (the exporter needs it) is missing or the export fails."""
    import io

    try:
        import onnxruntime
        import torch

        exported = io.BytesIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the exporter's notes on GRUs and batch sizes
            torch.onnx.export(
                model,
                (torch.zeros(1, 2 * STRIDE, MELS),),
                exported,
                input_names=["features"],
                output_names=["log_probs"],
                dynamic_axes={"features": {1: "frames"}, "log_probs": {1: "frames"}},
                dynamo=False,
                opset_version=17,
            )
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        return onnxruntime.InferenceSession(exported.getvalue(), options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # noqa: BLE001 -- any failure here costs speed, never recognition
        log.info("the demo speech network runs on torch (onnxruntime unavailable: %s)", exc)
        return None


class CtcRecognizer:
    """The committed demo recognizer (models/demo-speech): English only.

    The network runs on onnxruntime when it can (the torch module exported to ONNX in memory
    at load, about a second once): its GRU steps cost a third of torch's on one thread (26 s of
    audio: 0.021 against 0.061 CPU s), log-probabilities within 2e-5 of torch's and the same
    transcripts on the WER bench's sentences. Without onnxruntime or onnx it runs on torch."""

    def __init__(self, directory: str | Path, threads: int = 1, runtime: str = "auto") -> None:
        import torch
        from safetensors.torch import load_file

        directory = Path(directory)
        if not (directory / "model.safetensors").exists():
            raise OSError(
                f"no speech model in {directory} (model.safetensors missing); train one with `make demo-speech-model`"
            )
        self._config = json.loads((directory / "config.json").read_text())
        self.recognizer_id = f"ctc:{directory.name}"
        self._torch = torch
        self._threads = threads
        self._model = build_model(self._config)
        state = {k: v.float() for k, v in load_file(str(directory / "model.safetensors")).items()}
        self._model.load_state_dict(state)
        self._model.eval()
        self._session = onnx_session(self._model, threads) if runtime == "auto" else None
        self.runtime = "onnxruntime" if self._session is not None else "torch"
        self._vocabulary = Vocabulary.read(directory / "vocabulary.txt")

    def log_probs(self, pcm: np.ndarray) -> np.ndarray:
        """(frames, classes) log-probabilities, one frame every FRAME_SECONDS."""
        features = log_mel(pcm)[None]
        if self._session is not None:
            return self._session.run(None, {"features": features})[0][0]
        torch = self._torch
        threads = torch.get_num_threads()
        torch.set_num_threads(self._threads)  # its own count, not the process's (in process: tests, the bench)
        try:
            with torch.inference_mode():
                return self._model(torch.from_numpy(features))[0].numpy()
        finally:
            torch.set_num_threads(threads)

    def words(self, pcm: np.ndarray) -> list[tuple[str, float, float]]:
        """(word, start seconds, end seconds) of English speech in ``pcm``."""
        log_probs = self.log_probs(pcm)
        return [
            (word, first * FRAME_SECONDS, (last + 1) * FRAME_SECONDS)
            for word, first, last in decode_words(log_probs, self._vocabulary)
        ]

    def transcribe(self, pcm: np.ndarray, language: str = ""):
        from videosearch.embedder.speech import phrases

        if language and not language.lower().startswith("en"):
            return []
        return phrases(self.words(pcm), "en")
