"""Transcripts from subtitles: sidecar files beside the video and subtitle streams inside it.

Sidecars are the files named like the video with a subtitle suffix: for ``talk.mp4``,
``talk.srt``, ``talk.vtt``, ``talk.ass`` / ``talk.ssa``, and with a language,
``talk.zh.srt``, ``talk.en-US.vtt`` (the part between the names is taken as a BCP-47 tag
when it looks like one). Each becomes SAID spans with source SIDECAR.

Embedded streams (mov_text, SubRip, ASS/SSA, WebVTT) are read from their packets as the
decode pass demuxes them (see videosearch.indexer.text.side_streams); each packet is one cue,
its time the packet's presentation time. Bitmap subtitles (DVD, PGS) carry no text: they are
reported, not read.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
from dataclasses import dataclass
from pathlib import Path

from videosearch.indexer.jobs.limits import MediaLimits
from videosearch.indexer.paths import AllowedRoots
from videosearch.indexer.text.spans import TextSpan, TextWarnings
from videosearch.indexer.text.subtitle_text import Cue, parse_subtitles, strip_ass, strip_markup

SIDECAR_SUFFIXES = (".srt", ".vtt", ".ass", ".ssa")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,3}$")
# ISO 639-2 codes that containers carry, to the BCP-47 tags the Searcher keeps.
_ISO639_2 = {
    "eng": "en",
    "chi": "zh",
    "zho": "zh",
    "cmn": "zh",
    "yue": "yue",
    "jpn": "ja",
    "kor": "ko",
    "fre": "fr",
    "fra": "fr",
    "ger": "de",
    "deu": "de",
    "spa": "es",
    "ita": "it",
    "por": "pt",
    "rus": "ru",
    "ara": "ar",
    "hin": "hi",
    "dut": "nl",
    "nld": "nl",
}
TEXT_CODECS = {"mov_text", "subrip", "srt", "ass", "ssa", "webvtt", "text"}


def language_tag(value: str | None) -> str:
    """A BCP-47 tag for a container's or a file name's language ("" when none or "und")."""
    value = (value or "").strip()
    if not value or value.lower() in ("und", "unk", "mis", "zxx") or not _LANGUAGE_TAG.match(value):
        return ""
    primary, *rest = value.replace("_", "-").split("-")
    primary = _ISO639_2.get(primary.lower(), primary.lower())
    return "-".join([primary, *rest])


def find_sidecars(video_path: str, roots: AllowedRoots | None = None) -> list[tuple[Path, str]]:
    """Subtitle files beside ``video_path`` that belong to it: (path, language tag), sorted by
    name. A file whose real path lies outside the Indexer's allowed roots is skipped."""
    video = Path(video_path)
    stem = video.stem
    found: list[tuple[Path, str]] = []
    try:
        entries = sorted(os.scandir(video.parent), key=lambda entry: entry.name)
    except OSError:
        return []
    for entry in entries:
        path = Path(entry.path)
        if path.suffix.lower() not in SIDECAR_SUFFIXES or not path.name.startswith(stem + "."):
            continue
        middle = path.name[len(stem) + 1 : -len(path.suffix)]
        if middle and not _LANGUAGE_TAG.match(middle):
            continue  # talk.final.srt is another video's ("talk.final.mp4"), not a language
        if roots is not None and not roots.contains(path.resolve()):
            continue
        if entry.is_file():
            found.append((path, language_tag(middle)))
    return found


@dataclass(frozen=True)
class Sidecars:
    """The subtitle files beside one video path, read before the video is hashed: a file's
    bytes say nothing of the words beside it, so two identical files with other subtitles are
    two videos, and ``key`` is what tells them apart (the pipeline's video id covers it)."""

    files: tuple[tuple[Path, tuple[TextSpan, ...]], ...] = ()
    warnings: tuple[str, ...] = ()  # what could not be read, for the job (read_sidecar)

    @classmethod
    def read(cls, video_path: str, limits: MediaLimits, roots: AllowedRoots | None = None) -> Sidecars:
        warnings = TextWarnings()
        files = tuple(
            (path, tuple(read_sidecar(path, language, limits, warnings)))
            for path, language in find_sidecars(video_path, roots)
        )
        return cls(files, tuple(warnings.all()))

    @property
    def key(self) -> str:
        """A digest of the cues (language, times, text; not the files' names, so a renamed
        copy with its renamed subtitles is the same video), or "" when there are none."""
        cues = [
            [span.language, span.start_seconds, span.end_seconds, span.text]
            for _, spans in self.files
            for span in spans
        ]
        return hashlib.sha256(json.dumps(cues, ensure_ascii=False).encode()).hexdigest() if cues else ""


