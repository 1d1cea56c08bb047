"""One video's words, read while the video is indexed: subtitles, speech and on-screen text.

The pipeline makes a :class:`VideoText` per job and hands it what the decode pass produces:
``side_streams`` goes to the decoder (subtitle and audio packets of the same read), each
scene goes to ``add_scene`` (its sampled frames, for on-screen text), and ``finish`` returns
the spans once the pass is over, with the warnings of whatever could not be read.

Speech chunks are sent to the Embedder's recognizer (TranscribeAudio) from a worker thread as
the audio decodes, at most ``SPEECH_CHUNKS_IN_FLIGHT`` waiting (then the decode waits: audio
held in memory stays bounded). On-screen text is read on one worker thread beside decoding
and embedding, at most ``OCR_SCENES_IN_FLIGHT`` scenes waiting. Nothing here fails a job: a
reader that breaks leaves a warning and the video is indexed without that text.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from videosearch.common.errors import VideoSearchError
from videosearch.indexer.jobs.limits import MediaLimits
from videosearch.indexer.paths import AllowedRoots
from videosearch.indexer.text.on_screen import SceneTextReader, TextRecognizer
from videosearch.indexer.text.side_streams import SideStreams
from videosearch.indexer.text.spans import TextSpan, TextWarnings, clean_spans
from videosearch.indexer.text.subtitles import Sidecars
from videosearch.indexer.media.timing import StageClock

log = logging.getLogger(__name__)

SPEECH_CHUNKS_IN_FLIGHT = 2  # the recognizer is serial: one waiting keeps it busy
OCR_SCENES_IN_FLIGHT = 4


class Transcriber(Protocol):
    def transcribe_audio(
        self,
        pcm: np.ndarray,
        language: str = "",
        timeout: float | None = None,
    ) -> list[tuple[float, float, str, str]]: ...


@dataclass(frozen=True)
class TextChoice:
    """Which words a job reads (its IndexOptions' switches)."""

    subtitles: bool = True
    speech: bool = False
    on_screen_text: bool = False


class VideoText:
    def __init__(
        self,
        path: str,
        choice: TextChoice,
        *,
        limits: MediaLimits,
        roots: AllowedRoots | None,
        transcriber: Transcriber | None,
        recognizer: TextRecognizer | None,
        clock: StageClock,
        should_stop: Callable[[], bool] = lambda: False,
        speech_timeout_s: float | None = None,
        sidecars: Sidecars | None = None,
    ) -> None:
        """``sidecars``: the subtitle files beside ``path`` as the pipeline read them (it hashes
        their cues with the video); None reads them here."""
        self.path = path
        self.choice = choice
        self.warnings = TextWarnings()
        self._limits = limits
        self._clock = clock
        self._should_stop = should_stop
        self._closed = threading.Event()
        # Sidecars are read first (small files): whether they hold cues decides whether speech is needed.
        if not choice.subtitles:
            sidecars = Sidecars()
        elif sidecars is None:
            sidecars = Sidecars.read(path, limits, roots)
        for message in sidecars.warnings:
            self.warnings.add(message)
        self._sidecar_spans = [(path_, list(spans)) for path_, spans in sidecars.files]
        speech = choice.speech and transcriber is not None
        if choice.speech and transcriber is None:
            self.warnings.add("speech was asked for but this indexer has no embedder to transcribe with")
        self._transcriber = transcriber
        self._speech_timeout_s = speech_timeout_s
        self._speech_pool = ThreadPoolExecutor(1, thread_name_prefix="speech-call") if speech else None
        self._speech: deque[Future] = deque()
        self._speech_failed = threading.Event()
        self._speech_spans: list[TextSpan] = []
        # Subtitles are exact where they exist: speech is transcribed for videos without them.
        self._speech_wanted = speech and not any(spans for _, spans in self._sidecar_spans)
        self.side_streams = SideStreams(
            subtitles=choice.subtitles,
            audio_sink=self._on_audio if self._speech_wanted else None,
            warnings=self.warnings,
            max_audio_seconds=limits.max_speech_seconds,
            skip_audio_with_subtitles=True,
        )
        self._ocr_reader = SceneTextReader(recognizer) if choice.on_screen_text and recognizer is not None else None
        self._ocr_pool = ThreadPoolExecutor(1, thread_name_prefix="ocr") if self._ocr_reader else None
        self._ocr: deque[Future] = deque()
        self._ocr_spans: list[TextSpan] = []
        self._ocr_failed = False
        self._apart: threading.Thread | None = None

    @property
    def reads_frames(self) -> bool:
        """Whether the decode pass must keep the sampled frames for on-screen text."""
        return self._ocr_reader is not None

    # -- the decode pass ---------------------------------------------------------------
    def start_apart(self, decoder_library: str, reader_path: str) -> SideStreams | None:
        """The SideStreams to hand the decoder; with a decoder that cannot demux them (OpenCV)
        they are read from ``reader_path`` (the job's open file) by a thread of their own here,
        and None is returned."""
        if not self.side_streams.active:
            return None
        if decoder_library == "pyav":
            return self.side_streams
        self._apart = threading.Thread(
            target=self.side_streams.read_file, args=(reader_path, self._stopping), name="side-streams", daemon=True
        )
        self._apart.start()
        return None

    def _on_audio(self, start_seconds: float, pcm: np.ndarray) -> None:
        """A chunk of audio from the decode thread: sent for transcription, the decode waiting
        while SPEECH_CHUNKS_IN_FLIGHT chunks are already out."""
        if self._speech_failed.is_set() or self._speech_pool is None:
            return
        if len(self._speech) >= SPEECH_CHUNKS_IN_FLIGHT:
            with self._clock.timing("speech_wait"):  # the decode held up by the recognizer
                while len(self._speech) >= SPEECH_CHUNKS_IN_FLIGHT:
                    self._collect_speech()
        self._speech.append(self._speech_pool.submit(self._transcribe, start_seconds, pcm))

    def _transcribe(self, start_seconds: float, pcm: np.ndarray) -> list[TextSpan]:
        if self._speech_failed.is_set() or self._should_stop():
            return []
        try:
            with self._clock.timing("speech"):
                # The container's language for the track, when it names one, is the recognizer's hint
                # (an English-only recognizer then hears nothing in Mandarin rather than nonsense).
                heard = self._transcriber.transcribe_audio(
                    pcm, self.side_streams.audio_language, timeout=self._speech_timeout_s
                )
        except VideoSearchError as exc:
            self._speech_failed.set()
            self.warnings.add(
                f"speech was not transcribed after {start_seconds:.0f} s: the embedder's speech "
                f"recognizer answered {exc}"
            )
            return []
        except Exception as exc:  # speech that cannot be had costs the video its transcript, not the job
            log.warning("transcribing %s failed", self.path, exc_info=True)
            self._speech_failed.set()
            self.warnings.add(
                f"speech was not transcribed after {start_seconds:.0f} s ({type(exc).__name__}: {exc}); "
                "the indexer log has the details"
            )
            return []
        return [
            TextSpan("said", start_seconds + start, start_seconds + end, text, language, "speech")
            for start, end, text, language in heard
        ]

    def _collect_speech(self) -> None:
        self._speech_spans += self._speech.popleft().result()

    def add_scene(self, frames: tuple[np.ndarray, ...], times: list[float], end_seconds: float) -> None:
        """One scene's sampled frames (BGR) and their times, queued for on-screen text."""
        if self._ocr_pool is None or not frames or self._ocr_failed:
            return
        if len(self._ocr) >= OCR_SCENES_IN_FLIGHT:
            with self._clock.timing("ocr_wait"):  # the decode held up by the reader
                while len(self._ocr) >= OCR_SCENES_IN_FLIGHT:
                    self._collect_ocr()
        self._ocr.append(self._ocr_pool.submit(self._read_scene, list(frames), times, end_seconds))

    def _read_scene(self, frames: list[np.ndarray], times: list[float], end_seconds: float) -> list[TextSpan]:
        if self._ocr_failed or self._should_stop():
            return []
        try:
            with self._clock.timing("ocr"):
                return self._ocr_reader.read_scene(frames, times, end_seconds)
        except Exception as exc:  # a broken OCR engine costs the video its on-screen text, not the job
            log.warning("on-screen text of %s failed", self.path, exc_info=True)
            self._ocr_failed = True
            self.warnings.add(
                f"on-screen text could not be read ({type(exc).__name__}: {exc}); the indexer log has the details"
            )
            return []

    def _collect_ocr(self) -> None:
        self._ocr_spans += self._ocr.popleft().result()

    # -- after the pass ----------------------------------------------------------------
    def finish(self, duration_seconds: float, on_stage: Callable[[str], None] = lambda stage: None) -> list[TextSpan]:
        """Every span read, cleaned (times inside the video, limits kept), ordered by time.
        ``duration_seconds`` is the decoded frames'; the container's stated length counts
        where it is longer (a fast decode mode decodes only the keyframes, the last of which
        can lie seconds before the end)."""
        duration_seconds = max(duration_seconds, self.side_streams.container_seconds)
        if self._apart is not None:
            self._apart.join()
        self.side_streams.finish()  # a decoder that stopped early may not have
        if self._speech:
            on_stage("transcribing")
            with self._clock.timing("speech_tail"):  # the job waiting for speech after the pass
                while self._speech:
                    self._collect_speech()
        if self._ocr:
            on_stage("reading_text")
            with self._clock.timing("ocr_tail"):
                while self._ocr:
                    self._collect_ocr()
        limits = dict(
            max_spans=self._limits.max_text_spans, max_chars=self._limits.max_span_chars, warnings=self.warnings
        )
        spans: list[TextSpan] = []
        for path, sidecar_spans in self._sidecar_spans:
            spans += clean_spans(sidecar_spans, duration_seconds, what=f"subtitle file {path.name}", **limits)
        for name, stream_spans in zip(
            self.side_streams.stream_names(), self.side_streams.subtitle_spans(duration_seconds)
        ):
            spans += clean_spans(stream_spans, duration_seconds, what=name, **limits)
        spans += clean_spans(self._speech_spans, duration_seconds, what="speech", **limits)
        spans += clean_spans(self._ocr_spans, duration_seconds, what="on-screen text", **limits)
        # The same cue twice (a sidecar that was also muxed into the file) would count twice in
        # ranking: it is kept once, with a language where one of the copies has it.
        unique: dict[tuple, TextSpan] = {}
        for span in spans:
            key = (span.kind, span.start_seconds, span.end_seconds, span.text)
            if key not in unique or (span.language and not unique[key].language):
                unique[key] = span
        spans = list(unique.values())
        spans.sort(key=lambda s: (s.start_seconds, s.kind != "said"))
        if len(spans) > self._limits.max_text_spans:
            self.warnings.add(
                f"{len(spans):,} text spans in all, over the limit of {self._limits.max_text_spans:,} per "
                "video; the first were kept (setting --max-text-spans)"
            )
            spans = spans[: self._limits.max_text_spans]
        if self._ocr_reader is not None:
            log.info(
                "%s: on-screen text read in %d sampled frames, %d skipped as unchanged",
                self.path,
                self._ocr_reader.frames_read,
                self._ocr_reader.frames_skipped,
            )
        return spans

    def _stopping(self) -> bool:
        return self._closed.is_set() or self._should_stop()

    def close(self) -> None:
        self._closed.set()
        if self._apart is not None:
            self._apart.join(timeout=5)  # it stops at its next packet; the job's descriptor closes after
        for pool in (self._speech_pool, self._ocr_pool):
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
