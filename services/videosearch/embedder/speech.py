"""Speech recognition hosted beside the image model: 16 kHz mono PCM in, timed phrases out.

``SpeechRecognizer`` is the interface; ``make_speech_recognizer`` the one factory, by spec:

* ``pocketsphinx``: CMU PocketSphinx with the US English acoustic and language models its
  PyPI package ships (offline, CPU, word timestamps). Weak on synthetic speech (its word
  error rate on the demo's espeak-ng sentences is in docs/performance.md) but it needs nothing
  downloaded, so the demo and CI can hear.
* ``whisper:<id or directory>``: any Hugging Face Whisper through transformers
  (``whisper:openai/whisper-small``), with segment timestamps and language detection; on the
  Embedder's device. Hub ids download at start-up like CLIP ids do.
* ``ctc:<directory>``: the demo recognizer the project trains on espeak-ng speech
  (``ctc:models/demo-speech``, videosearch.embedder.speech_ctc): small, fast on CPU, English
  from espeak-ng voices only. A relative directory is looked up from the working directory,
  then from the repository.
* ``none``: no recognizer; TranscribeAudio answers FAILED_PRECONDITION.

``SpeechHost`` runs one recognizer in a worker process of its own, one request at a time, so
audio never waits behind image batches and image batches never wait behind audio (nor behind
the recognizer's hold on the GIL); waiting audio is bounded in seconds (RESOURCE_EXHAUSTED past it).
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from videosearch.common.errors import FailedPrecondition, InvalidArgument, ResourceExhausted, Unavailable
from videosearch.embedder.speech_gate import SILENCE_RMS, voiced_stretches

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
MAX_REQUEST_SECONDS = 120.0
"""Longest audio one TranscribeAudio request may carry (the Indexer sends about 30 s)."""
DEFAULT_MAX_QUEUED_SECONDS = 1800.0
PHRASE_PAUSE_SECONDS = 0.6
"""A pause this long between two recognized words starts a new phrase."""
PHRASE_MAX_SECONDS = 8.0
REPO_ROOT = Path(__file__).resolve().parents[3]


def rms(pcm: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(pcm.astype(np.float32))))) if len(pcm) else 0.0


@dataclass(frozen=True)
class SpeechSegment:
    """A recognized phrase: seconds from the start of the audio sent, its words, its language."""

    start_seconds: float
    end_seconds: float
    text: str
    language: str = ""


class SpeechRecognizer(Protocol):
    recognizer_id: str

    def transcribe(self, pcm: np.ndarray, language: str = "") -> list[SpeechSegment]:
        """``pcm``: int16 mono at SAMPLE_RATE. ``language``: a BCP-47 hint, "" for the default."""
        ...


def phrases(words: list[tuple[str, float, float]], language: str) -> list[SpeechSegment]:
    """Timed words grouped into phrases: a new one after a pause or once one runs long."""
    out: list[SpeechSegment] = []
    current: list[tuple[str, float, float]] = []
    for word in words:
        if current and (
            word[1] - current[-1][2] >= PHRASE_PAUSE_SECONDS or word[2] - current[0][1] > PHRASE_MAX_SECONDS
        ):
            out.append(SpeechSegment(current[0][1], current[-1][2], " ".join(w for w, _, _ in current), language))
            current = []
        current.append(word)
    if current:
        out.append(SpeechSegment(current[0][1], current[-1][2], " ".join(w for w, _, _ in current), language))
    return out


class PocketsphinxRecognizer:
    """PocketSphinx's shipped US English models (see the module doc)."""

    recognizer_id = "pocketsphinx-en-us"
    # Its default search, not the "fast" one (ds 2, topn 2, ...): on the sentences of
    # bench/quality/speech_wer.py the fast search ran 5x faster but missed words the default
    # search hears (WER 0.87 against 0.85, "quarterly" lost in the tests' sentence).
    _FILLERS = {"<s>", "</s>", "<sil>", "[NOISE]", "[SPEECH]", "[BREATH]", "[COUGH]", "[UH]", "[UM]", "[SMACK]"}

    def __init__(self) -> None:
        from pocketsphinx import Decoder

        self._decoder = Decoder(samprate=SAMPLE_RATE, loglevel="ERROR")
        self._frame_rate = int(self._decoder.config["frate"])

    def transcribe(self, pcm: np.ndarray, language: str = "") -> list[SpeechSegment]:
        if language and not language.lower().startswith("en"):
            return []  # its only model is English: Mandarin read as English words would be noise
        decoder = self._decoder
        decoder.start_utt()
        decoder.process_raw(np.ascontiguousarray(pcm, dtype=np.int16).tobytes(), full_utt=True)
        decoder.end_utt()
        words = []
        for segment in decoder.seg():
            word = segment.word.split("(")[0]  # alternate pronunciations are named "word(2)"
            if word in self._FILLERS or word.startswith("["):
                continue
            start, end = segment.start_frame / self._frame_rate, (segment.end_frame + 1) / self._frame_rate
            if rms(pcm[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]) < SILENCE_RMS:
                continue
            words.append((word, start, end))
        return phrases(words, "en")