def read_sidecar(path: Path, language: str, limits: MediaLimits, warnings: TextWarnings) -> list[TextSpan]:
    """The SAID spans of one sidecar file; problems become warnings, never errors."""
    try:
        size = path.stat().st_size
        if size > limits.max_subtitle_file_bytes:
            warnings.add(
                f"subtitle file {path.name} is {size:,} bytes, over the limit of "
                f"{limits.max_subtitle_file_bytes:,} (setting --max-subtitle-file-bytes); it was not read"
            )
            return []
        data = path.read_bytes()
    except OSError as exc:
        warnings.add(f"subtitle file {path.name} could not be read ({exc.strerror or exc}); check its permissions")
        return []
    parsed = parse_subtitles(data, path.suffix)
    if parsed.lossy:
        warnings.add(
            f"subtitle file {path.name} is in no encoding the indexer knows (UTF-8, UTF-16, GB18030); "
            "some characters were replaced: save it as UTF-8"
        )
    if parsed.skipped:
        warnings.add(
            f"subtitle file {path.name}: {parsed.skipped} cue(s) had timings that do not parse and were skipped"
        )
    if not parsed.cues:
        warnings.add(f"subtitle file {path.name} has no cue the indexer could read (is it SubRip, WebVTT or ASS?)")
    return [TextSpan("said", cue.start_seconds, cue.end_seconds, cue.text, language, "sidecar") for cue in parsed.cues]


def packet_text(codec: str, payload: bytes) -> str:
    """The words of one subtitle packet, by codec: mov_text is a 16-bit length and the text
    (style boxes after it), ASS packets are a Dialogue line without its start and end
    (ReadOrder, Layer, Style, Name, MarginL, MarginR, MarginV, Effect, Text), SubRip and WebVTT
    packets are the cue's text."""
    if codec == "mov_text":
        if len(payload) < 2:
            return ""
        (length,) = struct.unpack(">H", payload[:2])
        raw = payload[2 : 2 + length]
    else:
        raw = payload
    text = raw.decode("utf-8", errors="replace")
    if codec in ("ass", "ssa"):
        parts = text.split(",", 8)
        return strip_ass(parts[8] if len(parts) == 9 else text)
    return strip_markup(text)


class StreamCues:
    """Cues of one embedded subtitle stream, gathered packet by packet."""

    def __init__(self, index: int, codec: str, language: str) -> None:
        self.index = index
        self.codec = codec
        self.language = language
        self.cues: list[Cue] = []
        self._open: tuple[float, str] | None = None  # a cue without a duration: ends at the next packet
        self.bad_packets = 0

    def add(self, start: float, duration: float | None, payload: bytes) -> None:
        if self._open is not None:
            self.cues.append(Cue(self._open[0], max(self._open[0], start), self._open[1]))
            self._open = None
        try:
            text = packet_text(self.codec, payload)
        except (ValueError, struct.error):
            self.bad_packets += 1
            return
        if not text:
            return  # mov_text's empty packets clear the screen between cues
        if duration is not None and duration > 0:
            self.cues.append(Cue(start, start + duration, text))
        else:
            self._open = (start, text)

    def spans(self, duration_seconds: float) -> list[TextSpan]:
        cues = list(self.cues)
        if self._open is not None:
            start = self._open[0]
            cues.append(Cue(start, max(start, duration_seconds), self._open[1]))
        return [
            TextSpan("said", c.start_seconds, c.end_seconds, c.text, self.language, "subtitle_stream") for c in cues
        ]
