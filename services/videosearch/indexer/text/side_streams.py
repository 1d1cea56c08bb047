"""The streams beside the picture, read in the decode pass: subtitle packets and the audio track.

The PyAV decoder (videosearch.indexer.media.pyav_capture) demuxes the streams :meth:`SideStreams.select`
picks together with the video stream and hands their packets to :meth:`SideStreams.feed`, on
its decode thread: one read of the file. With the OpenCV decoder, :meth:`SideStreams.read_file`
opens the container once more with PyAV and demuxes only these streams (no video is decoded,
so this costs a read of the file, not a decode).

Subtitle packets become cues (videosearch.indexer.text.subtitles.StreamCues). Audio is decoded
and resampled to 16 kHz mono signed 16-bit PCM (what speech recognizers take) and handed on in
chunks of about ``chunk_seconds``, each cut at the quietest 100 ms of its last seconds so a word
is rarely split between two chunks. Errors never leave here: a packet that fails to decode is
counted, too many in a row end that stream with a warning, and the video goes on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import av
import numpy as np

from videosearch.indexer.text.spans import TextSpan, TextWarnings
from videosearch.indexer.text.subtitles import TEXT_CODECS, StreamCues, language_tag

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000
"""Hz of the PCM handed to speech recognizers (16-bit signed, mono)."""
DEFAULT_CHUNK_SECONDS = 30.0  # Whisper's window; pocketsphinx takes any length
_CUT_SEARCH_SECONDS = 5.0
_MAX_BAD_AUDIO_PACKETS = 50

AudioSink = Callable[[float, np.ndarray], None]
"""Called as ``sink(start_seconds, pcm)`` with ``pcm`` int16 mono at SAMPLE_RATE."""


class AudioChunker:
    """Resampled audio, handed to ``sink`` in chunks; stops taking audio past ``max_seconds``."""

    def __init__(self, sink: AudioSink, chunk_seconds: float, max_seconds: float) -> None:
        self._sink = sink
        self._chunk = int(chunk_seconds * SAMPLE_RATE)
        self._max = int(max_seconds * SAMPLE_RATE)
        self._parts: list[np.ndarray] = []
        self._buffered = 0
        self._start: float | None = None  # seconds of the buffer's first sample
        self.samples = 0  # taken in all
        self.over_limit = False

    def add(self, start_seconds: float, pcm: np.ndarray) -> None:
        if self.over_limit or not len(pcm):
            return
        if self.samples + len(pcm) > self._max:
            pcm = pcm[: max(0, self._max - self.samples)]
            self.over_limit = True
        if self._start is None:
            self._start = start_seconds
        self._parts.append(pcm)
        self._buffered += len(pcm)
        self.samples += len(pcm)
        while self._buffered >= self._chunk:
            self._emit(self._cut_point())

    def _cut_point(self) -> int:
        """Where to end the next chunk: the quietest 100 ms window of its last seconds."""
        buffer = np.concatenate(self._parts)
        self._parts = [buffer]
        window = SAMPLE_RATE // 10
        lo = max(window, self._chunk - int(_CUT_SEARCH_SECONDS * SAMPLE_RATE))
        tail = buffer[lo : self._chunk].astype(np.float32)
        if len(tail) < 2 * window:
            return self._chunk
        energy = np.square(tail[: len(tail) // window * window]).reshape(-1, window).mean(axis=1)
        return lo + int(np.argmin(energy)) * window + window // 2

    def _emit(self, end: int) -> None:
        buffer = np.concatenate(self._parts) if len(self._parts) > 1 else self._parts[0]
        chunk, rest = buffer[:end], buffer[end:]
        start = self._start or 0.0
        self._sink(start, chunk)
        self._start = start + end / SAMPLE_RATE
        self._parts = [rest] if len(rest) else []
        self._buffered = len(rest)

    def finish(self) -> None:
        if self._buffered:
            self._emit(self._buffered)


class SideStreams:
    """Picks a container's text subtitle streams and its first audio stream, and reads their
    packets as they are fed. ``audio_sink`` None: no audio is decoded; nor with
    ``skip_audio_with_subtitles`` when the container has text subtitles (exact where they exist)."""

    def __init__(
        self,
        *,
        subtitles: bool,
        audio_sink: AudioSink | None,
        warnings: TextWarnings,
        max_audio_seconds: float,
        chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
        skip_audio_with_subtitles: bool = False,
    ) -> None:
        self._want_subtitles = subtitles
        self._skip_audio_with_subtitles = skip_audio_with_subtitles
        self._warnings = warnings
        self._audio = AudioChunker(audio_sink, chunk_seconds, max_audio_seconds) if audio_sink else None
        self._max_audio_seconds = max_audio_seconds
        self._streams: dict[int, StreamCues] = {}
        self._audio_index: int | None = None
        self._resampler: av.AudioResampler | None = None
        self._audio_position: int | None = None  # samples from the video's start of the next one
        self._bad_audio = 0
        self._audio_failed = False
        self._offset = 0.0  # the video stream's start time: side stream times are made relative to it
        self.audio_seconds = 0.0
        self.container_seconds = 0.0  # the container's stated length, once selected (0: unknown)
        self.audio_language = ""  # the audio stream's language tag (BCP-47), "" when the container says none
        self._finished = False

    @property
    def active(self) -> bool:
        return self._want_subtitles or self._audio is not None

    def select(self, container: av.container.InputContainer, video_start_seconds: float = 0.0) -> list:
        """The streams to demux beside the video (none when nothing is asked for)."""
        self._offset = video_start_seconds
        if container.duration:  # the container's own length (AV_TIME_BASE units)
            self.container_seconds = float(container.duration) / av.time_base
        chosen = []
        if self._want_subtitles:
            for stream in container.streams.subtitles:
                codec = stream.codec_context.name if stream.codec_context else ""
                if codec not in TEXT_CODECS:
                    self._warnings.add(
                        f"subtitle stream {stream.index} is {codec or 'of an unknown codec'} (pictures, "
                        "not text); it was not read (turn on on-screen text to read burned-in words)"
                    )
                    continue
                self._streams[stream.index] = StreamCues(stream.index, codec, language_tag(stream.language))
                chosen.append(stream)
        if self._audio is not None and self._streams and self._skip_audio_with_subtitles:
            log.info("%s has subtitles: its speech is not transcribed", container.name)
            self._audio = None
        if self._audio is not None:
            if container.streams.audio:
                stream = container.streams.audio[0]
                self._audio_index = stream.index
                self.audio_language = language_tag(stream.language)
                chosen.append(stream)
            else:
                self._warnings.add("the video has no audio track: no speech to transcribe")
        return chosen

    def feed(self, packet: av.Packet) -> None:
        """One packet of a selected stream (called on the decode thread; never raises, so a
        broken side stream cannot stop the picture's decode)."""
        try:
            self._feed(packet)
        except Exception as exc:  # the video must go on whatever a side stream holds
            log.warning("side stream packet failed", exc_info=True)
            self._warnings.add(f"a subtitle or audio packet could not be read ({exc}); that stream may be incomplete")

    def _feed(self, packet: av.Packet) -> None:
        index = packet.stream.index
        if index in self._streams:
            if packet.pts is None:
                return
            start = float(packet.pts * packet.time_base) - self._offset
            duration = float(packet.duration * packet.time_base) if packet.duration else None
            self._streams[index].add(start, duration, bytes(packet))
        elif index == self._audio_index and not self._audio_failed:
            self._decode_audio(packet)

    def _decode_audio(self, packet: av.Packet) -> None:
        try:
            frames = packet.decode()
            self._bad_audio = 0
        except (av.FFmpegError, ValueError) as exc:
            self._bad_audio += 1
            if self._bad_audio > _MAX_BAD_AUDIO_PACKETS:
                self._fail_audio(f"{_MAX_BAD_AUDIO_PACKETS} audio packets in a row failed to decode ({exc})")
            return
        for frame in frames:
            self._resample(frame)

    def _resample(self, frame: av.AudioFrame | None) -> None:
        assert self._audio is not None
        try:
            if self._resampler is None:
                if frame is None:
                    return
                self._resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
                if frame.pts is not None and frame.time_base is not None:
                    start = max(0.0, float(frame.pts * frame.time_base) - self._offset)
                else:
                    start = 0.0
                self._audio_position = int(round(start * SAMPLE_RATE))
            for out in self._resampler.resample(frame):
                pcm = out.to_ndarray().reshape(-1).astype(np.int16, copy=False)
                self._audio.add(self._audio_position / SAMPLE_RATE, pcm)
                self._audio_position += len(pcm)
        except (av.FFmpegError, ValueError) as exc:
            self._fail_audio(f"its samples could not be resampled to 16 kHz mono ({exc})")

    def _fail_audio(self, why: str) -> None:
        self._audio_failed = True
        self._warnings.add(
            f"the audio track could not be decoded: {why}; the speech after "
            f"{(self._audio_position or 0) / SAMPLE_RATE:.0f} s was not transcribed"
        )

    def finish(self) -> None:
        """After the last packet: the decoders' and the chunker's last samples (once)."""
        if self._audio is None or self._finished:
            return
        self._finished = True
        if not self._audio_failed and self._resampler is not None:
            self._resample(None)
        self._audio.finish()
        self.audio_seconds = self._audio.samples / SAMPLE_RATE
        if self._audio.over_limit:
            self._warnings.add(
                f"the audio is longer than the limit of {self._max_audio_seconds:,.0f} s transcribed per "
                "video (setting --max-speech-seconds); the rest was not transcribed"
            )

    def subtitle_spans(self, duration_seconds: float) -> list[list[TextSpan]]:
        """Each selected subtitle stream's spans (one list per stream)."""
        return [cues.spans(duration_seconds) for cues in self._streams.values()]

    def stream_names(self) -> list[str]:
        return [f"subtitle stream {cues.index} ({cues.codec})" for cues in self._streams.values()]

    def read_file(self, path: str, should_stop: Callable[[], bool] = lambda: False) -> None:
        """For a decoder other than PyAV: demux only the selected streams of ``path``."""
        try:
            container = av.open(path)
        except (av.FFmpegError, OSError, ValueError) as exc:
            self._warnings.add(f"subtitles and audio could not be read: the container did not open with PyAV ({exc})")
            return
        with container:
            video = container.streams.video[0] if container.streams.video else None
            start = float(video.start_time * video.time_base) if video is not None and video.start_time else 0.0
            streams = self.select(container, start)
            if not streams:
                return
            try:
                for packet in container.demux(*streams):
                    if should_stop():
                        return
                    self.feed(packet)  # the empty packets at the end flush the audio decoder
            except av.FFmpegError as exc:
                self._warnings.add(f"the container broke off while its subtitles and audio were read ({exc})")
        self.finish()