class WhisperRecognizer:
    """A Hugging Face Whisper through transformers: segment timestamps, language detection."""

    def __init__(self, model_id: str, device: str = "cpu") -> None:
        import torch
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        self.recognizer_id = f"whisper:{model_id}"
        self._torch = torch
        self._processor = WhisperProcessor.from_pretrained(model_id)
        self._model = WhisperForConditionalGeneration.from_pretrained(model_id).to(device).eval()
        self._device = device

    def transcribe(self, pcm: np.ndarray, language: str = "") -> list[SpeechSegment]:
        audio = np.asarray(pcm, dtype=np.float32) / 32768.0
        features = self._processor.feature_extractor(
            audio, sampling_rate=SAMPLE_RATE, return_tensors="pt"
        ).input_features
        generate = {"return_timestamps": True, "task": "transcribe"}
        if language:
            generate["language"] = language.split("-")[0]
        with self._torch.inference_mode():
            tokens = self._model.generate(features.to(self._device), **generate)
        decoded = self._processor.tokenizer.decode(tokens[0], output_offsets=True, skip_special_tokens=False)
        detected = language or self._language(tokens[0])
        duration = len(audio) / SAMPLE_RATE
        segments = []
        for offset in decoded.get("offsets", []):
            text = self._processor.tokenizer.decode(
                self._processor.tokenizer.encode(offset["text"], add_special_tokens=False), skip_special_tokens=True
            ).strip()
            start, end = offset["timestamp"]
            if text:
                start = min(float(start or 0.0), duration)
                end = min(float(end if end is not None else duration), duration)
                segments.append(SpeechSegment(start, max(start, end), text, detected))
        if not segments:  # a model that gave no timestamps: the whole chunk is one segment
            text = self._processor.tokenizer.decode(tokens[0], skip_special_tokens=True).strip()
            if text:
                segments.append(SpeechSegment(0.0, duration, text, detected))
        return segments

    def _language(self, tokens) -> str:
        """The language token Whisper chose ("<|zh|>" -> "zh"), "" when it chose none."""
        tokenizer = self._processor.tokenizer
        for token in tokenizer.convert_ids_to_tokens(tokens[:4].tolist()):
            if (
                token
                and token.startswith("<|")
                and token.endswith("|>")
                and 2 <= len(token) - 4 <= 3
                and token[2:-2].isalpha()
            ):
                return token[2:-2]
        return ""


SPECS = "pocketsphinx, whisper:<Hugging Face id or directory>, ctc:<directory> (e.g. ctc:models/demo-speech), or none"
_PREFIXES = ("whisper:", "ctc:")


def make_speech_recognizer(spec: str, device: str = "cpu") -> SpeechRecognizer | None:
    """The recognizer ``spec`` names (see the module doc); None for ``none``."""
    spec = spec.strip()
    if spec in ("", "none"):
        return None
    if spec == "pocketsphinx":
        return PocketsphinxRecognizer()
    if spec.startswith("whisper:") and len(spec) > len("whisper:"):
        return WhisperRecognizer(spec[len("whisper:") :], device=device)
    if spec.startswith("ctc:") and len(spec) > len("ctc:"):
        from videosearch.embedder.speech_ctc import CtcRecognizer

        return CtcRecognizer(model_directory(spec[len("ctc:") :]))
    raise InvalidArgument(f"unknown speech recognizer {spec!r}; use {SPECS}")


def check_spec(spec: str) -> str:
    """``spec`` when it names a recognizer make_speech_recognizer knows (nothing is loaded)."""
    spec = spec.strip()
    if spec in ("", "none", "pocketsphinx") or any(spec.startswith(p) and len(spec) > len(p) for p in _PREFIXES):
        return spec
    raise InvalidArgument(f"unknown speech recognizer {spec!r}; use {SPECS}")


