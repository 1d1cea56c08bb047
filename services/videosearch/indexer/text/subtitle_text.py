"""Subtitle text: bytes in an unknown encoding to str, SubRip / WebVTT / ASS (SSA) files to
timed cues, and each format's markup stripped to the words a viewer reads.

Encodings tried, in order: a byte-order mark (UTF-8, UTF-16 LE/BE, UTF-32), then UTF-16
without a mark when NUL bytes sit on one side of the byte pairs only (ASCII decodes as UTF-8
too, NULs and all), then strict UTF-8, then GB18030 (a
superset of GBK and GB2312, the usual encoding of Chinese subtitle files that are not UTF-8).
Bytes none of these decode are read as UTF-8 with replacement characters, and the caller is told.

Parsing is lenient the way players are: a cue whose timing line does not parse is skipped
and counted, the rest of the file is kept.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]


@dataclass(frozen=True)
class Cue:
    start_seconds: float
    end_seconds: float
    text: str


@dataclass(frozen=True)
class ParsedSubtitles:
    cues: list[Cue]
    encoding: str
    skipped: int = 0  # blocks that looked like cues but whose timing did not parse
    lossy: bool = False  # no encoding decoded every byte: some characters were replaced


def decode_text(data: bytes) -> tuple[str, str, bool]:
    """(text, encoding name, lossy) for subtitle bytes, see the module doc."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(name), name + " (BOM)", False
            except UnicodeDecodeError:
                break
    if len(data) >= 4 and len(data) % 2 == 0:
        even, odd = data[0::2], data[1::2]
        # Text files hold no NUL bytes; UTF-16 puts one in the high byte of every ASCII character
        # (timings, numbers, spaces), so on one side of each pair only.
        for zeros, other, name in ((odd, even, "utf-16-le"), (even, odd, "utf-16-be")):
            if zeros.count(0) >= 0.25 * len(zeros) and other.count(0) <= 0.05 * len(other):
                try:
                    return data.decode(name), name, False
                except UnicodeDecodeError:
                    pass
    try:
        return data.decode("utf-8"), "utf-8", False
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030", False
    except UnicodeDecodeError:
        return data.decode("utf-8", errors="replace"), "utf-8 (invalid bytes replaced)", True


_TIME = r"(?:(\d+):)?(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?"
_TIMING = re.compile(rf"^\s*{_TIME}\s*-->\s*{_TIME}")


def _seconds(hours, minutes, seconds, fraction) -> float:
    value = int(hours or 0) * 3600 + int(minutes) * 60 + int(seconds)
    return value + (int(fraction.ljust(3, "0")) / 1000 if fraction else 0.0)


_TAG = re.compile(r"<[^>]{0,200}>")
_ASS_OVERRIDE = re.compile(r"\{[^}]{0,500}\}")
_ENTITIES = {"&amp;": "&", "&lt;": "<", "&gt;": ">", "&nbsp;": " ", "&lrm;": "", "&rlm;": ""}


def strip_markup(text: str) -> str:
    """The words of a SubRip / WebVTT cue: HTML-like tags (<i>, <c.yellow>, <v Speaker>,
    <00:01.000>), ASS override blocks ({\\an8}, which SubRip files carry too) and entities
    removed, lines joined with spaces."""
    text = _ASS_OVERRIDE.sub("", _TAG.sub("", text))
    for entity, char in _ENTITIES.items():
        text = text.replace(entity, char)
    return " ".join(text.split())


def strip_ass(text: str) -> str:
    """The words of an ASS dialogue text: override blocks ({\\i1}, {\\pos(1,2)}) removed,
    \\N and \\n line breaks and \\h hard spaces turned into spaces. A drawing ({\\p1}...) is
    dropped whole: its "text" is vector commands."""
    if re.search(r"\{[^}]*\\p[1-9]", text):
        return ""
    text = _ASS_OVERRIDE.sub("", text)
    text = text.replace("\\N", " ").replace("\\n", " ").replace("\\h", " ")
    return " ".join(text.split())


def parse_srt_or_vtt(text: str) -> tuple[list[Cue], int]:
    """Cues of a SubRip or WebVTT file (blocks separated by blank lines, a timing line
    ``start --> end`` followed by the text); WebVTT's header, NOTE, STYLE and REGION blocks and
    cue settings are ignored. Returns (cues, blocks skipped for a timing that did not parse)."""
    cues: list[Cue] = []
    skipped = 0
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        timing_at = next((i for i, line in enumerate(lines[:3]) if "-->" in line), None)
        if timing_at is None:
            head = lines[0].strip()
            if not (head.startswith(("WEBVTT", "NOTE", "STYLE", "REGION")) or head.isdigit() and len(lines) == 1):
                skipped += 1
            continue
        match = _TIMING.match(lines[timing_at])
        if match is None:
            skipped += 1
            continue
        start, end = _seconds(*match.groups()[:4]), _seconds(*match.groups()[4:])
        words = strip_markup("\n".join(lines[timing_at + 1 :]))
        if words:
            cues.append(Cue(start, end, words))
    return cues, skipped


_ASS_TIME = re.compile(r"^\s*(\d+):(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?\s*$")


def _ass_seconds(value: str) -> float | None:
    match = _ASS_TIME.match(value)
    return _seconds(*match.groups()) if match else None


def parse_ass(text: str) -> tuple[list[Cue], int]:
    """Cues of an ASS / SSA script: its [Events] ``Dialogue:`` lines, read by the section's
    ``Format:`` line (the standard order when it has none). Comments are not cues."""
    fields = ["layer", "start", "end", "style", "name", "marginl", "marginr", "marginv", "effect", "text"]
    cues: list[Cue] = []
    skipped = 0
    in_events = False
    for raw in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = raw.strip()
        if line.startswith("["):
            in_events = line.lower() == "[events]"
            continue
        if not in_events:
            continue
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "format":
            fields = [name.strip().lower() for name in value.split(",")]
        elif key == "dialogue":
            parts = value.split(",", len(fields) - 1)
            if len(parts) < len(fields) or "text" not in fields:
                skipped += 1
                continue
            row = dict(zip(fields, parts))
            start, end = _ass_seconds(row.get("start", "")), _ass_seconds(row.get("end", ""))
            if start is None or end is None:
                skipped += 1
                continue
            words = strip_ass(row["text"])
            if words:
                cues.append(Cue(start, end, words))
    return cues, skipped


def parse_subtitles(data: bytes, suffix: str) -> ParsedSubtitles:
    """Cues of a subtitle file's bytes; ``suffix`` (".srt", ".vtt", ".ass", ".ssa") picks the
    parser, though a file whose content is plainly the other kind is read as that kind."""
    text, encoding, lossy = decode_text(data)
    text = text.lstrip("\ufeff")
    looks_ass = "[events]" in text[:20000].lower() or "[script info]" in text[:2000].lower()
    if suffix.lower() in (".ass", ".ssa") or looks_ass:
        cues, skipped = parse_ass(text)
    else:
        cues, skipped = parse_srt_or_vtt(text)
    return ParsedSubtitles(cues, encoding, skipped, lossy)
