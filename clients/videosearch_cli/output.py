"""How the CLI prints: one JSON shape for each domain object in every command (zero
values kept, integers as numbers, every video with its file paths), and paths short
enough for a table without losing the file name."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import sys
from fractions import Fraction
from pathlib import PurePath

from rich.console import Console

from videosearch.common.timecode import format_seconds
from videosearch.indexer.types import PUBLIC_NAMES, IndexOptions, Job
from videosearch.searcher.types import MomentRecord, MomentHit, SceneRecord, TextMatch, TextSpan, VideoHit, VideoRecord

# Piped output (logs, CI) gets a fixed width that fits a result row, not rich's 80-column default.
console = Console() if sys.stdout.isatty() else Console(width=120)
errors = Console(stderr=True)

_INTERNAL_FIELDS = {Job: {"version"}}  # bookkeeping of the server, meaningless to a reader
# Job options go out under their released names (the proto's and the flags', as before issue 23).
_PUBLIC_NAMES = {IndexOptions: PUBLIC_NAMES}


def plain(value):
    """Domain objects as JSON-ready values: dataclasses as objects with every field (zeros
    included), enums by value, fractions as "num/den", times as ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        hidden = _INTERNAL_FIELDS.get(type(value), set())
        names = _PUBLIC_NAMES.get(type(value), {})
        return {
            names.get(f.name, f.name): plain(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in hidden
        }
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return value


def video_json(video: VideoRecord) -> dict:
    """A video: its fields, ``path`` (the primary file) and every location; the frame rate
    as a number and as the exact fraction's integers."""
    out = {"path": video.uri, **plain(video)}
    out.update(fps=float(video.fps), fps_numerator=video.fps.numerator, fps_denominator=video.fps.denominator)
    return out


def span_json(span: SceneRecord | MomentRecord) -> dict:
    """A scene or moment, with HH:MM:SS.mmm timecodes of its stored presentation times (not
    frame / average frame rate, which is wrong for variable-frame-rate video)."""
    out = plain(span)
    out["start_timecode"] = format_seconds(span.start_seconds)
    out["end_timecode"] = format_seconds(span.end_seconds)
    return out


def hit_json(hit: MomentHit, video: VideoRecord | None) -> dict:
    """A matching moment with its scene, its video's id and path."""
    return {
        "video_id": hit.video_id,
        "path": video.uri if video else "",
        "score": hit.score,
        "relevance": hit.relevance,  # the score on the model's calibrated 0..1 scale
        "scene": span_json(hit.scene),
        "moment": span_json(hit.moment) if hit.moment else None,
        "open_uri": hit.open_uri,  # opens the file at the moment (file:///...#t=START)
        "explanation": plain(hit.explanation) if hit.explanation else None,
        "matched_kinds": list(hit.matched_kinds),  # seen, said, written
        "fused_score": hit.fused_score,
        "text_matches": [text_match_json(match) for match in hit.text_matches],
    }


def text_span_json(span: TextSpan) -> dict:
    """A said or written span with timecodes of its own times."""
    return {
        **plain(span),
        "start_timecode": format_seconds(span.start_seconds),
        "end_timecode": format_seconds(span.end_seconds),
    }


def text_match_json(match: TextMatch) -> dict:
    """A matched span: the span, its highlights ([start, end) code points) and the text with
    the highlights in [brackets]."""
    return {
        **text_span_json(match.span),
        "highlights": [list(r) for r in match.highlights],
        "marked_text": match.marked(),
        "score": match.score,
    }


def marked_line(match: TextMatch) -> str:
    """One line for a table: kind, the span's times and its text, the matched words in bold."""
    from rich.markup import escape

    text = match.marked("\x00", "\x01")
    text = escape(text).replace("\x00", "[bold yellow]").replace("\x01", "[/]")
    return f"{match.span.kind} {match.span.start_seconds:.2f}–{match.span.end_seconds:.2f}s: {text}"


def video_hit_json(hit: VideoHit) -> dict:
    return {
        "video": video_json(hit.video),
        "score": hit.score,
        "relevance": hit.relevance,
        # With said or written searched: its best moment's fused score, which ordered the videos.
        "fused_score": hit.scenes[0].fused_score if hit.scenes else 0.0,
        "scenes": [hit_json(s, hit.video) for s in hit.scenes],
    }


def print_json(value) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False))  # Chinese queries and file names stay readable


def state_word(job: Job) -> str:
    return job.state.value


def short_path(path: str, width: int = 60) -> str:
    """``path`` cut from the left to about ``width`` characters, keeping the whole file name
    and as many of its folders as fit: '…/videos/2024/demo_000.mp4'."""
    if len(path) <= width:
        return path
    parts = PurePath(path).parts
    tail = parts[-1]
    for part in reversed(parts[:-1]):
        if len(part) + 1 + len(tail) + 2 > width:
            break
        tail = f"{part}/{tail}"
    return "…/" + tail


def distinct_suffixes(paths: list[str]) -> dict[str, str]:
    """For each path, its shortest tail of whole components that no other path shares, so
    two files named demo_000.mp4 read 'a/demo_000.mp4' and 'b/demo_000.mp4'."""
    unique = list(dict.fromkeys(paths))
    out = {}
    for path in unique:
        parts = PurePath(path).parts
        for n in range(1, len(parts) + 1):
            tail = parts[-n:]
            if not any(PurePath(other).parts[-n:] == tail for other in unique if other != path):
                break
        out[path] = str(PurePath(*tail))
    return out
