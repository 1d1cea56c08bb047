"""What the Indexer reads of a video's words: timed text spans, said or written.

A span is one subtitle or transcript cue (said) or one piece of on-screen text over the frames
that show it (written), with its time range in seconds from the video's start, its language
(BCP-47, "" when unknown), where it was read from, and for written text its box on screen as
fractions of the picture. The Searcher stores them with the video (``TextSpan`` in video.proto);
the Indexer's readers (videosearch.indexer.text.*) make them as the Searcher's own domain
type (videosearch.searcher.types.TextSpan: kind "said" / "written", source "subtitle_stream",
"sidecar", "speech" or "ocr").
"""

from __future__ import annotations

import math
from dataclasses import replace

from videosearch.searcher.types import TextBox, TextSpan  # noqa: F401  (the Searcher's domain type, re-exported)


class TextWarnings:
    """Per-video warnings of the text readers: what could not be read and why, in words that
    say what to do. The job reports them; the video is indexed without that text."""

    MAX_KEPT = 20  # a file with thousands of bad cues says so once per kind, not thousands of times

    def __init__(self) -> None:
        self.messages: list[str] = []
        self._dropped = 0

    def add(self, message: str) -> None:
        if message in self.messages:
            return
        if len(self.messages) < self.MAX_KEPT:
            self.messages.append(message)
        else:
            self._dropped += 1

    def all(self) -> list[str]:
        more = [f"... and {self._dropped} more warnings"] if self._dropped else []
        return [*self.messages, *more]


def clean_spans(
    spans: list[TextSpan], duration_seconds: float, *, max_spans: int, max_chars: int, warnings: TextWarnings, what: str
) -> list[TextSpan]:
    """Spans a Searcher will take: times finite and inside the video (a cue that starts after
    the end is dropped, one that runs past it is cut), text stripped and at most ``max_chars``
    characters, empty ones dropped, ordered by start time, at most ``max_spans``. Each kind
    of repair is reported once in ``warnings``, naming ``what`` (the file or stream)."""
    kept: list[TextSpan] = []
    outside = cut = long = 0
    out_of_order = any(b.start_seconds < a.start_seconds for a, b in zip(spans, spans[1:]))
    for span in spans:
        start, end = span.start_seconds, span.end_seconds
        if not (math.isfinite(start) and math.isfinite(end)):
            outside += 1
            continue
        start = max(0.0, start)
        end = max(start, end)
        if duration_seconds > 0:
            if start >= duration_seconds:
                outside += 1
                continue
            if end > duration_seconds:
                end, cut = duration_seconds, cut + 1
        text = " ".join(span.text.replace("\x00", "").split())
        if not text:
            continue
        if len(text) > max_chars:
            text, long = text[:max_chars], long + 1
        kept.append(replace(span, start_seconds=start, end_seconds=end, text=text))
    kept.sort(key=lambda s: (s.start_seconds, s.end_seconds))
    if out_of_order:
        warnings.add(f"{what}: cues were out of time order; they were sorted")
    if outside:
        warnings.add(
            f"{what}: {outside} cue(s) lie outside the video's {duration_seconds:.1f} s and were dropped; "
            "check that the subtitles belong to this video (or shift their times)"
        )
    if cut:
        warnings.add(f"{what}: {cut} cue(s) ran past the video's end and were cut at it")
    if long:
        warnings.add(f"{what}: {long} cue(s) longer than {max_chars:,} characters were cut to it")
    if len(kept) > max_spans:
        warnings.add(
            f"{what}: {len(kept):,} cues, over the limit of {max_spans:,} per video; the first "
            f"{max_spans:,} were kept (setting --max-text-spans)"
        )
        kept = kept[:max_spans]
    return kept