def model_directory(name: str) -> Path:
    """A recognizer's directory: as given when it exists, else relative to the repository."""
    path = Path(name)
    return path if path.is_absolute() or path.exists() else REPO_ROOT / path


def transcribe_chunk(recognizer: SpeechRecognizer, pcm: np.ndarray, language: str) -> list[SpeechSegment]:
    """What ``recognizer`` hears in the voiced stretches of ``pcm`` (speech_gate), each heard
    on its own; times stay seconds from the start of ``pcm``."""
    segments = []
    for start, end in voiced_stretches(pcm):
        offset = start / SAMPLE_RATE
        for segment in recognizer.transcribe(pcm[start:end], language):
            segments.append(
                SpeechSegment(
                    segment.start_seconds + offset, segment.end_seconds + offset, segment.text, segment.language
                )
            )
    return segments


class SpeechHost:
    """One recognizer in a worker process of its own (videosearch.embedder.speech_worker),
    started on first use, one request at a time (see the module doc). A process, not a thread:
    PocketSphinx holds the GIL through a whole chunk (measured: 11 s for 22 s of audio), which
    stalled the Embedder's event loop and image batches until EmbedImages calls ran out of time."""

    def __init__(self, spec: str, device: str = "cpu", max_queued_seconds: float = DEFAULT_MAX_QUEUED_SECONDS) -> None:
        self.spec = check_spec(spec)
        self._device = device
        self._lock = threading.Lock()
        self._queued_seconds = 0.0
        self._max_queued = max_queued_seconds
        self._caller = ThreadPoolExecutor(max_workers=1, thread_name_prefix="speech")  # waits on the worker's pipe
        self._worker = None  # subprocess.Popen, started by the first request

    @property
    def enabled(self) -> bool:
        return self.spec not in ("", "none")

    def submit(self, pcm_bytes: bytes, sample_rate: int, language: str = "") -> Future:
        """Checks a request and queues it; the Future's result is (recognizer id, segments)."""
        if not self.enabled:
            raise FailedPrecondition(
                "this embedder hosts no speech recognizer; start it with "
                "--speech-recognizer pocketsphinx (or ctc:models/demo-speech, or whisper:<model>)"
            )
        if sample_rate != SAMPLE_RATE:
            raise InvalidArgument(f"sample_rate_hertz must be {SAMPLE_RATE} (16 kHz mono), got {sample_rate}")
        if len(pcm_bytes) % 2:
            raise InvalidArgument("pcm_s16le must hold whole 16-bit samples (an even number of bytes)")
        seconds = len(pcm_bytes) / 2 / SAMPLE_RATE
        if seconds > MAX_REQUEST_SECONDS:
            raise InvalidArgument(
                f"{seconds:.0f} s of audio in one request, over the limit of {MAX_REQUEST_SECONDS:.0f} s; "
                "send it in chunks"
            )
        with self._lock:
            if self._queued_seconds + seconds > self._max_queued:
                raise ResourceExhausted(
                    f"{self._queued_seconds:.0f} s of audio are already waiting for the speech recognizer; retry later"
                )
            self._queued_seconds += seconds

        def run():
            try:
                return self._ask(bytes(pcm_bytes), language)
            finally:
                with self._lock:
                    self._queued_seconds -= seconds

        return self._caller.submit(run)

    def _ask(self, pcm_bytes: bytes, language: str):
        from videosearch.embedder import speech_worker

        if self._worker is None or self._worker.poll() is not None:
            self._worker = speech_worker.start(self.spec, self._device)
        try:
            speech_worker.send(self._worker.stdin, (pcm_bytes, language))
            answer = speech_worker.receive(self._worker.stdout)
        except (OSError, EOFError) as exc:
            self._worker.kill()
            self._worker = None
            raise Unavailable(
                f"the speech recognizer's worker process ended ({exc}); retry (it restarts), and see the embedder's log"
            ) from exc
        if answer[0] == "ok":
            return answer[1], [SpeechSegment(*segment) for segment in answer[2]]
        _, kind, message = answer
        raise {"FailedPrecondition": FailedPrecondition, "InvalidArgument": InvalidArgument}.get(kind, Unavailable)(
            message
        )

    def close(self) -> None:
        self._caller.shutdown(wait=False, cancel_futures=True)
        if self._worker is not None and self._worker.poll() is None:
            self._worker.kill()
